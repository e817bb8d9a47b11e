// Command-line wrapper for the Node.js peers: argument parsing, one JSON
// object per stdout line (written synchronously so nothing is lost on
// exit), the overall timeout and the exit code.

import { writeSync } from 'node:fs'
import { basename } from 'node:path'

export function emit (obj) {
  writeSync(1, JSON.stringify(obj) + '\n')
}

export function parseArgs (argv, script) {
  const [addr, network, timeout] = argv
  if (addr == null || network == null || addr === '-h' || addr === '--help') {
    process.stderr.write(`usage: node --experimental-websocket ${basename(script)} <multiaddr> <network> [timeout_ms]\n`)
    process.exit(2)
  }
  const timeoutMs = timeout == null ? 60_000 : Number(timeout)
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) {
    process.stderr.write(`bad timeout_ms: ${timeout}\n`)
    process.exit(2)
  }
  return { addr, network, timeoutMs }
}

/** Runs fn(signal); exits 0 when it resolves, 1 (with an error line) otherwise. */
export async function main (timeoutMs, fn) {
  const controller = new AbortController()
  const timer = setTimeout(() => controller.abort(new Error(`timeout after ${timeoutMs} ms`)), timeoutMs)
  // a hard stop in case something ignores the abort signal
  const hard = setTimeout(() => {
    emit({ event: 'error', message: `timeout after ${timeoutMs} ms (hard)` })
    process.exit(1)
  }, timeoutMs + 5000)
  hard.unref()
  process.on('unhandledRejection', (err) => {
    emit({ event: 'error', message: `unhandled rejection: ${err?.stack ?? err}` })
    process.exit(1)
  })
  try {
    await fn(controller.signal)
    clearTimeout(timer)
    process.exit(0)
  } catch (err) {
    const message = err?.message ?? String(err)
    emit({ event: 'error', message, ...(err?.name != null && err.name !== 'Error' ? { name: err.name } : {}) })
    process.exit(1)
  }
}
