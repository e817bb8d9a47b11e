#!/usr/bin/env node
// End to end: the wasm light client (www/pkg, served by a real node) in
// headless Chromium. Creates a wallet in the page, syncs headers from the
// node over WebSocket, has the node mine to the wallet, reads the balance
// through a verified state proof, signs and broadcasts a transaction that
// the node mines, sees the new block by gossip, checks the inclusion proof
// and the block body; then a second page does the same sync over
// WebRTC-direct; then a reload resumes from IndexedDB. Prints one JSON
// object (the figures the Rust test checks) on its last line.
//   node e2e/light-client.mjs <http base> <ws multiaddr> <webrtc multiaddr> <api token>
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { chromium } from 'playwright-core'

const [base, wsAddr, webrtcAddr, token = process.env.API_TOKEN ?? ''] = process.argv.slice(2)
if (!base || !wsAddr || !webrtcAddr) {
  console.error('usage: light-client.mjs <http base> <ws multiaddr> <webrtc multiaddr> [api token]')
  process.exit(2)
}
const t0 = Date.now()
const log = (s) => process.stderr.write(`[light-client e2e ${((Date.now() - t0) / 1000).toFixed(1)} s] ${s}\n`)
const fail = (s) => { throw new Error(s) }

async function api (method, path, body) {
  const headers = { 'content-type': 'application/json' }
  if (token) headers.authorization = `Bearer ${token}`
  const res = await fetch(base + '/api/v1' + path, { method, headers, body: body && JSON.stringify(body) })
  const json = await res.json().catch(() => null)
  if (!res.ok) fail(`${method} ${path}: ${res.status} ${JSON.stringify(json)}`)
  return json
}

async function until (what, fn, timeoutMs = 30000) {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await fn()
    if (value) return value
    if (Date.now() > deadline) fail(`timed out waiting for ${what}`)
    await new Promise(resolve => setTimeout(resolve, 200))
  }
}

// Loads the package into the page and keeps a long-task log.
async function openPage (context) {
  const page = await context.newPage()
  page.on('console', m => { if (m.type() === 'error' || process.env.HARNESS_VERBOSE) log(`page: ${m.text()}`) })
  page.on('pageerror', e => log(`page error: ${e}`))
  // A document of the node's origin that runs no app of its own and has no
  // page Content-Security-Policy (the harness evaluates code in the page).
  await page.goto(base + '/api/v1/status')
  await page.evaluate(async () => {
    window.__longTasks = []
    new PerformanceObserver(list => {
      for (const entry of list.getEntries()) window.__longTasks.push(entry.duration)
    }).observe({ type: 'longtask', buffered: true })
    const module = await import('/pkg/blockchain_webclient.js')
    await module.default()
    window.__bc = module
  })
  return page
}

// Runs fn in the page; a rejected promise comes back as {error: {code, message}}.
async function call (page, fn, arg) {
  return page.evaluate(async ([source, arg]) => {
    try {
      // eslint-disable-next-line no-new-func
      return { ok: await (new Function('bc', 'arg', `return (${source})(bc, arg)`))(window.__bc, arg) }
    } catch (error) {
      return { error: { code: error.code ?? null, message: String(error.message ?? error) } }
    }
  }, [fn.toString(), arg])
}

async function ok (page, fn, arg) {
  const result = await call(page, fn, arg)
  if (result.error) fail(`page call failed: ${JSON.stringify(result.error)}`)
  return result.ok
}

const profile = await mkdtemp(join(tmpdir(), 'light-client-e2e-'))
const context = await chromium.launchPersistentContext(profile, {
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync',
    // A name that is not loopback: a page from it is not a secure context
    // (no crypto.subtle), as a phone on the LAN sees the node.
    '--host-resolver-rules=MAP wallet.test 127.0.0.1']
})
const out = {}
try {
  // 1. A wallet made in the page, and a WebSocket sync.
  const page = await openPage(context)
  const started = Date.now()
  const first = await ok(page, async (bc, ws) => {
    const wallet = await bc.Wallet.create('regtest', 'correct horse battery staple')
    const client = await bc.LightClient.start({ network: 'regtest', bootstrap: [ws] })
    window.__wallet = wallet
    window.__client = client
    window.__tips = []
    client.on('tip', tip => window.__tips.push(tip))
    const tip = await client.waitForSync(30000)
    return { address: wallet.address, keystore: wallet.keystore(), backend: wallet.backend, tip, peers: client.peers() }
  }, wsAddr)
  out.syncMs = Date.now() - started
  out.walletBackend = first.backend
  out.address = first.address
  out.keystore = first.keystore
  out.firstTip = first.tip
  out.peers = first.peers
  log(`synced to ${first.tip.height} over ${first.peers.map(p => p.transport)}`)

  // 2. The node mines to the page's wallet; the page follows by gossip.
  const mined = await api('POST', '/mining/blocks', { miner_address: first.address, count: 3 })
  const nodeHeight = mined.blocks.at(-1).index
  await until('the page to follow the mined blocks', () =>
    page.evaluate(h => window.__client.tip().height >= h, nodeHeight))
  out.tipEvents = await page.evaluate(() => window.__tips.length)
  out.account = await ok(page, (bc, address) => window.__client.getAccount(address), first.address)
  out.restBalance = await api('GET', `/wallet/${first.address}/balance`)

  log(`balance verified: ${out.account.balance}`)
  // 3. Send to a second wallet; the node mines it; the page checks it.
  const sent = await ok(page, async (bc) => {
    const to = await bc.Wallet.create('regtest', 'another password')
    const account = await window.__client.getAccount(window.__wallet.address)
    const tx = await window.__wallet.signTransaction({ recipient: to.address, amount: 150000000, fee: 1000, nonce: account.nonce })
    const txid = await window.__client.broadcast(tx)
    return { txid, tx, to: to.address }
  })
  out.sent = sent
  await until('the node to accept the transaction', async () => {
    const res = await fetch(`${base}/api/v1/transactions/${sent.txid}`)
    return res.ok
  })
  log('transaction accepted by the node')
  const minedTx = await api('POST', '/mining/blocks', { miner_address: first.address, count: 1 })
  const txHeight = minedTx.blocks.at(-1).index
  await until('the page to see the block with the transaction', () =>
    page.evaluate(h => window.__client.tip().height >= h, txHeight))
  out.transaction = await ok(page, (bc, txid) => window.__client.getTransaction(txid), sent.txid)
  out.block = await ok(page, (bc, height) => window.__client.getBlock(height), txHeight)
  out.recipient = await ok(page, (bc, address) => window.__client.getAccount(address), sent.to)
  out.headers = await ok(page, () => window.__client.headers(0, 3))

  log('transaction proven')
  // 4. Errors carry their codes.
  out.errors = {
    wrongPassword: (await call(page, (bc, ks) => bc.Wallet.fromKeystore(ks, 'wrong password'), first.keystore)).error,
    badKeystore: (await call(page, (bc) => bc.Wallet.fromKeystore('{"version": 1}', 'x'))).error,
    badAddress: (await call(page, () => window.__client.getAccount('rblk1qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqq'))).error,
    badAmount: (await call(page, () => window.__wallet.signTransaction({ recipient: window.__wallet.address, amount: 0.5, fee: 0, nonce: 0 }))).error,
    unknownBlock: (await call(page, () => window.__client.getBlock(1000000))).error
  }
  out.reopened = await ok(page, async (bc, ks) => (await bc.Wallet.fromKeystore(ks, 'correct horse battery staple')).address, first.keystore)
  out.longTasksMs = await page.evaluate(() => window.__longTasks)
  await ok(page, () => window.__client.stop())

  log('errors checked')

  // 4b. A reload resumes from the headers stored in IndexedDB: the tip is
  // there before any peer answers, and the sync verifies only what is new.
  const before = await page.evaluate(() => window.__client.tip())
  await ok(page, () => window.__client.stop())
  await page.reload()
  await page.evaluate(async () => {
    const module = await import('/pkg/blockchain_webclient.js')
    await module.default()
    window.__bc = module
  })
  const reloadStarted = Date.now()
  out.resumed = await ok(page, async (bc, ws) => {
    const client = await bc.LightClient.start({ network: 'regtest', bootstrap: [ws] })
    const atStart = client.tip()
    let progress = 0
    client.on('progress', () => { progress += 1 })
    const tip = await client.waitForSync(30000)
    window.__client = client
    return { atStart, tip, progress }
  }, wsAddr)
  out.reloadSyncMs = Date.now() - reloadStarted
  out.tipBeforeReload = before
  log(`reload resumed at ${out.resumed.atStart.height}`)
  // 5. The same over WebRTC-direct, in a second page.
  const rtcPage = await openPage(context)
  out.webrtc = await ok(rtcPage, async (bc, [addr, address]) => {
    const client = await bc.LightClient.start({ network: 'regtest', bootstrap: [addr], persist: false })
    const tip = await client.waitForSync(60000)
    const account = await client.getAccount(address)
    const peers = client.peers()
    await client.stop()
    return { tip, account, peers }
  }, [webrtcAddr, first.address])
  log('WebRTC-direct page synced')
  out.webrtcLongTasksMs = await rtcPage.evaluate(() => window.__longTasks)

  // 6. A page without WebCrypto: the key work runs in the core's Rust code
  // in a Web Worker, with progress, and its keystore opens in a secure page.
  const insecure = await context.newPage()
  insecure.on('pageerror', e => log(`insecure page error: ${e}`))
  // As in openPage: a document of the origin that runs no app of its own.
  await insecure.goto(base.replace('127.0.0.1', 'wallet.test') + '/api/v1/status')
  out.insecure = await insecure.evaluate(async () => {
    const bc = await import('/pkg/blockchain_webclient.js')
    await bc.default()
    const stages = []
    const started = performance.now()
    const wallet = await bc.Wallet.create('regtest', 'pw in a worker', stage => stages.push(stage))
    const createMs = performance.now() - started
    const reopened = await bc.Wallet.fromKeystore(wallet.keystore(), 'pw in a worker', stage => stages.push(stage))
    let wrong = null
    try { await bc.Wallet.fromKeystore(wallet.keystore(), 'wrong') } catch (error) { wrong = error.code }
    return {
      secure: window.isSecureContext,
      subtle: typeof crypto.subtle,
      backend: wallet.backend,
      address: wallet.address,
      reopened: reopened.address,
      keystore: wallet.keystore(),
      stages,
      createMs,
      wrong
    }
  })
  out.insecureOpenedInSecurePage = await ok(page, async (bc, ks) =>
    (await bc.Wallet.fromKeystore(ks, 'pw in a worker')).address, out.insecure.keystore)
  log(`worker wallet made in ${Math.round(out.insecure.createMs)} ms`)
} finally {
  await context.close()
  await rm(profile, { recursive: true, force: true })
}
console.log(JSON.stringify(out))
