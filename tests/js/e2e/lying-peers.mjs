#!/usr/bin/env node
// A page whose light client is connected to an honest node and to three
// liars (a header chain with bad proof of work, blocks whose transactions
// do not match their merkle roots, a forged account proof). Prints what the
// page verified and which peers it dropped, as one JSON line.
//   node e2e/lying-peers.mjs <http base> <address> <multiaddr>...
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { chromium } from 'playwright-core'

const [base, address, ...bootstrap] = process.argv.slice(2)
if (!base || !address || bootstrap.length === 0) {
  console.error('usage: lying-peers.mjs <http base> <address> <multiaddr>...')
  process.exit(2)
}
const profile = await mkdtemp(join(tmpdir(), 'lying-peers-e2e-'))
const context = await chromium.launchPersistentContext(profile, {
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync']
})
try {
  const page = await context.newPage()
  page.on('pageerror', e => process.stderr.write(`page error: ${e}\n${e.stack}\n`))
  page.on('console', m => process.stderr.write(`page: ${m.text()}\n`))
  // A page of the node's origin that runs no app of its own.
  await page.goto(base + '/pkg/package.json')
  const out = await page.evaluate(async ([bootstrap, address]) => {
    const bc = await import('/pkg/blockchain_webclient.js')
    await bc.default()
    const errors = []
    const client = await bc.LightClient.start({ network: 'regtest', bootstrap, persist: false })
    client.on('error', detail => errors.push(detail.message))
    // Wait until every peer is connected (the liars too), then for the sync.
    const deadline = Date.now() + 20000
    while (client.peers().length + errors.filter(e => e.includes('dropped')).length < bootstrap.length &&
           Date.now() < deadline) {
      await new Promise(resolve => setTimeout(resolve, 100))
    }
    const tip = await client.waitForSync(30000)
    const blocks = []
    for (let height = 1; height <= tip.height; height++) {
      const block = await client.getBlock(height)
      blocks.push({ height, hash: block.hash, verified: block.verified, txs: block.transactions.length })
    }
    const accounts = []
    for (let i = 0; i < 4; i++) {
      const account = await client.getAccount(address)
      accounts.push({ balance: account.balance, verified: account.verified })
    }
    const peers = client.peers().map(peer => peer.peerId)
    await client.stop()
    return { tip, blocks, accounts, peers, errors }
  }, [bootstrap, address])
  console.log(JSON.stringify(out))
} finally {
  await context.close()
  await rm(profile, { recursive: true, force: true })
}
