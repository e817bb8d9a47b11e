#!/usr/bin/env node
// The browser rows of `cargo xtask bench` (xtask/src/bench.rs): the wasm
// light client from www/pkg in headless Chromium (Debian's /usr/bin/chromium
// driven by playwright-core), against a regtest node started here.
//
//   node bench/web.mjs --node-bin PATH --www DIR --headers FILE --out FILE
//                      [--quick] [--only size,verify,keys,balance,sync]
//
// --headers is a file of raw 128-byte regtest headers from block 1
// (`bench_headers generate regtest 100000 FILE`, tests/src/bin). Measures,
// in this order (each section on its own; a failure is recorded under
// "errors" and the others still run):
//   web/wasm_gzip           bytes of www/pkg/blockchain_webclient_bg.wasm.gz
//   web/verify_headers      verifyHeaders('regtest', file) in the page: median of runs
//   web/keygen              Wallet.create('regtest', pw)            } interleaved in one
//   web/keygen_webcrypto    the same WebCrypto calls, bare          } page, medians
//   web/unlock              Wallet.fromKeystore(keystore, pw)       }
//   web/unlock_webcrypto    the same WebCrypto calls, bare          }
//   (the node mines 10,000 blocks to the wallet made above)
//   web/balance_cold        navigation start → getAccount(address).verified,
//                           fresh browser profile (no cache, no IndexedDB)
//   web/balance_reload      the same after a reload (headers from IndexedDB)
//   (the node mines up to 100,000 blocks)
//   web/sync_headers        LightClient.start → waitForSync over WebSocket,
//                           fresh profile (headers verified and stored in
//                           IndexedDB); long tasks (> 50 ms) seen meanwhile
//   web/sync_headers_memory the same with {persist: false} (no IndexedDB)
// The pages are the node's own: it serves bench.html, bench.js and the
// header batch from a scratch copy of its web directory (below).
// Writes {chromium, rows: {id: {median_ns, elements, runs, samples_ns} |
// {bytes} | {count}}, errors: {id: message}} to --out. Logs go to stderr.
import { spawn } from 'node:child_process'
import { cp, mkdtemp, rm, stat, writeFile } from 'node:fs/promises'
import { createWriteStream, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { chromium } from 'playwright-core'

const LAUNCH_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync']
const NETWORK = 'regtest'
const PASSWORD = 'correct horse battery staple'
const BALANCE_CHAIN = 10_000
const SYNC_CHAIN = 100_000
const MINE_PER_CALL = 1000 // MAX_BLOCKS_PER_REQUEST in fullnode/src/api/mining.rs

function parseArgs (argv) {
  const options = { quick: false, only: null }
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]
    if (arg === '--quick') options.quick = true
    else if (arg === '--only') options.only = new Set(argv[++i].split(','))
    else if (['--node-bin', '--www', '--headers', '--out'].includes(arg)) options[arg.slice(2)] = argv[++i]
    else {
      process.stderr.write(`web.mjs: unknown argument ${arg}\n`)
      process.exit(2)
    }
  }
  for (const required of ['node-bin', 'www', 'headers', 'out']) {
    if (!options[required]) {
      process.stderr.write('usage: node bench/web.mjs --node-bin PATH --www DIR --headers FILE --out FILE [--quick] [--only size,verify,keys,balance,sync]\n')
      process.exit(2)
    }
  }
  return options
}

const options = parseArgs(process.argv.slice(2))
const runs = options.quick
  ? { verify: 3, keygen: 7, unlock: 5, balance: 2, sync: 1 }
  : { verify: 7, keygen: 50, unlock: 30, balance: 5, sync: 3 }
const t0 = Date.now()
const log = (s) => process.stderr.write(`[web bench ${((Date.now() - t0) / 1000).toFixed(1)} s] ${s}\n`)
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]
const timed = (samplesMs, elements) => ({
  median_ns: median(samplesMs) * 1e6,
  elements,
  runs: samplesMs.length,
  samples_ns: samplesMs.map(ms => Math.round(ms * 1e6))
})

const out = { chromium: null, rows: {}, errors: {} }
const scratch = await mkdtemp(join(tmpdir(), 'web-bench-'))

// ---------------------------------------------------------------- the node

async function startNode () {
  const dataDir = join(scratch, 'node')
  const logPath = join(scratch, 'node.log')
  const logFile = createWriteStream(logPath)
  await new Promise(resolve => logFile.on('open', resolve))
  const child = spawn(options['node-bin'], [
    '--network', NETWORK, '--data-dir', dataDir, '--http', '127.0.0.1:0',
    '--listen', '/ip4/127.0.0.1/tcp/0/ws', '--www', await makeWww()
  ], { stdio: ['ignore', logFile, logFile] })
  const exited = new Promise(resolve => child.on('exit', (code, signal) => resolve({ code, signal })))
  const deadline = Date.now() + 60_000
  let base = null
  while (!base) {
    const text = readFileSync(logPath, 'utf8')
    const match = text.match(/HTTP API listening on (http:\/\/[0-9.:]+)/)
    if (match) base = match[1]
    else if (child.exitCode !== null || Date.now() > deadline) {
      throw new Error(`the node did not start (exit ${child.exitCode}); log:\n${text}`)
    } else await new Promise(resolve => setTimeout(resolve, 50))
  }
  const status = await (await fetch(base + '/api/v1/status')).json()
  const ws = (status.listen_addrs ?? []).find(a => a.includes('/ws'))
  if (!ws) throw new Error(`no /ws address in ${JSON.stringify(status)}`)
  return {
    base,
    ws,
    logPath,
    // The node's cookie token (written before it listens) opens /mining/blocks.
    token: readFileSync(join(dataDir, 'api.cookie'), 'utf8').trim(),
    async stop () {
      if (child.exitCode === null) child.kill('SIGTERM')
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000)
      await exited
      clearTimeout(timer)
      logFile.end()
    }
  }
}

async function height (node) {
  const status = await (await fetch(node.base + '/api/v1/status')).json()
  return status.height
}

/** Mines until the node's tip is at `target`; returns the time it took. */
async function mineTo (node, address, target) {
  const started = Date.now()
  let tip = await height(node)
  while (tip < target) {
    const count = Math.min(MINE_PER_CALL, target - tip)
    const res = await fetch(node.base + '/api/v1/mining/blocks', {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${node.token}` },
      body: JSON.stringify({ miner_address: address, count })
    })
    if (res.status !== 201) throw new Error(`mining: ${res.status} ${await res.text()}`)
    await res.arrayBuffer()
    tip = await height(node)
    if (tip % 10_000 < MINE_PER_CALL) log(`node at height ${tip}`)
  }
  return Date.now() - started
}

// ---------------------------------------------------------------- pages

// The pages are served by the node itself, as the web app is: it runs with
// --www set to a scratch copy of www/pkg plus bench.html, bench.js (below)
// and the header batch, so the page, the package and the WebSocket are all
// of the node's origin and address, under the node's own headers
// (Content-Security-Policy, compression, caching).
const BENCH_HTML = `<!doctype html>
<meta charset="utf-8">
<title>web bench</title>
<link rel="icon" href="data:,">
<p id="balance">…</p>
<script type="module" src="/bench.js"></script>
`
const BENCH_JS = `window.__longTasks = []
new PerformanceObserver(list => {
  for (const e of list.getEntries()) window.__longTasks.push({ start: e.startTime, duration: e.duration })
}).observe({ type: 'longtask', buffered: true })
const params = new URLSearchParams(location.search)
const bc = await import('/pkg/blockchain_webclient.js')
await bc.default()
window.__bc = bc
// ?ws=…&address=…: page load to a verified balance on screen.
if (params.has('address')) {
  try {
    const client = await bc.LightClient.start({ network: '${NETWORK}', bootstrap: [params.get('ws')] })
    window.__client = client
    await client.waitForSync(60000)
    const account = await client.getAccount(params.get('address'))
    if (!account.verified) throw new Error('the balance is not verified')
    document.getElementById('balance').textContent = String(account.balance)
    window.__balance = { ms: performance.now(), height: account.height, balance: account.balance }
  } catch (error) {
    window.__balance = { error: String(error.code ?? '') + ' ' + String(error.message ?? error) }
  }
}
window.__ready = true
`

async function makeWww () {
  const www = join(scratch, 'www')
  await cp(join(options.www, 'pkg'), join(www, 'pkg'), { recursive: true })
  await cp(options.headers, join(www, 'headers.bin'))
  await writeFile(join(www, 'bench.html'), BENCH_HTML)
  await writeFile(join(www, 'bench.js'), BENCH_JS)
  return www
}

async function launch () {
  const profile = await mkdtemp(join(scratch, 'profile-'))
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    headless: true,
    args: LAUNCH_ARGS
  })
  return {
    context,
    async close () {
      await context.close()
      await rm(profile, { recursive: true, force: true })
    }
  }
}

async function openBenchPage (context, node, query = '') {
  const page = await context.newPage()
  page.on('console', m => { if (m.type() === 'error' || process.env.HARNESS_VERBOSE) log(`page: ${m.text()}`) })
  page.on('pageerror', e => log(`page error: ${e}`))
  await page.goto(`${node.base}/bench.html${query}`)
  await page.waitForFunction(() => window.__ready === true, null, { timeout: 120_000 })
  return page
}

/** Runs one section (unless --only leaves it out); a failure is recorded and the next section runs. */
async function section (name, ids, fn) {
  if (options.only && !options.only.has(name)) return
  try {
    await fn()
  } catch (error) {
    log(`${ids.join(', ')} failed: ${error.stack ?? error}`)
    for (const id of ids) out.errors[id] = String(error.message ?? error).split('\n')[0]
  }
}

// ---------------------------------------------------------------- sections

async function wasmSize () {
  const gz = join(options.www, 'pkg', 'blockchain_webclient_bg.wasm.gz')
  const raw = join(options.www, 'pkg', 'blockchain_webclient_bg.wasm')
  out.rows['web/wasm_gzip'] = { bytes: (await stat(gz)).size, raw_bytes: (await stat(raw)).size }
  log(`wasm: ${out.rows['web/wasm_gzip'].raw_bytes} bytes, ${out.rows['web/wasm_gzip'].bytes} gzip`)
}

async function verifyHeaders (page) {
  const result = await page.evaluate(async ([network, runs]) => {
    const raw = new Uint8Array(await (await fetch('/headers.bin')).arrayBuffer())
    const count = window.__bc.verifyHeaders(network, raw) // warm-up
    const samples = []
    for (let i = 0; i < runs; i++) {
      const start = performance.now()
      const n = window.__bc.verifyHeaders(network, raw)
      samples.push(performance.now() - start)
      if (n !== count) throw new Error(`verified ${n}, then ${count}`)
      await new Promise(resolve => setTimeout(resolve, 0))
    }
    return { count, samples }
  }, [NETWORK, runs.verify])
  out.rows['web/verify_headers'] = timed(result.samples, result.count)
  log(`verifyHeaders: ${result.count} headers, median ${median(result.samples).toFixed(1)} ms`)
}

/** Wallet.create / fromKeystore against the same WebCrypto calls made bare, interleaved. */
async function keys (page) {
  const result = await page.evaluate(async ([network, password, keygenRuns, unlockRuns]) => {
    const subtle = crypto.subtle
    const text = new TextEncoder()
    const rsa = { name: 'RSA-PSS', hash: 'SHA-256' }
    async function aesKey (salt) {
      const base = await subtle.importKey('raw', text.encode(password), 'PBKDF2', false, ['deriveKey'])
      return subtle.deriveKey({ name: 'PBKDF2', hash: 'SHA-256', salt, iterations: 600000 },
        base, { name: 'AES-GCM', length: 256 }, false, ['encrypt', 'decrypt'])
    }
    // What keys::create_with_webcrypto asks of WebCrypto (webclient/src/keys.rs).
    async function bareCreate () {
      const pair = await subtle.generateKey({ ...rsa, modulusLength: 3072, publicExponent: new Uint8Array([1, 0, 1]) },
        true, ['sign', 'verify'])
      const spki = await subtle.exportKey('spki', pair.publicKey)
      const pkcs8 = await subtle.exportKey('pkcs8', pair.privateKey)
      const salt = crypto.getRandomValues(new Uint8Array(16))
      const iv = crypto.getRandomValues(new Uint8Array(12))
      const ciphertext = await subtle.encrypt({ name: 'AES-GCM', iv }, await aesKey(salt), pkcs8)
      await subtle.importKey('pkcs8', pkcs8, rsa, false, ['sign'])
      return { spki, salt, iv, ciphertext }
    }
    // What keys::open asks of WebCrypto.
    async function bareOpen ({ salt, iv, ciphertext }) {
      const pkcs8 = await subtle.decrypt({ name: 'AES-GCM', iv }, await aesKey(salt), ciphertext)
      await subtle.importKey('pkcs8', pkcs8, rsa, false, ['sign'])
    }
    const time = async (fn) => { const start = performance.now(); const value = await fn(); return [performance.now() - start, value] }
    const keygen = []
    const keygenBare = []
    let wallet = null
    let sealed = null
    // Warm-up: the first call of each pays for lazy initialisation.
    wallet = await bc().Wallet.create(network, password)
    sealed = await bareCreate()
    for (let i = 0; i < keygenRuns; i++) {
      // Alternate which goes first, so drift hits both alike.
      const order = i % 2 === 0 ? ['wasm', 'bare'] : ['bare', 'wasm']
      for (const which of order) {
        if (which === 'wasm') {
          const [ms, w] = await time(() => bc().Wallet.create(network, password))
          keygen.push(ms); w.free()
        } else {
          keygenBare.push((await time(bareCreate))[0])
        }
      }
    }
    const keystore = wallet.keystore()
    const address = wallet.address
    const unlock = []
    const unlockBare = []
    for (let i = 0; i < unlockRuns; i++) {
      const order = i % 2 === 0 ? ['wasm', 'bare'] : ['bare', 'wasm']
      for (const which of order) {
        if (which === 'wasm') {
          const [ms, w] = await time(() => bc().Wallet.fromKeystore(keystore, password))
          if (w.address !== address) throw new Error('fromKeystore gave another address')
          unlock.push(ms); w.free()
        } else {
          unlockBare.push((await time(() => bareOpen(sealed)))[0])
        }
      }
    }
    return { keygen, keygenBare, unlock, unlockBare, address, backend: wallet.backend }
    function bc () { return window.__bc }
  }, [NETWORK, PASSWORD, runs.keygen, runs.unlock])
  if (result.backend !== 'webcrypto') throw new Error(`the wallet used ${result.backend}, not WebCrypto`)
  out.rows['web/keygen'] = timed(result.keygen, 1)
  out.rows['web/keygen_webcrypto'] = timed(result.keygenBare, 1)
  out.rows['web/unlock'] = timed(result.unlock, 1)
  out.rows['web/unlock_webcrypto'] = timed(result.unlockBare, 1)
  log(`keygen median ${median(result.keygen).toFixed(0)} ms (bare ${median(result.keygenBare).toFixed(0)} ms), ` +
    `unlock ${median(result.unlock).toFixed(0)} ms (bare ${median(result.unlockBare).toFixed(0)} ms)`)
  return result.address
}

/** Navigation start to a verified balance: fresh profile, then a reload. */
async function balance (node, address) {
  const cold = []
  const reload = []
  const query = `?ws=${encodeURIComponent(node.ws)}&address=${encodeURIComponent(address)}`
  const read = async (page) => {
    await page.waitForFunction(() => window.__balance !== undefined, null, { timeout: 120_000 })
    const result = await page.evaluate(() => window.__balance)
    if (result.error) throw new Error(`page: ${result.error}`)
    if (result.height < BALANCE_CHAIN || !(result.balance > 0)) throw new Error(`unexpected balance ${JSON.stringify(result)}`)
    return result.ms
  }
  for (let i = 0; i < runs.balance; i++) {
    const browser = await launch()
    try {
      const page = await openBenchPage(browser.context, node, query)
      cold.push(await read(page))
      await page.evaluate(() => window.__client.stop())
      await page.reload()
      await page.waitForFunction(() => window.__ready === true, null, { timeout: 120_000 })
      reload.push(await read(page))
      await page.evaluate(() => window.__client.stop())
    } finally {
      await browser.close()
    }
    log(`balance: cold ${cold.at(-1).toFixed(0)} ms, reload ${reload.at(-1).toFixed(0)} ms`)
  }
  out.rows['web/balance_cold'] = timed(cold, 1)
  out.rows['web/balance_reload'] = timed(reload, 1)
}

/** One LightClient.start → waitForSync from a fresh profile, with its long tasks. */
async function syncOnce (node, persist) {
  const browser = await launch()
  try {
    const page = await openBenchPage(browser.context, node)
    const result = await page.evaluate(async ([network, ws, persist]) => {
      const start = performance.now()
      const client = await window.__bc.LightClient.start({ network, bootstrap: [ws], persist })
      const tip = await client.waitForSync(600000)
      const ms = performance.now() - start
      // Long tasks are reported after they end: give the last one a moment.
      await new Promise(resolve => setTimeout(resolve, 200))
      await client.stop()
      const tasks = window.__longTasks
        .filter(t => t.start + t.duration >= start && t.start <= start + ms)
        .map(t => [Math.round(t.start - start), Math.round(t.duration)])
      return { ms, height: tip.height, tasks }
    }, [NETWORK, node.ws, persist])
    log(`sync${persist ? '' : ' (persist: false)'}: ${result.height} headers in ${result.ms.toFixed(0)} ms, ` +
      `${result.tasks.length} long tasks${result.tasks.length ? ` (longest ${Math.max(...result.tasks.map(t => t[1]))} ms)` : ''}`)
    return result
  } finally {
    await browser.close()
  }
}

/** The synced-and-stored runs (the target), then the same without IndexedDB. */
async function sync (node) {
  const stored = []
  for (let i = 0; i < runs.sync; i++) stored.push(await syncOnce(node, true))
  out.rows['web/sync_headers'] = timed(stored.map(r => r.ms), stored[0].height)
  const longTasks = stored.flatMap(r => r.tasks.map(t => t[1]))
  out.rows['web/sync_long_tasks'] = {
    count: longTasks.length,
    runs: stored.length,
    longest_ms: longTasks.length ? Math.max(...longTasks) : 0,
    // per run: [ms after LightClient.start, duration ms] of each long task
    tasks: stored.map(r => r.tasks)
  }
  // How much of it is IndexedDB: the same sync held in memory only.
  const memory = []
  for (let i = 0; i < runs.sync; i++) memory.push(await syncOnce(node, false))
  out.rows['web/sync_headers_memory'] = {
    ...timed(memory.map(r => r.ms), memory[0].height),
    long_tasks: memory.map(r => r.tasks)
  }
}

// ---------------------------------------------------------------- main

let node = null
try {
  await section('size', ['web/wasm_gzip'], wasmSize)
  node = await startNode()
  log(`node at ${node.base}, ${node.ws}`)
  let address = null
  const browser = await launch()
  try {
    out.chromium = browser.context.browser()?.version() ?? null
    const page = await openBenchPage(browser.context, node)
    await section('verify', ['web/verify_headers'], () => verifyHeaders(page))
    await section('keys', ['web/keygen', 'web/keygen_webcrypto', 'web/unlock', 'web/unlock_webcrypto'], async () => {
      address = await keys(page)
    })
    if (!address) {
      // The balance rows still need an address with coins.
      address = await page.evaluate(async ([network, password]) =>
        (await window.__bc.Wallet.create(network, password)).address, [NETWORK, PASSWORD])
    }
  } finally {
    await browser.close()
  }
  await section('balance', ['web/balance_cold', 'web/balance_reload'], async () => {
    log(`mining ${BALANCE_CHAIN} blocks to ${address}`)
    const ms = await mineTo(node, address, BALANCE_CHAIN)
    log(`mined in ${(ms / 1000).toFixed(1)} s`)
    await balance(node, address)
  })
  await section('sync', ['web/sync_headers', 'web/sync_long_tasks', 'web/sync_headers_memory'], async () => {
    log(`mining up to ${SYNC_CHAIN} blocks`)
    const ms = await mineTo(node, address, SYNC_CHAIN)
    log(`mined in ${(ms / 1000).toFixed(1)} s`)
    await sync(node)
  })
} catch (error) {
  log(`failed: ${error.stack ?? error}`)
  out.errors.web = String(error.message ?? error).split('\n')[0]
} finally {
  if (node) await node.stop()
  await rm(scratch, { recursive: true, force: true })
}
await writeFile(options.out, JSON.stringify(out, null, 1) + '\n')
log(`wrote ${options.out}`)
