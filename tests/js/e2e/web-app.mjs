#!/usr/bin/env node
// End to end: the web app (www/, served by a real regtest node) driven
// like a user would, in headless Chromium (playwright-core) and, for the
// main flow, in Firefox ESR (puppeteer-core over WebDriver BiDi).
//
// Chromium: create a wallet; the node mines to it; the balance appears
// marked verified (timed: opening / to a funded verified balance); a
// mistyped address shows its message; a second wallet; send to it through
// the confirmation dialog; pending, then confirmed; lock, wrong password;
// reload, unlock, resumed; a refused transaction and an unreachable node
// show their messages; the explorer's pages show the node's blocks and
// transactions with verified marks, the mempool unverified; the node page
// logs in by signing the node's challenge and mines. Every page: axe-core
// finds no serious or critical violation, every amount, block and
// transaction carries its mark, no Content-Security-Policy violation, no
// request leaves the node's origin; screenshots at 1280 and 390 px.
//
// Prints progress on stderr and one JSON object (what the Rust test
// checks) on its last stdout line.
//   node e2e/web-app.mjs <http base> <admin keystore file> <admin password> <screenshot dir>
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { chromium } from 'playwright-core'
import puppeteer from 'puppeteer-core'
import jsQR from 'jsqr'

const [base, adminKeystore, adminPassword, shots] = process.argv.slice(2)
if (!base || !adminKeystore || !adminPassword || !shots) {
  console.error('usage: web-app.mjs <http base> <admin keystore file> <admin password> <screenshot dir>')
  process.exit(2)
}
const origin = new URL(base).origin
const t0 = Date.now()
const log = (s) => process.stderr.write(`[web-app e2e ${((Date.now() - t0) / 1000).toFixed(1)} s] ${s}\n`)
const fail = (s) => { throw new Error(s) }
const check = (condition, what) => { if (!condition) fail(what) }
const axeSource = await readFile(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8')
await mkdir(shots, { recursive: true })

const PASSWORD_A = 'correct horse battery staple 42'
const PASSWORD_B = 'another long passphrase 7'
const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync']

async function api (method, path, body) {
  const res = await fetch(`${base}/api/v1${path}`, {
    method,
    headers: {
      ...(body ? { 'content-type': 'application/json' } : {}),
      // The node's cookie token (passed by the Rust test) for protected routes.
      ...(process.env.API_TOKEN ? { authorization: `Bearer ${process.env.API_TOKEN}` } : {})
    },
    body: body && JSON.stringify(body)
  })
  const json = await res.json().catch(() => null)
  if (!res.ok) fail(`${method} ${path}: ${res.status} ${JSON.stringify(json)}`)
  return json
}
const mine = (address, count) => api('POST', '/mining/blocks', { miner_address: address, count })

/** Waits until the node knows a transaction. */
async function nodeHas (txid) {
  for (let i = 0; i < 100; i++) {
    if ((await fetch(`${base}/api/v1/transactions/${txid}`)).ok) return
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  fail(`the node never accepted ${txid}`)
}

// ------------------------------------------------------------ browser adapters

/** The same few calls over a playwright Page and a puppeteer Page. */
function adapter (page, kind) {
  const pw = kind === 'playwright'
  return {
    page,
    kind,
    goto: (path) => page.goto(base + path),
    reload: () => page.reload(),
    fill: (selector, value) => pw ? page.fill(selector, value) : page.locator(selector).fill(value),
    click: (selector) => page.click(selector),
    press: (key) => page.keyboard.press(key),
    text: (selector) => page.$eval(selector, (e) => e.textContent),
    attr: (selector, name) => page.$eval(selector, (e, n) => e.getAttribute(n), name),
    exists: (selector) => page.$(selector).then(Boolean),
    evaluate: (fn, arg) => page.evaluate(fn, arg),
    async until (what, fn, arg, timeout = 30000) {
      try {
        if (pw) await page.waitForFunction(fn, arg, { timeout, polling: 100 })
        else await page.waitForFunction(fn, { timeout, polling: 100 }, arg)
      } catch (error) {
        fail(`${kind}: timed out waiting for ${what} (${error.message.split('\n')[0]})`)
      }
    },
    width: (width) => pw ? page.setViewportSize({ width, height: 900 }) : page.setViewport({ width, height: 900 }),
    screenshot: (path) => page.screenshot({ path, fullPage: true })
  }
}

const visible = (selector) => (s) => {
  const e = document.querySelector(s)
  return e && !e.closest('[hidden]') && e.getClientRects().length > 0
}

/** Waits for a verified balance showing `coins` in the wallet page. */
function verifiedBalance (b, coins, timeout) {
  return b.until(`verified balance ${coins}`, (c) => {
    const e = document.querySelector('#balance [data-kind="amount"][data-verified="true"]')
    return e && e.textContent.includes(`${c} BLK`)
  }, coins, timeout)
}

/**
 * The invariants of every page: each [data-kind] item's own marks match
 * its data-verified; every amount on screen (outside dialogs, form hints
 * and messages) is inside a marked amount; no CSP violation.
 */
async function checkMarks (b, where) {
  const problems = await b.evaluate(() => {
    const out = []
    for (const item of document.querySelectorAll('[data-kind]')) {
      const verified = item.dataset.verified
      if (verified !== 'true' && verified !== 'false') out.push(`${item.dataset.kind} without data-verified`)
      const marks = [...item.querySelectorAll('.mark')].filter((m) => m.closest('[data-kind]') === item)
      if (!marks.length) out.push(`${item.dataset.kind} "${item.textContent.slice(0, 60)}" has no mark`)
      for (const m of marks) {
        if (m.classList.contains('mark-verified') !== (verified === 'true')) out.push(`${item.dataset.kind} mark disagrees with data-verified`)
      }
    }
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT)
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      if (!/\d\.\d{8}/.test(node.textContent)) continue
      const e = node.parentElement
      if (e.closest('dialog, .hint, .msg, [hidden]')) continue
      if (!e.closest('[data-kind="amount"]')) out.push(`unmarked amount "${node.textContent.slice(0, 60)}"`)
    }
    for (const v of window.__csp || []) out.push(`CSP violation: ${v}`)
    return out
  })
  check(problems.length === 0, `${b.kind} ${where}: ${problems.join('; ')}`)
}

const axeResults = {}
/** axe-core on the page as it is: no serious or critical violation. */
async function axe (b, where) {
  const result = await b.evaluate(async (source) => {
    if (!window.axe) (0, eval)(source) // eslint-disable-line no-eval
    const r = await window.axe.run(document, { resultTypes: ['violations'] })
    return r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.slice(0, 3).map((n) => n.target.join(' ')) }))
  }, axeSource)
  axeResults[`${b.kind}:${where}`] = result.map((v) => `${v.impact} ${v.id}`)
  const bad = result.filter((v) => v.impact === 'serious' || v.impact === 'critical')
  check(bad.length === 0, `axe on ${where}: ${JSON.stringify(bad)}`)
}

/** Decodes a QR code drawn by www/js/qr.js (one `M x,y h1v1h-1z` per dark module). */
function decodeQrSvg ({ size, d }) {
  const scale = 4
  const full = size * scale
  const pixels = new Uint8ClampedArray(full * full * 4).fill(255)
  for (const [, x, y] of d.matchAll(/M(\d+),(\d+)h1v1h-1z/g)) {
    for (let dy = 0; dy < scale; dy++) {
      for (let dx = 0; dx < scale; dx++) {
        const at = ((Number(y) * scale + dy) * full + Number(x) * scale + dx) * 4
        pixels[at] = pixels[at + 1] = pixels[at + 2] = 0
      }
    }
  }
  return jsQR(pixels, full, full)?.data ?? null
}

const screenshots = []
/** Screenshots at desktop and phone widths, after the page's checks. */
async function capture (b, name, { scan = true } = {}) {
  await checkMarks(b, name)
  if (scan) await axe(b, name)
  for (const width of [1280, 390]) {
    await b.width(width)
    await new Promise((resolve) => setTimeout(resolve, 150))
    if (width === 390 && scan) await checkNoHorizontalScroll(b, name)
    const file = join(shots, `${b.kind === 'playwright' ? 'chromium' : 'firefox'}-${name}-${width}.png`)
    await b.screenshot(file)
    screenshots.push(file)
  }
  await b.width(1280)
}

async function checkNoHorizontalScroll (b, where) {
  const { overflow, culprits } = await b.evaluate(() => {
    const width = document.documentElement.clientWidth
    const culprits = [...document.querySelectorAll('body *')]
      .filter((e) => e.getBoundingClientRect().right > width + 1 && !e.closest('.table-wrap') && ![...e.children].some((c) => c.getBoundingClientRect().right > width + 1))
      .slice(0, 5)
      .map((e) => `${e.tagName.toLowerCase()}${e.id ? '#' + e.id : ''}.${[...e.classList].join('.')}`)
    return { overflow: document.documentElement.scrollWidth - width, culprits }
  })
  check(overflow <= 1, `${where} scrolls sideways at 390 px (${overflow} px too wide: ${culprits.join(', ')})`)
}

async function createWallet (b, name, password) {
  await b.fill('#create-name', name)
  await b.fill('#create-password', password)
  await b.fill('#create-confirm', password)
  const started = Date.now()
  await b.click('#create-button')
  await b.until('the new wallet to open', visible('#address'), '#address')
  return { address: (await b.text('#address')).trim(), ms: Date.now() - started }
}

/** Sends through the form and the confirmation dialog; returns the txid. */
async function send (b, to, coins) {
  await b.fill('#send-to', to)
  await b.fill('#send-amount', coins)
  await b.click('#send-button')
  await b.until('the confirmation dialog', () => document.querySelector('#confirm-dialog')?.open)
  const amount = await b.text('#confirm-amount')
  check(amount.startsWith(coins), `the dialog shows the amount: ${amount}`)
  check((await b.text('#confirm-to')) === to, 'the dialog shows the recipient')
  return amount
}

// ------------------------------------------------------------ Chromium: the whole flow

const profile = await mkdtemp(join(tmpdir(), 'web-app-e2e-'))
const context = await chromium.launchPersistentContext(profile, {
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  headless: true,
  args: CHROMIUM_ARGS,
  viewport: { width: 1280, height: 900 },
  acceptDownloads: true
})
const offOrigin = []
const sockets = new Set()
context.on('request', (request) => {
  const url = new URL(request.url())
  if (['data:', 'blob:'].includes(url.protocol)) return
  if (url.origin !== origin) offOrigin.push(request.url())
})
await context.addInitScript(() => {
  window.__csp = []
  document.addEventListener('securitypolicyviolation', (e) => window.__csp.push(`${e.violatedDirective} ${e.blockedURI}`))
})
const pageErrors = []
async function newPage () {
  const page = await context.newPage()
  page.on('console', (m) => { if (m.type() === 'error' || process.env.HARNESS_VERBOSE) log(`page ${m.type()}: ${m.text()}`) })
  page.on('pageerror', (e) => { pageErrors.push(String(e)); log(`page error: ${e}`) })
  page.on('websocket', (ws) => sockets.add(ws.url()))
  return adapter(page, 'playwright')
}

const out = { screenshots, axe: axeResults }
try {
  // 1. Open / and create a wallet; the node mines to it; the verified balance. Timed.
  const a = await newPage()
  let opened = Date.now()
  await a.goto('/')
  await a.until('the wallet page to be ready', visible('#create-button'), '#create-button')
  await a.until('the light client to start', () => document.body.dataset.ready === 'true')
  const pageReadyMs = Date.now() - opened
  await capture(a, 'wallet-new')
  const created = await createWallet(a, 'Everyday', PASSWORD_A)
  const addressA = created.address
  check(await a.exists('#qr svg[role="img"]'), 'the address has a QR code')
  const before = await a.text('#balance')
  check(!/\d\.\d{8}/.test(before) || (await a.exists('#balance [data-verified="true"]')), 'no balance shown before it is verified')
  const mineStarted = Date.now()
  await mine(addressA, 3)
  await verifiedBalance(a, '150.00000000', 20000)
  const fundedMs = Date.now() - mineStarted
  out.timeToVerifiedBalance = { totalMs: pageReadyMs + created.ms + fundedMs, pageReadyMs, createMs: created.ms, mineAndVerifyMs: fundedMs }
  log(`time to a funded verified balance: ${out.timeToVerifiedBalance.totalMs} ms of waiting (page ready ${pageReadyMs} ms, key ${created.ms} ms, mined and verified ${fundedMs} ms)`)
  out.addressA = addressA
  await a.until('the three mined blocks in the history, verified', () =>
    document.querySelectorAll('#history tbody tr[data-verified="true"]').length === 3)
  // The QR code on screen reads back as the address (its modules, read
  // from the SVG path, decoded by jsQR).
  out.qrText = decodeQrSvg(await a.evaluate(() => {
    const svg = document.querySelector('#qr svg')
    return { size: Number(svg.getAttribute('viewBox').split(' ')[2]), d: svg.querySelector('path').getAttribute('d') }
  }))
  check(out.qrText === addressA, `the QR code holds the address: ${out.qrText}`)

  // 2. A mistyped address and a wrong network's address show their messages.
  const typo = addressA.slice(0, -3) + (addressA.at(-3) === 'q' ? 'p' : 'q') + addressA.slice(-2)
  await a.fill('#send-to', typo)
  await a.until('the checksum message', () => /checksum/i.test(document.querySelector('#send-to-hint').textContent))
  check((await a.attr('#send-to', 'aria-invalid')) === 'true', 'the mistyped field is marked invalid')
  out.typoMessage = (await a.text('#send-to-hint')).trim()
  await a.fill('#send-amount', '1')
  await a.click('#send-button')
  check(!(await a.evaluate(() => document.querySelector('#confirm-dialog').open)), 'no dialog for a mistyped address')
  check(await a.evaluate(() => document.activeElement.id === 'send-to'), 'focus goes back to the address')
  await a.fill('#send-to', 'tblk1qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqhlsaz9')
  await a.until('the other network message', () => /devnet/.test(document.querySelector('#send-to-hint').textContent))
  await a.fill('#send-amount', '1.123456789')
  await a.until('the decimals message', () => /8 decimal/.test(document.querySelector('#send-amount-hint').textContent))
  await a.fill('#send-to', '')
  await a.fill('#send-amount', '')
  await capture(a, 'wallet')

  // 3. A second wallet on this device, in another tab.
  const b = await newPage()
  await b.goto('/')
  await b.until('the second tab to be ready', () => document.body.dataset.ready === 'true')
  check(await b.evaluate(() => !document.querySelector('#unlock-section').hidden), 'the first wallet is offered for unlocking')
  const walletB = await createWallet(b, 'Savings', PASSWORD_B)
  const addressB = walletB.address
  out.addressB = addressB
  await verifiedBalance(b, '0.00000000')
  log(`wallets ${addressA} and ${addressB}`)

  // 4. Send 1.5 coins from A to B through the confirmation dialog: pending, then confirmed.
  await send(a, addressB, '1.5')
  await capture(a, 'wallet-confirm', { scan: true })
  await a.click('#confirm-send')
  await a.until('the sent message', () => /pending/.test(document.querySelector('#send-status').textContent))
  const txid = await a.evaluate(() => document.querySelector('#history tbody tr[data-verified="false"]')?.dataset.txid)
  check(txid, 'the sent transaction is listed, unverified')
  out.txid = txid
  await a.until('the pending row', (id) => {
    const row = document.querySelector(`#history tr[data-txid="${id}"]`)
    return row && row.dataset.verified === 'false' && /Pending/.test(row.textContent)
  }, txid)
  await a.until('the pending spend beside the balance', () =>
    /Sending\s*−1\.50001000 BLK/.test(document.querySelector('#pending').textContent) &&
    document.querySelector('#pending [data-verified="false"]'))
  const nodeView = await api('GET', `/transactions/${txid}`)
  check(nodeView.status === 'pending', `the node has it pending: ${nodeView.status}`)
  out.pendingSeen = true
  await capture(a, 'wallet-pending')
  const minedTx = await mine(addressA, 1)
  out.txBlock = minedTx.blocks[0].index
  await a.until('the transaction confirmed and verified', (id) => {
    const row = document.querySelector(`#history tr[data-txid="${id}"]`)
    return row && row.dataset.verified === 'true' && /1 confirmation/.test(row.textContent)
  }, txid)
  await verifiedBalance(a, '198.50000000')
  await verifiedBalance(b, '1.50000000')
  await b.until('the receipt in the second wallet, verified', (id) =>
    document.querySelector(`#history tr[data-txid="${id}"][data-verified="true"]`), txid)
  out.balances = { a: '198.50000000', b: '1.50000000' }
  log(`sent ${txid}, confirmed in block ${out.txBlock}`)

  // The keystore exports as a file: the encrypted key, never in the clear.
  const [download] = await Promise.all([a.page.waitForEvent('download'), a.click('#export-button')])
  const exported = JSON.parse(await readFile(await download.path(), 'utf8'))
  check(exported.address === addressA && exported.encrypted_private_key?.cipher === 'aes-256-gcm', 'the exported keystore is wallet A\'s, encrypted')

  // 5. Lock; a wrong password; reload; unlock; the wallet resumes.
  await a.click('#lock-button')
  await a.until('the unlock form', visible('#unlock-password'), '#unlock-password')
  check(await a.evaluate((addr) => document.querySelector('#unlock-wallet').value === addr, addressA), 'the last wallet is preselected')
  await a.fill('#unlock-password', 'not the password')
  await a.press('Enter')
  await a.until('the wrong password message', () => /Wrong password/.test(document.querySelector('#unlock-error').textContent))
  out.wrongPasswordMessage = (await a.text('#unlock-error')).trim()
  check(await a.evaluate(() => document.activeElement.id === 'unlock-password'), 'focus returns to the password')
  await capture(a, 'wallet-locked')
  const stored = await a.evaluate(() => JSON.stringify(localStorage))
  check(!stored.includes(PASSWORD_A) && !stored.includes(PASSWORD_B), 'no password in localStorage')
  check(!/BEGIN PRIVATE KEY|"d":/.test(stored), 'no plain private key in localStorage')
  opened = Date.now()
  await a.reload()
  await a.until('the page to be ready again', () => document.body.dataset.ready === 'true')
  out.resumedFromHeight = await a.evaluate(() => window.blockchainApp.resumedFrom)
  check(await a.evaluate((addr) => document.querySelector('#unlock-wallet').value === addr, addressA), 'the tab\'s wallet is preselected after the reload')
  await a.fill('#unlock-password', PASSWORD_A)
  await a.click('#unlock-button')
  await verifiedBalance(a, '198.50000000')
  await a.until('the history after the reload', (id) =>
    document.querySelector(`#history tr[data-txid="${id}"][data-verified="true"]`), txid)
  out.reloadToVerifiedBalanceMs = Date.now() - opened
  log(`reloaded and unlocked: verified balance after ${out.reloadToVerifiedBalanceMs} ms (headers resumed from height ${out.resumedFromHeight})`)

  // 6. A refused transaction and an unreachable node show their messages.
  await a.page.route('**/api/v1/transactions', (route) => route.request().method() === 'POST'
    ? route.fulfill({ status: 422, contentType: 'application/json', body: JSON.stringify({ error: true, code: 'TRANSACTION_VALIDATION_FAILED', message: 'transaction rejected: fee too low', details: { field: 'fee', reason: 'fee too low' } }) })
    : route.continue())
  await send(a, addressB, '0.1')
  await a.click('#confirm-send')
  await a.until('the refusal message', () => /refused the transaction: fee too low/.test(document.querySelector('#send-status').textContent))
  out.refusedMessage = (await a.text('#send-status')).trim()
  await a.page.unroute('**/api/v1/transactions')
  const down = await newPage()
  await down.page.route('**/api/v1/status', (route) => route.abort('connectionrefused'))
  await down.goto('/')
  await down.until('the unreachable message', () => /Cannot reach the node/.test(document.querySelector('#alert').textContent))
  out.unreachableMessage = (await down.text('#alert')).trim()
  await down.page.close()

  // 7. A transaction left pending, for the mempool, sent with the keyboard
  // alone: Tab to the address, type, Tab, type, Enter opens the dialog
  // (focus on Cancel), Escape cancels, Enter again, Tab, Enter sends.
  await a.evaluate(() => { document.activeElement?.blur(); window.scrollTo(0, 0) })
  for (let i = 0; i < 25 && !(await a.evaluate(() => document.activeElement?.id === 'send-to')); i++) await a.press('Tab')
  check(await a.evaluate(() => document.activeElement?.id === 'send-to'), 'Tab reaches the recipient field')
  await a.page.keyboard.type(addressB)
  await a.press('Tab')
  check(await a.evaluate(() => document.activeElement?.id === 'send-amount'), 'Tab goes on to the amount')
  await a.page.keyboard.type('0.25')
  await a.press('Enter')
  await a.until('the dialog, by keyboard', () => document.querySelector('#confirm-dialog')?.open && document.activeElement?.id === 'confirm-cancel')
  await a.press('Escape')
  await a.until('the dialog to close on Escape', () => !document.querySelector('#confirm-dialog').open &&
    /Not sent/.test(document.querySelector('#send-status').textContent))
  await a.evaluate(() => document.querySelector('#send-amount').focus())
  await a.press('Enter')
  await a.until('the dialog again', () => document.querySelector('#confirm-dialog')?.open && document.activeElement?.id === 'confirm-cancel')
  await a.press('Tab')
  check(await a.evaluate(() => document.activeElement?.id === 'confirm-send'), 'Tab moves to "Sign and send"')
  await a.press('Enter')
  await a.until('the second send', () => /pending/.test(document.querySelector('#send-status').textContent))
  out.keyboardSend = true
  const pendingTxid = await a.evaluate(() => document.querySelector('#history tbody tr[data-verified="false"]')?.dataset.txid)
  check(pendingTxid && pendingTxid !== txid, 'the second transaction is pending')
  out.pendingTxid = pendingTxid
  await nodeHas(pendingTxid)

  // 8. The explorer shows the node's blocks and transactions.
  const x = await newPage()
  await x.goto('/explorer')
  await x.until('the explorer to be ready', () => document.body.dataset.ready === 'true')
  const height = (await api('GET', '/status')).height
  await x.until('the latest blocks with their transaction counts', (h) => {
    const rows = document.querySelectorAll('#latest-blocks tr[data-height]')
    return rows.length === Math.min(15, h + 1) && Number(rows[0].dataset.height) === h &&
      [...rows].every((r) => /^\d+$/.test(r.children[3].textContent))
  }, height)
  const shown = await x.evaluate(() => [...document.querySelectorAll('#latest-blocks tr[data-height]')].map((r) => ({
    height: Number(r.dataset.height), hash: r.dataset.hash,
    txs: Number(r.children[3].textContent), verified: r.dataset.verified
  })))
  const latest = await api('GET', `/blocks/latest?limit=${shown.length}`)
  out.explorerBlocks = shown.map((s, i) => {
    const node = latest.blocks[i]
    check(s.height === node.index && s.hash === node.hash && s.txs === node.transactions.length && s.verified === 'true',
      `explorer row ${JSON.stringify(s)} is the node's block ${node.index} ${node.hash} (${node.transactions.length} txs)`)
    return s.height
  })
  await capture(x, 'explorer')

  // The block with the transaction, reached by searching its height.
  await x.fill('#query', String(out.txBlock))
  await x.press('Enter')
  await x.until('the block page', (h) => location.pathname === `/explorer/block/${h}` && document.querySelector('#block-hash'), out.txBlock)
  const nodeBlock = await api('GET', `/blocks/${out.txBlock}`)
  const blockPage = await x.evaluate(() => ({
    hash: document.querySelector('#block-hash').textContent,
    verified: document.querySelector('#block-summary').dataset.verified,
    txids: [...document.querySelectorAll('#block-transactions tr[data-txid]')].map((r) => r.dataset.txid),
    rowsVerified: [...document.querySelectorAll('#block-transactions tr[data-txid]')].every((r) => r.dataset.verified === 'true')
  }))
  check(blockPage.hash === nodeBlock.hash, 'the block page shows the node\'s hash')
  check(blockPage.verified === 'true' && blockPage.rowsVerified, 'the block and its transactions are marked verified')
  check(JSON.stringify(blockPage.txids) === JSON.stringify(nodeBlock.transactions.map((t) => t.txid)), 'the block page lists the node\'s transactions')
  check(blockPage.txids.includes(txid), 'the block holds the sent transaction')
  await capture(x, 'explorer-block')

  // The transaction page, by following its link.
  await x.click(`#block-transactions tr[data-txid="${txid}"] a[href^="/explorer/tx/"]`)
  await x.until('the transaction page', (id) => location.pathname === `/explorer/tx/${id}` && document.querySelector('#tx-summary'), txid)
  const nodeTx = await api('GET', `/transactions/${txid}`)
  const txPage = await x.evaluate(() => ({
    verified: document.querySelector('#tx-summary').dataset.verified,
    confirmations: Number(document.querySelector('#tx-confirmations').textContent),
    text: document.querySelector('#tx-summary').textContent
  }))
  check(txPage.verified === 'true', 'the confirmed transaction is marked verified')
  check(txPage.confirmations === nodeTx.confirmations, `confirmations ${txPage.confirmations} = the node's ${nodeTx.confirmations}`)
  check(txPage.text.includes('1.50000000 BLK') && txPage.text.includes(addressB), 'the transaction page shows amount and recipient')
  await capture(x, 'explorer-tx')

  // The address page (a deep link, loaded fresh).
  await x.goto(`/explorer/address/${addressA}`)
  await x.until('the address page', () => document.body.dataset.ready === 'true' &&
    document.querySelector('#address-balance [data-verified="true"]') &&
    document.querySelectorAll('#address-history tr[data-verified="true"]').length >= 5)
  const nodeBalance = await api('GET', `/wallet/${addressA}/balance`)
  const shownBalance = await x.text('#address-balance .value')
  check(shownBalance === `${(nodeBalance.balance / 1e8).toFixed(8)} BLK`, `address balance ${shownBalance} = the node's ${nodeBalance.balance}`)
  check(await x.evaluate((id) => document.querySelector(`#address-history tr[data-txid="${id}"]`)?.dataset.verified === 'false', pendingTxid), 'the pending transaction is unverified on the address page')
  await capture(x, 'explorer-address')

  // The mempool: the pending transaction, unverified.
  await x.click('a[href="/explorer/mempool"]')
  await x.until('the mempool row', (id) => document.querySelector(`#mempool tr[data-txid="${id}"]`), pendingTxid)
  check(await x.evaluate(() => [...document.querySelectorAll('#mempool tr[data-txid]')].every((r) => r.dataset.verified === 'false')), 'mempool rows are unverified')
  await capture(x, 'explorer-mempool')
  await x.goto(`/explorer/tx/${pendingTxid}`)
  await x.until('the pending transaction page', () => document.querySelector('#tx-summary'))
  check(await x.attr('#tx-summary', 'data-verified') === 'false', 'a pending transaction is not shown as verified')

  // The network page: peers and charts.
  await x.goto('/explorer/network')
  await x.until('the charts', () => document.querySelector('#difficulty-chart svg') && document.querySelector('#block-time-chart svg') &&
    document.querySelector('#page-peers tr td'))
  check(/WebSocket/.test(await x.text('#page-peers')), 'the page\'s peer is listed with its transport')
  await capture(x, 'explorer-network')

  // Search: a mistyped address.
  await x.fill('#query', typo)
  await x.press('Enter')
  await x.until('the search message', () => /checksum/i.test(document.querySelector('#search-error').textContent))

  // 9. The node page: logins refused and accepted, then mining N blocks.
  const n = await newPage()
  await n.goto('/node')
  await n.until('the node page', () => document.body.dataset.ready === 'true')
  await capture(n, 'node')
  await n.page.selectOption('#login-wallet', addressA)
  await n.fill('#login-password', PASSWORD_A)
  await n.click('#login-button')
  await n.until('the not-an-administrator message', () => /not an administrator/.test(document.querySelector('#login-error').textContent))
  await n.page.selectOption('#login-wallet', '')
  await n.page.setInputFiles('#login-file', adminKeystore)
  await n.fill('#login-password', 'wrong password')
  await n.click('#login-button')
  await n.until('the wrong password message', () => /Wrong password/.test(document.querySelector('#login-error').textContent))
  await n.page.setInputFiles('#login-file', adminKeystore)
  await n.fill('#login-password', adminPassword)
  await n.click('#login-button')
  await n.until('the operator controls', visible('#mine-button'), '#mine-button')
  const tokenPlace = await n.evaluate(() => {
    const token = JSON.parse(sessionStorage.getItem('blockchain.node.session'))?.token
    return { session: Boolean(token), local: Boolean(token) && Object.values(localStorage).some((v) => v.includes(token)) }
  })
  check(tokenPlace.session && !tokenPlace.local, 'the login token is in sessionStorage only')
  const before2 = (await api('GET', '/status')).height
  await n.fill('#mine-count', '2')
  await n.click('#mine-button')
  await n.until('the mined message', () => /Mined 2 blocks/.test(document.querySelector('#mine-status').textContent))
  check((await api('GET', '/status')).height === before2 + 2, 'the node mined two blocks')
  out.nodePageMined = 2
  await capture(n, 'node-operator')

  // A keystore file imported in the wallet (the administrator's, which
  // those blocks paid): it opens with its balance verified.
  await b.click('#lock-button')
  await b.until('the start view', visible('#import-file'), '#import-file')
  await b.page.setInputFiles('#import-file', adminKeystore)
  await b.fill('#import-name', 'Operator')
  await b.fill('#import-password', 'wrong password')
  await b.click('#import-button')
  await b.until('the wrong password message on import', () => /Wrong password/.test(document.querySelector('#import-error').textContent))
  await b.page.setInputFiles('#import-file', adminKeystore)
  await b.fill('#import-password', adminPassword)
  await b.click('#import-button')
  const adminAddress = JSON.parse(await readFile(adminKeystore, 'utf8')).address
  await b.until('the imported wallet', (addr) => document.querySelector('#address')?.textContent === addr, adminAddress)
  const adminBalance = (await api('GET', `/wallet/${adminAddress}/balance`)).balance
  await verifiedBalance(b, (adminBalance / 1e8).toFixed(8))
  out.imported = { address: adminAddress, balance: adminBalance }

  // The pending transaction was in those blocks: the wallet sees it confirmed.
  await a.until('the second transaction confirmed', (id) =>
    document.querySelector(`#history tr[data-txid="${id}"][data-verified="true"]`), pendingTxid)

  out.offOrigin = offOrigin
  out.sockets = [...sockets]
  out.pageErrors = pageErrors
  check(offOrigin.length === 0, `requests left the node's origin: ${offOrigin.join(', ')}`)
  const host = new URL(base).hostname
  check([...sockets].every((url) => new URL(url).hostname === host), `WebSockets only to the node: ${[...sockets]}`)
  check(pageErrors.length === 0, `page errors: ${pageErrors.join('; ')}`)
  log('Chromium flow done')
} catch (error) {
  // What the pages showed when it failed.
  for (const [i, page] of context.pages().entries()) {
    const file = join(shots, `chromium-failure-${i}.png`)
    await page.screenshot({ path: file, fullPage: true }).catch(() => {})
    const state = await page.evaluate(() => `${location.pathname}: ${document.querySelector('#net-state')?.textContent}`).catch(() => '?')
    log(`failure: page ${i} ${state} (${file})`)
  }
  throw error
} finally {
  await context.close()
  await rm(profile, { recursive: true, force: true })
}

// ------------------------------------------------------------ Firefox: the main flow

{
  const browser = await puppeteer.launch({
    browser: 'firefox',
    executablePath: process.env.FIREFOX ?? '/usr/bin/firefox-esr',
    headless: true
  })
  const errors = []
  try {
    const page = await browser.newPage()
    page.on('pageerror', (e) => { errors.push(String(e)); log(`firefox page error: ${e}`) })
    page.on('console', (m) => { if (m.type() === 'error') log(`firefox page error: ${m.text()}`) })
    await page.evaluateOnNewDocument(() => {
      window.__csp = []
      document.addEventListener('securitypolicyviolation', (e) => window.__csp.push(`${e.violatedDirective} ${e.blockedURI}`))
    })
    const f = adapter(page, 'puppeteer')
    await f.width(1280)
    const opened = Date.now()
    await f.goto('/')
    await f.until('the wallet page to be ready', () => document.body.dataset.ready === 'true')
    const pageReadyMs = Date.now() - opened
    const created = await createWallet(f, 'Firefox', PASSWORD_A)
    const mineStarted = Date.now()
    await mine(created.address, 2)
    await verifiedBalance(f, '100.00000000', 20000)
    const fundedMs = Date.now() - mineStarted
    out.firefox = {
      address: created.address,
      timeToVerifiedBalance: { totalMs: pageReadyMs + created.ms + fundedMs, pageReadyMs, createMs: created.ms, mineAndVerifyMs: fundedMs }
    }
    log(`Firefox: time to a funded verified balance ${out.firefox.timeToVerifiedBalance.totalMs} ms`)
    await capture(f, 'wallet', { scan: true })
    await send(f, out.addressB, '2.25')
    await f.click('#confirm-send')
    await f.until('the sent message', () => /pending/.test(document.querySelector('#send-status').textContent))
    const txid = await f.evaluate(() => document.querySelector('#history tbody tr[data-verified="false"]')?.dataset.txid)
    check(txid, 'Firefox: the sent transaction is pending, unverified')
    await nodeHas(txid)
    await mine(created.address, 1)
    await f.until('the transaction confirmed and verified', (id) =>
      document.querySelector(`#history tr[data-txid="${id}"][data-verified="true"]`), txid)
    await verifiedBalance(f, '147.75000000')
    out.firefox.txid = txid
    await f.goto(`/explorer/tx/${txid}`)
    await f.until('the explorer transaction page', () => document.querySelector('#tx-summary')?.dataset.verified === 'true')
    await capture(f, 'explorer-tx', { scan: true })
    check(errors.length === 0, `Firefox page errors: ${errors.join('; ')}`)
    log('Firefox flow done')
  } finally {
    await browser.close()
  }
}

console.log(JSON.stringify(out))
