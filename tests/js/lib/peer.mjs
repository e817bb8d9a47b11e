// Shared by the Node.js scripts and the browser bundle: build a dial-only
// js-libp2p node, dial the Rust node, wait for identify, subscribe to the
// blocks topic and resolve with the first block gossiped to us.
//
// Every step is reported through emit(object); the caller prints it as one
// JSON line. Nothing here is Node- or browser-specific.

import { createLibp2p } from 'libp2p'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { identify } from '@libp2p/identify'
import { ping } from '@libp2p/ping'
import { gossipsub } from '@libp2p/gossipsub'
import { multiaddr } from '@multiformats/multiaddr'

export function blocksTopic (network) {
  return `/blockchain/${network}/blocks/1`
}

export function transactionsTopic (network) {
  return `/blockchain/${network}/transactions/1`
}

function toHex (bytes) {
  let s = ''
  for (const b of bytes) s += b.toString(16).padStart(2, '0')
  return s
}

// Gossipsub settings for a network of one or two peers.
export function gossipsubOptions (extra = {}) {
  return {
    // publishing works when no / few peers are subscribed yet
    allowPublishToZeroTopicPeers: true,
    // our own publications go to every topic peer, mesh or not
    floodPublish: true,
    // a mesh of a single peer is fine: with Dlo = 1 one peer satisfies the
    // low-water mark (heartbeat grafts any subscribed peer while the mesh
    // is below Dlo anyway), D / Dhi keep room for a few more
    D: 4,
    Dlo: 1,
    Dhi: 8,
    Dout: 0,
    // the Rust node signs with its key (libp2p StrictSign); so do we, and we
    // accept only signed messages, the libp2p default on both sides
    globalSignaturePolicy: 'StrictSign',
    emitSelf: false,
    ...extra
  }
}

/**
 * @param {object} opts
 * @param {Array} opts.transports    js-libp2p transport factories
 * @param {string} opts.addr         multiaddr of the Rust node
 * @param {string} opts.network      network name (devnet, regtest, ...)
 * @param {(ev: object) => void} opts.emit
 * @param {AbortSignal} opts.signal  aborted on timeout
 * @returns {Promise<void>} resolves after the first block message
 */
export async function runPeer ({ transports, addr, network, emit, signal }) {
  const start = Date.now()
  const ms = () => Date.now() - start
  const topic = blocksTopic(network)
  const ma = multiaddr(addr)

  const node = await createLibp2p({
    addresses: { listen: [] },
    transports,
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    // browsers' default gater refuses loopback / private addresses and
    // plain ws://: the node under test is exactly that
    connectionGater: { denyDialMultiaddr: async () => false },
    services: {
      identify: identify(),
      ping: ping(),
      pubsub: gossipsub(gossipsubOptions())
    }
  })

  let remote = null // PeerId string, once connected
  const identified = new Map() // peerId string -> IdentifyResult
  let identifyWaiter = null
  let failed = null
  let failWaiter = null
  let blockWaiter = null

  const fail = (err) => {
    if (failed != null) return
    failed = err
    failWaiter?.(err)
  }

  node.addEventListener('peer:identify', (ev) => {
    const id = ev.detail.peerId.toString()
    identified.set(id, ev.detail)
    if (id === remote) identifyWaiter?.(ev.detail)
  })
  node.addEventListener('peer:disconnect', (ev) => {
    if (ev.detail.toString() === remote) fail(new Error(`connection to ${remote} closed before a block arrived`))
  })

  const pubsub = node.services.pubsub
  let subscribed = false // our own 'subscribed' line is out: later lines may follow
  let peerSubscribedSent = false
  const checkPeerSubscribed = () => {
    if (peerSubscribedSent || !subscribed) return
    if (pubsub.getSubscribers(topic).some(p => p.toString() === remote)) {
      peerSubscribedSent = true
      emit({ event: 'peer_subscribed', peer: remote, topic, ms: ms() })
    }
  }
  pubsub.addEventListener('subscription-change', () => checkPeerSubscribed())
  let graftedSent = false
  pubsub.addEventListener('gossipsub:graft', (ev) => {
    const { peerId, topic: t, direction } = ev.detail
    if (!graftedSent && subscribed && peerId === remote && t === topic && direction === 'inbound') {
      graftedSent = true
      emit({ event: 'grafted', peer: remote, topic, ms: ms() })
    }
  })
  pubsub.addEventListener('gossipsub:message', (ev) => {
    const { propagationSource, msg } = ev.detail
    if (msg.topic !== topic) return
    blockWaiter?.({
      event: 'block',
      from: msg.type === 'signed' ? msg.from.toString() : null,
      propagation_source: propagationSource.toString(),
      topic: msg.topic,
      size: msg.data.length,
      bytes_hex: toHex(msg.data),
      ms: ms()
    })
  })

  // resolves with the value, rejects on failure or abort
  const until = (register) => new Promise((resolve, reject) => {
    if (failed != null) { reject(failed); return }
    if (signal.aborted) { reject(signal.reason); return }
    const onAbort = () => reject(signal.reason)
    signal.addEventListener('abort', onAbort, { once: true })
    failWaiter = (err) => reject(err)
    register((v) => {
      signal.removeEventListener('abort', onAbort)
      resolve(v)
    })
  })

  // names the step that failed in the error message
  let step = 'starting js-libp2p'
  try {
    await node.start()
    step = `dialling ${addr}`
    const conn = await node.dial(ma, { signal })
    remote = conn.remotePeer.toString()
    emit({ event: 'connected', peer: remote, remote_addr: conn.remoteAddr.toString(), ms: ms() })

    step = `waiting for identify from ${remote}`
    const id = identified.get(remote) ?? await until((done) => { identifyWaiter = done })
    emit({
      event: 'identified',
      peer: remote,
      agent: id.agentVersion ?? null,
      protocol_version: id.protocolVersion ?? null,
      protocols: [...(id.protocols ?? [])].sort(),
      listen_addrs: (id.listenAddrs ?? []).map(a => a.toString()),
      ms: ms()
    })

    step = `subscribing to ${topic}`
    const block = until((done) => { blockWaiter = done })
    block.catch(() => {}) // observed below
    pubsub.subscribe(topic)
    emit({ event: 'subscribed', topic, ms: ms() })
    subscribed = true
    checkPeerSubscribed()

    step = `waiting for a block on ${topic}`
    emit(await block)
  } catch (err) {
    const reason = signal.aborted ? signal.reason : err
    let hint = ''
    if (step.startsWith('waiting for a block')) {
      hint = peerSubscribedSent
        ? ' (the peer is subscribed to the topic but sent us no message on it)'
        : ' (the peer never announced a subscription to the topic)'
    }
    throw Object.assign(new Error(`${step}: ${reason?.message ?? reason}${hint}`), { name: reason?.name ?? 'Error' })
  } finally {
    // stopping can hang on a half-open transport: do not wait long for it
    await Promise.race([
      node.stop().catch(() => {}),
      new Promise(resolve => setTimeout(resolve, 2000))
    ])
  }
}
