#!/usr/bin/env -S node --experimental-websocket
// js-libp2p peer over WebRTC-direct, in Node.js (@libp2p/webrtc on
// node-datachannel, whose prebuilt binary is an npm package): dial,
// identify, subscribe to the blocks topic, print the first block, exit 0.
//   node --experimental-websocket webrtc-peer.mjs <multiaddr> <network> [timeout_ms]
import './lib/polyfill.mjs'
import { webRTCDirect } from '@libp2p/webrtc'
import { runPeer } from './lib/peer.mjs'
import { emit, main, parseArgs } from './lib/cli.mjs'

const { addr, network, timeoutMs } = parseArgs(process.argv.slice(2), 'webrtc-peer.mjs')
await main(timeoutMs, (signal) => runPeer({ transports: [webRTCDirect()], addr, network, emit, signal }))
