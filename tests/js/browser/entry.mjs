// Browser side of browser-peer.mjs, bundled by esbuild into dist/peer.js.
// Reads the target from the page URL (?addr=…&network=…&timeout=…) and
// reports each step through window.harnessEmit (exposed by playwright).
import { webRTCDirect } from '@libp2p/webrtc'
import { webSockets } from '@libp2p/websockets'
import { runPeer } from '../lib/peer.mjs'

const params = new URLSearchParams(location.search)
const addr = params.get('addr')
const network = params.get('network')
const timeoutMs = Number(params.get('timeout') ?? '60000')

const emit = (obj) => {
  if (typeof window.harnessEmit === 'function') window.harnessEmit(obj)
  else console.log('harness:', JSON.stringify(obj))
}

const controller = new AbortController()
setTimeout(() => controller.abort(new Error(`timeout after ${timeoutMs} ms (in the page)`)), timeoutMs)

emit({ event: 'page_ready', user_agent: navigator.userAgent })
runPeer({ transports: [webRTCDirect(), webSockets()], addr, network, emit, signal: controller.signal })
  .then(() => emit({ event: 'done' }))
  .catch((err) => emit({
    event: 'error',
    message: err?.message ?? String(err),
    ...(err?.name != null && err.name !== 'Error' ? { name: err.name } : {})
  }))
