// The light client of the page (www/pkg, DESIGN §5): loads the wasm,
// asks the node that served the page for its network and its
// browser-dialable addresses, joins over WebSocket (or WebRTC-direct) and
// keeps the header bar's network indicator up to date. Everything shown as
// verified comes through this client.

import init, { LightClient, Wallet } from '/pkg/blockchain_webclient.js';
import { get } from './api.js';
import { $, el } from './dom.js';
import { PREFIXES, encodeAddress } from './bech32.js';

export { Wallet };

let wasm = null;

/** Loads the WebAssembly module once. */
export function loadWasm() {
  wasm ??= init();
  return wasm;
}

const LOOPBACK = /^(127\.|localhost$|\[?::1\]?$)/;

/** The multiaddr's host (ip4/ip6/dns), or "". */
function hostOf(address) {
  const match = /^\/(?:ip4|ip6|dns4|dns6|dns)\/([^/]+)/.exec(address);
  return match ? match[1] : '';
}

/**
 * One address to dial per peer: WebSocket when the page is plain http,
 * WebRTC-direct when it is https (a page over https may not open ws://);
 * an address on the page's own host first.
 */
export function chooseBootstrap(listenAddrs, page = location) {
  const webSocket = listenAddrs.filter((a) => /\/(ws|wss|tls\/ws)\//.test(`${a}/`));
  const webRtc = listenAddrs.filter((a) => a.includes('/webrtc-direct/'));
  const secure = page.protocol === 'https:';
  const usable = secure
    ? [...webRtc, ...webSocket.filter((a) => /\/(wss|tls\/ws)\//.test(`${a}/`))]
    : [...webSocket, ...webRtc];
  const host = page.hostname.replace(/^\[|\]$/g, '');
  const rank = (a) => {
    const h = hostOf(a);
    if (h === host) return 0;
    if (LOOPBACK.test(host) && LOOPBACK.test(h)) return 1;
    if (!LOOPBACK.test(h)) return 2;
    return 3;
  };
  const sorted = usable
    .map((address, order) => ({ address, order }))
    .sort((a, b) => rank(a.address) - rank(b.address) || a.order - b.order);
  const byPeer = new Map();
  for (const { address } of sorted) {
    const peer = /\/p2p\/([^/]+)$/.exec(address)?.[1] ?? address;
    if (!byPeer.has(peer)) byPeer.set(peer, address);
  }
  return [...byPeer.values()];
}

const listeners = { tip: [], peers: [], transaction: [], synced: [], state: [] };

/** The page's connection: {client, network, prefix, status, synced, error}. */
export const net = {
  client: null,
  network: null,
  prefix: null,
  status: null,
  synced: false,
  error: null,
  resumedFrom: null,
};

function emit(event, detail) {
  for (const listener of listeners[event]) {
    try {
      listener(detail);
    } catch (error) {
      console.error(error);
    }
  }
}

/** Subscribes to "tip", "peers", "transaction", "synced" or "state" (indicator changes). */
export function on(event, listener) {
  listeners[event].push(listener);
}

function transportName(transport) {
  return transport === 'webrtc-direct' ? 'WebRTC' : 'WebSocket';
}

/** Updates the header's network indicator. */
function showState(text, kind) {
  const node = $('#net-state');
  if (node) {
    node.textContent = text;
    node.dataset.state = kind;
  }
  emit('state', { text, kind });
}

function describe() {
  const { client } = net;
  if (!client) return;
  const tip = client.tip();
  const peers = client.peers();
  const transports = [...new Set(peers.map((p) => transportName(p.transport)))].join(', ');
  if (!peers.length) {
    showState(`${net.network} · verified to block ${tip.height} · no peer connected`, 'warn');
  } else {
    showState(
      `${net.network} · verified to block ${tip.height}${net.synced ? '' : ' (syncing…)'} · ${peers.length} peer${peers.length > 1 ? 's' : ''} (${transports})`,
      net.synced ? 'ok' : 'busy',
    );
  }
}

let connecting = null;

/**
 * Starts the light client (once per page). Resolves with `net` once it
 * has started; `net.synced` turns true (and "synced" fires) when the
 * headers of every connected peer are verified.
 */
export function connect() {
  connecting ??= start();
  return connecting;
}

async function start() {
  showState('Connecting to the node…', 'busy');
  let status;
  try {
    [status] = await Promise.all([get('/status'), loadWasm()]);
  } catch (error) {
    net.error = error.code === 'UNREACHABLE'
      ? `Cannot reach the node at ${location.host}. Check that it is running and reload the page.`
      : `Cannot start the light client: ${error.message}`;
    showState('Node unreachable', 'error');
    throw Object.assign(new Error(net.error), { code: error.code || 'UNREACHABLE' });
  }
  net.status = status;
  net.network = status.network;
  net.prefix = PREFIXES[status.network] ?? '';
  const bootstrap = chooseBootstrap(status.listen_addrs || []);
  if (!bootstrap.length) {
    net.error = 'The node offers no address a browser can dial (start it with a /ws or /webrtc-direct --listen address).';
    showState('No browser transport', 'error');
    throw Object.assign(new Error(net.error), { code: 'NO_PEERS' });
  }
  const client = await LightClient.start({ network: status.network, bootstrap });
  net.client = client;
  net.resumedFrom = client.tip().height;
  window.blockchainApp = net; // for the console and the end-to-end tests
  // The client calls its listeners while it holds its own state: calling
  // back into it from there fails, so every listener runs just after.
  const later = (work) => (detail) => queueMicrotask(() => work(detail));
  client.on('tip', later((tip) => {
    describe();
    emit('tip', tip);
  }));
  client.on('peers', later((peers) => {
    describe();
    emit('peers', peers);
  }));
  client.on('transaction', later((tx) => emit('transaction', tx)));
  client.on('progress', later(() => describe()));
  client.on('error', (detail) => console.warn('light client:', detail?.message ?? detail));
  describe();
  waitForSync(client);
  followNodeEvents();
  return net;
}

/**
 * The node's event stream as a hint only: when it announces a block the
 * verified chain has not reached a moment later (gossip can miss one),
 * ask the peers for a state proof, which makes the client fetch and
 * verify the headers up to their tip. Nothing the stream says is shown.
 */
function followNodeEvents() {
  let timer = null;
  const behind = (event) => {
    let height;
    try {
      height = JSON.parse(event.data).height;
    } catch {
      return;
    }
    clearTimeout(timer);
    timer = setTimeout(async () => {
      if (!net.client || net.client.tip().height >= height) return;
      try {
        await net.client.getAccount(encodeAddress(new Uint8Array(20), net.prefix));
      } catch {
        // The client reports its own errors; this was a nudge.
      }
    }, 1500);
  };
  try {
    const events = new EventSource('/api/v1/events');
    events.addEventListener('new_block', behind);
    events.addEventListener('reorg', behind);
  } catch {
    // No event stream: gossip alone.
  }
}

async function waitForSync(client) {
  for (;;) {
    try {
      await client.waitForSync(30000);
      net.synced = true;
      net.error = null;
      describe();
      emit('synced', client.tip());
      return;
    } catch (error) {
      if (error.code === 'NO_PEERS') {
        net.error = `The light client cannot connect to the node's peer-to-peer port (${error.message}). Retrying…`;
        showState('Cannot connect to peers', 'error');
        emit('synced', null);
      }
      // TIMEOUT: still syncing; wait again.
    }
  }
}

/** Resolves once the client has synced (at once if it has). */
export function whenSynced() {
  if (net.synced) return Promise.resolve(net.client.tip());
  return new Promise((resolve) => {
    on('synced', (tip) => {
      if (tip) resolve(tip);
    });
  });
}

/**
 * A verified account, retried briefly when the peer's proof is against a
 * tip our headers have not reached yet (`NOT_FOUND` for a moment after
 * each new block).
 */
export async function verifiedAccount(address) {
  let last;
  for (let attempt = 0; attempt < 8; attempt++) {
    try {
      return await net.client.getAccount(address);
    } catch (error) {
      last = error;
      if (error.code !== 'NOT_FOUND' && error.code !== 'NO_PEERS') throw error;
      await new Promise((resolve) => setTimeout(resolve, 250 * (attempt + 1)));
    }
  }
  throw last;
}

/** A small indicator element for pages that build their header themselves. */
export function stateIndicator() {
  return el('p', { id: 'net-state', class: 'net-state', role: 'status', 'data-state': 'busy', text: 'Connecting…' });
}
