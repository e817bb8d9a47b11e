#!/usr/bin/env -S node --experimental-websocket
// Self-test of the harness without the Rust node: a js-libp2p listener on
// WebSocket and WebRTC-direct (127.0.0.1) that publishes a fake "block"
// (random bytes) on /blockchain/<network>/blocks/1 every second, and the
// harness scripts run against it.
//
//   node --experimental-websocket selftest.mjs            run the peers against it, print "N passed, N failed"
//   node --experimental-websocket selftest.mjs listen     only the listener (prints its addresses), until Ctrl-C
//   options: --network NAME (default selftest), --only ws,webrtc,browser, --timeout MS (per peer, default 60000)
import './lib/polyfill.mjs'
import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { fileURLToPath } from 'node:url'
import { dirname, join } from 'node:path'
import { createLibp2p } from 'libp2p'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { identify } from '@libp2p/identify'
import { ping } from '@libp2p/ping'
import { gossipsub } from '@libp2p/gossipsub'
import { webSockets } from '@libp2p/websockets'
import { webRTCDirect } from '@libp2p/webrtc'
import { blocksTopic, transactionsTopic, gossipsubOptions } from './lib/peer.mjs'

const here = dirname(fileURLToPath(import.meta.url))
const args = process.argv.slice(2)
const opt = (name, dflt) => {
  const i = args.indexOf(name)
  return i >= 0 ? args[i + 1] : dflt
}
const mode = args[0] === 'listen' ? 'listen' : 'test'
const network = opt('--network', 'selftest')
const only = opt('--only', 'ws,webrtc,browser').split(',')
const timeoutMs = Number(opt('--timeout', '60000'))
const log = (...a) => process.stderr.write(`[selftest] ${a.join(' ')}\n`)

const node = await createLibp2p({
  addresses: {
    listen: ['/ip4/127.0.0.1/tcp/0/ws', '/ip4/127.0.0.1/udp/0/webrtc-direct']
  },
  transports: [webSockets(), webRTCDirect()],
  connectionEncrypters: [noise()],
  streamMuxers: [yamux()],
  services: {
    identify: identify({ agentVersion: 'blockchain-js-selftest/0.0.0' }),
    ping: ping(),
    pubsub: gossipsub(gossipsubOptions())
  }
})
await node.start()
const topic = blocksTopic(network)
node.services.pubsub.subscribe(topic)
node.services.pubsub.subscribe(transactionsTopic(network))
const addrs = node.getMultiaddrs().map(a => a.toString())
log('listening', JSON.stringify(addrs))
node.addEventListener('peer:connect', ev => log('peer connected', ev.detail.toString()))

let n = 0
const publisher = setInterval(() => {
  const block = new Uint8Array([0xb1, 0x0c, ...randomBytes(30)])
  n++
  node.services.pubsub.publish(topic, block).then(
    r => { if (r.recipients.length > 0) log(`published block #${n} to ${r.recipients.length} peer(s)`) },
    err => log('publish failed:', err.message)
  )
}, 1000)

async function shutdown (code) {
  clearInterval(publisher)
  await Promise.race([node.stop(), new Promise(resolve => setTimeout(resolve, 2000))])
  process.exit(code)
}
process.on('SIGINT', () => shutdown(130))
process.on('SIGTERM', () => shutdown(143))

if (mode === 'listen') {
  process.stdout.write(JSON.stringify({ peer_id: node.peerId.toString(), listen_addrs: addrs }) + '\n')
} else {
  const wsAddr = addrs.find(a => a.includes('/ws/'))
  const rtcAddr = addrs.find(a => a.includes('/webrtc-direct/'))
  const cases = [
    ['ws', 'ws-peer.mjs', wsAddr],
    ['webrtc', 'webrtc-peer.mjs', rtcAddr],
    ['browser', 'browser-peer.mjs', rtcAddr]
  ].filter(([name]) => only.includes(name))
  let passed = 0
  let failed = 0
  for (const [name, script, addr] of cases) {
    const { code, events } = await runScript(script, addr)
    const seq = events.map(e => e.event)
    const need = ['connected', 'identified', 'subscribed', 'block']
    const ok = code === 0 && need.every(e => seq.includes(e)) &&
      need.every((e, i) => i === 0 || seq.indexOf(need[i - 1]) < seq.indexOf(e)) &&
      events.find(e => e.event === 'connected').peer === node.peerId.toString() &&
      events.find(e => e.event === 'identified').protocols.includes('/meshsub/1.2.0') &&
      /^b10c[0-9a-f]{60}$/.test(events.find(e => e.event === 'block').bytes_hex)
    log(`${ok ? 'PASS' : 'FAIL'} ${name}: exit ${code}, events ${seq.join(' ')}`)
    if (ok) passed++
    else failed++
  }
  process.stdout.write(`${passed} passed, ${failed} failed\n`)
  await shutdown(failed === 0 ? 0 : 1)
}

function runScript (script, addr) {
  return new Promise((resolve) => {
    log(`running ${script} ${addr} ${network}`)
    const child = spawn(process.execPath, ['--experimental-websocket', join(here, script), addr, network, String(timeoutMs)],
      { stdio: ['ignore', 'pipe', 'inherit'] })
    let out = ''
    child.stdout.on('data', d => {
      out += d
      process.stderr.write(String(d).replace(/^(?=.)/gm, `  ${script}> `))
    })
    child.on('close', (code) => {
      const events = out.split('\n').filter(Boolean).flatMap(l => { try { return [JSON.parse(l)] } catch { return [] } })
      resolve({ code, events })
    })
  })
}
