// The Web Worker of pages without WebCrypto (plain http from a LAN address):
// RSA-3072 key generation, PBKDF2 and AES-GCM run here in the core's Rust
// code, off the page's main thread. `cargo xtask build-web` copies this file
// next to blockchain_webclient.js; the page starts it (webclient/js/worker.js).
import init, { keyWorkerCreate, keyWorkerOpen } from './blockchain_webclient.js'

const ready = init()

self.onmessage = async (event) => {
  const { id, op, network, password, keystore } = event.data
  const progress = (stage) => self.postMessage({ id, progress: stage })
  try {
    await ready
    const result = op === 'create'
      ? keyWorkerCreate(network, password, progress)
      : keyWorkerOpen(keystore, password, progress)
    self.postMessage({ id, result })
  } catch (error) {
    self.postMessage({ id, error: { code: error.code ?? 'INTERNAL', message: String(error.message ?? error) } })
  }
}
