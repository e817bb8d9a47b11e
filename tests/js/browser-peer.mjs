#!/usr/bin/env -S node --experimental-websocket
// js-libp2p peer in headless Chromium (the browser's own RTCPeerConnection)
// over WebRTC-direct (a /ws multiaddr works too): bundles browser/entry.mjs
// with esbuild into dist/, serves it from 127.0.0.1, drives /usr/bin/chromium
// through playwright-core, and prints the page's steps as JSON lines:
// connected, identified, subscribed, block → exit 0.
//   node --experimental-websocket browser-peer.mjs <multiaddr> <network> [timeout_ms]
// Env: CHROMIUM (default /usr/bin/chromium); CHROMIUM_ARGS (extra
// space-separated flags); DEBUG (e.g. 'libp2p:webrtc*',
// passed to the page's localStorage.debug, its console goes to stderr);
// HARNESS_VERBOSE=1 also forwards all page console output to stderr.
import './lib/polyfill.mjs'
import { createServer } from 'node:http'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { build } from 'esbuild'
import { chromium } from 'playwright-core'
import { emit, main, parseArgs } from './lib/cli.mjs'

const here = dirname(fileURLToPath(import.meta.url))
const { addr, network, timeoutMs } = parseArgs(process.argv.slice(2), 'browser-peer.mjs')
const executablePath = process.env.CHROMIUM ?? '/usr/bin/chromium'
const verbose = process.env.HARNESS_VERBOSE === '1' || process.env.DEBUG != null
const log = (s) => process.stderr.write(`[browser-peer] ${s}\n`)

const INDEX = '<!doctype html><meta charset="utf-8"><title>js-libp2p interop peer</title><script type="module" src="/peer.js"></script>\n'

async function bundle () {
  const outfile = join(here, 'dist', 'peer.js')
  await build({
    entryPoints: [join(here, 'browser', 'entry.mjs')],
    outfile,
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    logLevel: 'warning',
    define: { 'process.env.NODE_ENV': '"production"', global: 'globalThis' }
  })
  return outfile
}

function serve (js) {
  const server = createServer((req, res) => {
    const path = new URL(req.url, 'http://x').pathname
    if (path === '/' || path === '/index.html') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(INDEX)
    } else if (path === '/peer.js') {
      res.writeHead(200, { 'content-type': 'text/javascript; charset=utf-8' }).end(js)
    } else if (path === '/favicon.ico') {
      res.writeHead(204).end()
    } else {
      res.writeHead(404).end()
    }
  })
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => resolve(server))
  })
}

await main(timeoutMs + 10_000, async (signal) => {
  const t0 = Date.now()
  const js = await readFile(await bundle())
  log(`bundled dist/peer.js (${js.length} bytes) in ${Date.now() - t0} ms`)
  const server = await serve(js)
  const userDataDir = await mkdtemp(join(tmpdir(), 'browser-peer-'))
  let context
  try {
    context = await chromium.launchPersistentContext(userDataDir, {
      executablePath,
      headless: true,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-dev-shm-usage',
        '--no-first-run',
        '--no-default-browser-check',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--disable-extensions',
        // ICE: let WebRTC use the loopback interface (without it the
        // WebRTC-direct dial times out where lo is the only interface, e.g.
        // in a fresh network namespace) and plain host candidates (no mDNS)
        '--allow-loopback-in-peer-connection',
        '--disable-features=WebRtcHideLocalIpsWithMdns',
        ...(process.env.CHROMIUM_ARGS ?? '').split(' ').filter(Boolean)
      ]
    })
    const page = context.pages()[0] ?? await context.newPage()

    let finish
    const done = new Promise((resolve, reject) => { finish = { resolve, reject } })
    signal.addEventListener('abort', () => finish.reject(signal.reason), { once: true })
    await page.exposeFunction('harnessEmit', (ev) => {
      if (ev.event === 'page_ready') { log(`page ready: ${ev.user_agent}`); return }
      if (ev.event === 'done') { finish.resolve(); return }
      if (ev.event === 'error') { finish.reject(Object.assign(new Error(`in the browser: ${ev.message}`), ev.name ? { name: ev.name } : {})); return }
      emit(ev)
    })
    page.on('pageerror', (err) => finish.reject(new Error(`page error: ${err.message}`)))
    page.on('console', (msg) => {
      if (verbose || msg.type() === 'error') process.stderr.write(`[page ${msg.type()}] ${msg.text()}\n`)
    })
    if (process.env.DEBUG != null) {
      await page.addInitScript((d) => { localStorage.setItem('debug', d) }, process.env.DEBUG)
    }

    const { port } = server.address()
    const url = `http://127.0.0.1:${port}/?` + new URLSearchParams({ addr, network, timeout: String(timeoutMs) })
    log(`opening ${url}`)
    await page.goto(url)
    await done
  } finally {
    await Promise.race([context?.close().catch(() => {}), new Promise(resolve => setTimeout(resolve, 5000))])
    server.close()
    await rm(userDataDir, { recursive: true, force: true }).catch(() => {})
  }
})
