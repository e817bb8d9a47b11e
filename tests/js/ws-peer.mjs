#!/usr/bin/env -S node --experimental-websocket
// js-libp2p peer over WebSocket: dial, identify, subscribe to the blocks
// topic, print the first block, exit 0. See README.md.
//   node --experimental-websocket ws-peer.mjs <multiaddr> <network> [timeout_ms]
import './lib/polyfill.mjs'
import { webSockets } from '@libp2p/websockets'
import { runPeer } from './lib/peer.mjs'
import { emit, main, parseArgs } from './lib/cli.mjs'

const { addr, network, timeoutMs } = parseArgs(process.argv.slice(2), 'ws-peer.mjs')
if (typeof globalThis.WebSocket === 'undefined') {
  // @libp2p/websockets dials with the global WebSocket: Node 20 has it only behind a flag
  emit({ event: 'error', message: 'no global WebSocket: run node with --experimental-websocket (Node.js 20)' })
  process.exit(1)
}
await main(timeoutMs, (signal) => runPeer({ transports: [webSockets()], addr, network, emit, signal }))
