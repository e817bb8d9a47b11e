#!/usr/bin/env node
// Web pages the node's operator merely opens, attacking the node on
// 127.0.0.1 from a real Chromium: a page of another origin (a local HTTP
// server on another port) sends the "simple" cross-site requests a browser
// sends without asking (no-cors fetch, text/plain, a form post) and a CORS
// request with a stolen-looking token; a DNS-rebinding page (a name mapped
// to 127.0.0.1 with --host-resolver-rules) calls the API as its own origin.
// Prints, as one JSON line, what each attempt saw; the Rust test checks the
// node afterwards (nothing mined, mining off).
//   node e2e/hostile-page.mjs <http base of the node> <miner address>
import { createServer } from 'node:http'
import { mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { chromium } from 'playwright-core'

const [base, miner] = process.argv.slice(2)
if (!base || !miner) {
  console.error('usage: hostile-page.mjs <http base> <miner address>')
  process.exit(2)
}
const nodePort = new URL(base).port

// The attacker's site: one empty page, on another origin (another port).
const site = createServer((request, response) => {
  response.writeHead(200, { 'content-type': 'text/html' })
  response.end('<!doctype html><title>cat pictures</title><p>nothing to see</p>')
})
await new Promise(resolve => site.listen(0, '127.0.0.1', resolve))
const siteBase = `http://127.0.0.1:${site.address().port}`

const profile = await mkdtemp(join(tmpdir(), 'hostile-page-e2e-'))
const context = await chromium.launchPersistentContext(profile, {
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync',
    '--host-resolver-rules=MAP rebind.test 127.0.0.1']
})
const out = {}
try {
  const page = await context.newPage()
  page.on('pageerror', e => process.stderr.write(`page error: ${e}\n`))

  // 1. Cross-site requests from another origin.
  await page.goto(siteBase + '/')
  out.crossSite = await page.evaluate(async ([base, miner]) => {
    const body = JSON.stringify({ miner_address: miner })
    const seen = {}
    const attempt = async (name, run) => {
      try { seen[name] = await run() } catch (error) { seen[name] = `threw: ${error.message}` }
    }
    // What a browser sends without a preflight: the answer is opaque to the
    // page, the question is whether the node acted on it.
    await attempt('noCors', async () => (await fetch(base + '/api/v1/mining/start',
      { method: 'POST', mode: 'no-cors', body })).type)
    await attempt('noCorsJsonType', async () => (await fetch(base + '/api/v1/mining/start',
      { method: 'POST', mode: 'no-cors', headers: { 'content-type': 'application/json' }, body })).type)
    await attempt('noCorsBlocks', async () => (await fetch(base + '/api/v1/mining/blocks',
      { method: 'POST', mode: 'no-cors', body: JSON.stringify({ miner_address: miner, count: 5 }) })).type)
    // A form post into a hidden frame.
    await attempt('form', () => new Promise(resolve => {
      const frame = document.createElement('iframe')
      frame.name = 'sink'
      document.body.append(frame)
      const form = document.createElement('form')
      form.method = 'POST'
      form.target = 'sink'
      form.enctype = 'text/plain'
      form.action = base + '/api/v1/mining/start'
      const input = document.createElement('input')
      input.name = `{"miner_address": "${miner}", "x": "`
      input.value = '"}'
      form.append(input)
      document.body.append(form)
      frame.onload = () => resolve('submitted')
      form.submit()
      setTimeout(() => resolve('timed out'), 5000)
    }))
    // A CORS request with JSON and a bearer token (preflighted): refused.
    await attempt('corsWithToken', async () => {
      const response = await fetch(base + '/api/v1/mining/start', {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: 'Bearer guessed' },
        body
      })
      return { status: response.status, body: await response.json() }
    })
    // Public reads stay open to other origins (CORS).
    await attempt('publicRead', async () => {
      const response = await fetch(base + '/api/v1/status')
      return { status: response.status, height: (await response.json()).height }
    })
    return seen
  }, [base, miner])

  // 2. DNS rebinding: the attacker's name now resolves to 127.0.0.1, so its
  // page is "same origin" with the node; the node refuses the host name.
  const rebound = `http://rebind.test:${nodePort}`
  const response = await page.goto(rebound + '/api/v1/status')
  out.rebinding = { status: response.status(), body: await response.json().catch(() => null) }
  out.rebinding.post = await page.evaluate(async (miner) => {
    const response = await fetch('/api/v1/mining/start', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ miner_address: miner })
    })
    return { status: response.status, body: await response.json().catch(() => null) }
  }, miner)
  const page2 = await context.newPage()
  const index = await page2.goto(rebound + '/')
  out.rebinding.webApp = index.status()
} finally {
  await context.close()
  site.close()
}
console.log(JSON.stringify(out))
