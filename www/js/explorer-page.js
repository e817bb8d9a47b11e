// The explorer at `/explorer`, with linkable pages:
//   /explorer                    latest blocks, arriving live by gossip
//   /explorer/block/<height|hash> a block, checked against its verified header
//   /explorer/tx/<txid>          a transaction and its verified inclusion proof
//   /explorer/address/<address>  verified balance and nonce, history
//   /explorer/mempool            pending transactions (unverified)
//   /explorer/network            peers, difficulty and block times
// The node serves explorer.html for all of them; this module routes.

import { get } from './api.js';
import { checkAddress } from './bech32.js';
import { chart } from './chart.js';
import { connect, net, on, verifiedAccount, whenSynced } from './client.js';
import { $, ago, amount, el, errorText, fillRows, mark, marked, say, short, timeText } from './dom.js';
import { AddressHistory, addressLink } from './history.js';

const LATEST = 15;
const CHART_BLOCKS = 100;

/** Verified blocks by hash (a block's contents never change). */
const blocks = new Map();

async function verifiedBlock(heightOrHash) {
  if (typeof heightOrHash === 'string' && blocks.has(heightOrHash)) return blocks.get(heightOrHash);
  const block = await net.client.getBlock(heightOrHash);
  if (block.verified) blocks.set(block.hash, block);
  return block;
}

/** Block fetches of the latest-blocks list run a few at a time, with retries. */
const fetches = [];
let fetching = 0;

function queueBlock(hash) {
  return new Promise((resolve, reject) => {
    fetches.push({ hash, resolve, reject, tries: 0 });
    pump();
  });
}

function pump() {
  while (fetching < 4 && fetches.length) {
    const job = fetches.shift();
    fetching++;
    verifiedBlock(job.hash).then(job.resolve, (error) => {
      if (++job.tries < 4 && error.code !== 'VERIFICATION_FAILED') {
        setTimeout(() => {
          fetches.push(job);
          pump();
        }, 300 * job.tries);
      } else {
        job.reject(error);
      }
    }).finally(() => {
      fetching--;
      pump();
    });
  }
}

/**
 * Verified best-chain headers from `from`. A client resumed from stored
 * headers may not hold genesis in memory: then the list starts at block 1.
 */
async function verifiedHeaders(from, count) {
  const list = await net.client.headers(from, count);
  if (!list.length && from === 0 && count > 1) return net.client.headers(1, count - 1);
  return list;
}

/** Is the block of `hash` at `height` on the verified best chain? */
async function onBestChain(height, hash) {
  const [header] = await net.client.headers(height, 1);
  return header?.hash === hash;
}

const view = $('#view');
let current = null;
let navigation = 0;

function link(href, text, attrs = {}) {
  return el('a', { href, ...attrs }, text);
}

const blockLink = (height) => link(`/explorer/block/${height}`, `#${height}`);
const txLink = (txid, length = [10, 8]) => link(`/explorer/tx/${txid}`, short(txid, ...length), { class: 'mono', title: txid });

function dl(rows) {
  return el('dl', { class: 'grid' }, ...rows.flatMap(([label, ...value]) => [el('dt', { text: label }), el('dd', {}, ...value)]));
}

function table(caption, headings, bodyId) {
  const tbody = el('tbody', { id: bodyId });
  const t = el('table', { class: 'stack' },
    el('caption', { class: 'visually-hidden', text: caption }),
    el('thead', {}, el('tr', {}, ...headings.map((h) => (typeof h === 'string'
      ? el('th', { scope: 'col', text: h })
      : el('th', { scope: 'col', class: h.class, text: h.text }))))),
    tbody);
  return { wrap: el('div', { class: 'table-wrap', role: 'region', 'aria-label': `${caption} (table)`, tabindex: '0' }, t), tbody };
}

function heading(text, ...extra) {
  return el('h1', { tabindex: '-1' }, text, ...extra);
}

function problem(text) {
  return el('p', { class: 'msg msg-error', role: 'alert', text });
}

// ---------------------------------------------------------------- home

async function homeView() {
  const tipBox = el('div', { class: 'cards' });
  const { wrap, tbody } = table('Latest blocks', ['Height', 'Hash', 'Time', 'Transactions', 'Status'], 'latest-blocks');
  const node = el('div', {},
    heading('Latest blocks'),
    tipBox,
    el('section', { class: 'card', 'aria-label': 'Latest blocks' },
      el('p', { class: 'note', text: 'New blocks appear as they arrive by gossip. Each header is checked here (proof of work, difficulty, linkage, most work); a block\'s transactions are checked against its merkle root before they are counted.' }),
      wrap));
  let shown = new Set();

  async function render() {
    const tip = net.client.tip();
    tipBox.replaceChildren(
      marked('section', 'block', true, { class: 'card', 'aria-label': 'Verified tip' },
        el('p', { class: 'label', text: 'Verified tip' }),
        el('p', { class: 'big' }, blockLink(tip.height)),
        el('p', { class: 'hint mono', text: short(tip.hash, 16, 8) }),
        el('p', {}, ago(tip.time), ' ', mark(true, 'header in the proof-of-work chain'))),
      el('section', { class: 'card', 'aria-label': 'Peers' },
        el('p', { class: 'label', text: 'Peers of this page' }),
        el('p', { class: 'big', text: String(net.client.peers().length) }),
        el('p', { class: 'hint' }, link('/explorer/network', 'Network and charts'))),
    );
    const from = Math.max(0, tip.height - LATEST + 1);
    const headers = (await verifiedHeaders(from, LATEST)).reverse();
    const rows = headers.map((header) => {
      const count = el('td', { class: 'num', text: '…' });
      const row = marked('tr', 'block', header.verified, { 'data-height': header.index, 'data-hash': header.hash, class: shown.size && !shown.has(header.hash) ? 'new' : null },
        el('td', {}, blockLink(header.index)),
        el('td', { class: 'mono' }, link(`/explorer/block/${header.hash}`, short(header.hash, 12, 6), { title: header.hash })),
        el('td', { class: 'nowrap', text: timeText(header.timestamp) }),
        count,
        el('td', {}, mark(header.verified, 'header in the proof-of-work chain')));
      const known = blocks.get(header.hash);
      if (known) {
        count.textContent = String(known.transactions.length);
      } else {
        queueBlock(header.hash).then((block) => {
          count.textContent = String(block.transactions.length);
        }).catch((error) => {
          count.textContent = '?';
          count.title = `The block could not be fetched and checked: ${errorText(error)}`;
        });
      }
      return row;
    });
    shown = new Set(headers.map((h) => h.hash));
    fillRows(tbody, rows, 'No blocks yet.');
  }
  await render();
  return { node, title: 'Latest blocks', onTip: render };
}

// ---------------------------------------------------------------- block

async function blockView(id) {
  const key = /^\d+$/.test(id) ? Number(id) : id.toLowerCase();
  if (typeof key === 'string' && !/^[0-9a-f]{64}$/.test(key)) {
    return { node: el('div', {}, heading('Block'), problem('A block is named by its height or its 64-digit hash.')), title: 'Block' };
  }
  let block;
  try {
    block = await verifiedBlock(key);
  } catch (error) {
    const text = error.code === 'NOT_FOUND'
      ? `Block ${id} is not in the verified header chain${typeof key === 'number' ? ` (the verified tip is #${net.client.tip().height})` : ''}.`
      : `Could not verify block ${id}: ${errorText(error)}`;
    return { node: el('div', {}, heading('Block'), problem(text)), title: 'Block', onTip: 'reload' };
  }
  const confirmations = el('span', { id: 'block-confirmations', text: String(block.confirmations) });
  const { wrap, tbody } = table(`Transactions of block ${block.index}`, ['Transaction', 'From', 'To', { text: 'Amount', class: 'num' }, { text: 'Fee', class: 'num' }], 'block-transactions');
  fillRows(tbody, block.transactions.map((tx) => marked('tr', 'tx', block.verified, { 'data-txid': tx.txid },
    el('td', { class: 'nowrap' }, txLink(tx.txid, [8, 6]), ' ', mark(block.verified, 'in this verified block')),
    el('td', { class: 'mono' }, tx.sender_address ? addressLink(tx.sender_address) : 'coinbase'),
    el('td', { class: 'mono' }, addressLink(tx.recipient)),
    el('td', { class: 'num' }, amount(tx.amount, block.verified)),
    el('td', { class: 'num' }, amount(tx.fee, block.verified)))), 'No transactions.');
  const node = el('div', {},
    el('p', { class: 'crumbs' }, link('/explorer', 'Explorer'), ' › Block'),
    heading(`Block #${block.index} `, mark(block.verified, 'checked against its verified header')),
    marked('section', 'block', block.verified, { class: 'card', id: 'block-summary', 'aria-label': 'Block header' },
      el('p', { class: 'note' }, block.verified
        ? 'Verified in this page: its header is in the proof-of-work chain, its transactions hash to the header\'s merkle root, and every signature checks.'
        : 'Not verified.', ' ', mark(block.verified)),
      dl([
        ['Hash', el('code', { id: 'block-hash', text: block.hash })],
        ['Previous block', block.index > 0 ? link(`/explorer/block/${block.previous_hash}`, el('code', { text: block.previous_hash })) : 'none (genesis)'],
        ['Time', `${timeText(block.timestamp)} (${ago(block.timestamp)})`],
        ['Confirmations', confirmations],
        ['Transactions', String(block.transactions.length)],
        ['Merkle root', el('code', { text: block.merkle_root })],
        ['State root', el('code', { text: block.state_root })],
        ['Difficulty', block.difficulty.toPrecision(6)],
        ['Bits', `0x${block.bits.toString(16).padStart(8, '0')}`],
        ['Nonce', String(block.nonce)],
        ['Size', `${block.size.toLocaleString()} bytes`],
        ['Chain work', el('code', { text: block.chain_work.replace(/^0+(?=.)/, '') })],
      ]),
      el('div', { class: 'pager' },
        block.index > 0 ? link(`/explorer/block/${block.index - 1}`, `← Block #${block.index - 1}`) : el('span'),
        link(`/explorer/block/${block.index + 1}`, `Block #${block.index + 1} →`))),
    el('section', { class: 'card', 'aria-labelledby': 'block-tx-title' },
      el('h2', { id: 'block-tx-title', text: 'Transactions' }),
      wrap));
  const onTip = async () => {
    const best = await onBestChain(block.index, block.hash);
    confirmations.textContent = best ? String(net.client.tip().height - block.index + 1) : '0 (not on the best chain)';
  };
  return { node, title: `Block #${block.index}`, onTip };
}

// ---------------------------------------------------------------- transaction

async function txView(txid) {
  txid = txid.toLowerCase();
  if (!/^[0-9a-f]{64}$/.test(txid)) {
    return { node: el('div', {}, heading('Transaction'), problem('A transaction id is 64 hexadecimal digits.')), title: 'Transaction' };
  }
  const crumbs = el('p', { class: 'crumbs' }, link('/explorer', 'Explorer'), ' › Transaction');
  let info = null;
  let failure = null;
  try {
    info = await net.client.getTransaction(txid);
  } catch (error) {
    failure = error;
  }
  if (info) {
    const tx = info.transaction;
    const confirmations = el('span', { id: 'tx-confirmations', text: String(info.confirmations) });
    const node = el('div', {}, crumbs,
      heading('Transaction ', mark(info.verified, `inclusion proof checked against block ${info.blockHeight}`)),
      marked('section', 'tx', info.verified, { class: 'card', id: 'tx-summary', 'aria-label': 'Transaction' },
        el('p', { class: 'note' }, `Confirmed. Its inclusion proof was checked in this page against block #${info.blockHeight}, a header of the verified best chain.`, ' ', mark(info.verified)),
        txFields(tx, info.verified, [
          ['Status', el('span', { class: 'status-confirmed', text: 'Confirmed' })],
          ['Block', blockLink(info.blockHeight), ' ', el('code', { class: 'hide-phone', text: short(info.blockHash, 12, 6) })],
          ['Confirmations', confirmations],
        ])));
    const onTip = async () => {
      const best = await onBestChain(info.blockHeight, info.blockHash);
      if (!best) return 'reload';
      confirmations.textContent = String(net.client.tip().height - info.blockHeight + 1);
      return null;
    };
    return { node, title: `Transaction ${short(txid, 8, 6)}`, onTip };
  }
  // Not provably in a block: pending (seen by gossip, or the node says so), or unknown.
  const gossip = net.client.pendingTransactions().find((tx) => tx.txid === txid);
  let reported = null;
  try {
    reported = await get(`/transactions/${txid}`);
  } catch {
    reported = null;
  }
  const tx = gossip || reported;
  if (!tx) {
    const text = failure?.code === 'NOT_FOUND' || !failure ? `Transaction ${txid} is not known to this page, its peers or the node.` : `Could not verify the transaction: ${errorText(failure)}`;
    return { node: el('div', {}, crumbs, heading('Transaction'), problem(text)), title: 'Transaction', onTip: 'reload' };
  }
  const pending = !reported || reported.status === 'pending';
  const source = gossip ? 'seen on the peer-to-peer network (its signature checked)' : 'reported by the node';
  const text = pending
    ? `Pending: not in a block yet, ${source}. Nothing proves it will be included.`
    : `The node says it is in block #${reported.block_height}, but this page has not verified that (${errorText(failure)}).`;
  const node = el('div', {}, crumbs,
    heading('Transaction ', mark(false, pending ? 'pending' : 'not verified')),
    marked('section', 'tx', false, { class: 'card', id: 'tx-summary', 'aria-label': 'Transaction' },
      el('p', { class: 'note' }, text, ' ', mark(false)),
      txFields(tx, false, [['Status', el('span', { class: 'status-pending', id: 'tx-status', text: pending ? 'Pending' : 'Unverified' })]])));
  return { node, title: `Transaction ${short(txid, 8, 6)}`, onTip: 'reload' };
}

function fullAddress(address) {
  return link(`/explorer/address/${address}`, el('code', { class: 'address', text: address }));
}

function txFields(tx, verified, extra) {
  return dl([
    ['Transaction id', el('code', { id: 'tx-id', text: tx.txid })],
    ...extra,
    ['From', tx.sender_address ? fullAddress(tx.sender_address) : 'coinbase (block reward and fees)'],
    ['To', fullAddress(tx.recipient)],
    ['Amount', amount(tx.amount, verified)],
    ['Fee', amount(tx.fee, verified)],
    ['Nonce', String(tx.nonce)],
    ['Time', timeText(tx.timestamp)],
    ['Signature', tx.signature ? `RSA-PSS, ${tx.signature.length / 2} bytes` : 'none (coinbase)'],
  ]);
}

// ---------------------------------------------------------------- address

async function addressView(text) {
  const crumbs = el('p', { class: 'crumbs' }, link('/explorer', 'Explorer'), ' › Address');
  const checked = checkAddress(decodeURIComponent(text), net.prefix);
  if (!checked.ok) {
    return { node: el('div', {}, crumbs, heading('Address'), problem(`Not a valid ${net.network} address: ${checked.message}`)), title: 'Address' };
  }
  const address = checked.address;
  const balance = el('div', { id: 'address-balance' }, el('span', { class: 'checking', text: 'Verifying…' }));
  const nonce = el('p', { class: 'big', id: 'address-nonce', text: '…' });
  const detail = el('p', { class: 'hint' });
  const pendingBox = el('div', { id: 'address-pending' });
  const { wrap, tbody } = table('Transactions of this address', ['Time', 'Type', 'With', 'Amount', 'Status', 'Transaction'], 'address-history');
  const status = el('p', { class: 'hint', role: 'status' });
  const more = el('button', { type: 'button', hidden: true, text: 'Load older' });
  let mempool = [];
  const pending = () => {
    const seen = new Map();
    for (const tx of [...net.client.pendingTransactions(), ...mempool]) {
      if ((tx.sender_address === address || tx.recipient === address) && !seen.has(tx.txid)) {
        seen.set(tx.txid, { tx, source: mempool.includes(tx) ? 'reported by the node' : 'seen on the network' });
      }
    }
    return [...seen.values()];
  };
  const history = new AddressHistory({ address, tbody, more, status, pending });
  const node = el('div', {}, crumbs,
    heading('Address'),
    el('p', {}, el('code', { class: 'address', id: 'address-text', text: address })),
    el('div', { class: 'cards' },
      el('section', { class: 'card', 'aria-label': 'Balance' }, el('p', { class: 'label', text: 'Balance' }), balance, detail),
      el('section', { class: 'card', 'aria-label': 'Nonce' }, el('p', { class: 'label', text: 'Nonce (transactions sent)' }), nonce),
      el('section', { class: 'card', 'aria-label': 'Pending' }, el('p', { class: 'label', text: 'Pending' }), pendingBox)),
    el('section', { class: 'card', 'aria-labelledby': 'address-history-title' },
      el('h2', { id: 'address-history-title', text: 'History' }),
      el('p', { class: 'note', text: 'The list comes from the node\'s REST API; each confirmed entry is checked here by its inclusion proof before it is marked verified.' }),
      status, wrap, more));
  async function refresh() {
    try {
      const account = await verifiedAccount(address);
      balance.replaceChildren(el('p', { class: 'big' }, amount(account.balance, account.verified, `state proof against block ${account.height}`)));
      nonce.replaceChildren(String(account.nonce), ' ', mark(account.verified, 'state proof'));
      detail.textContent = `State proof checked against block #${account.height}, the verified tip.`;
    } catch (error) {
      balance.replaceChildren(el('span', { class: 'checking', text: 'Not verified' }));
      detail.textContent = `The balance could not be verified: ${errorText(error)}`;
    }
    try {
      mempool = (await get('/transactions/pending?limit=100')).transactions;
    } catch {
      mempool = [];
    }
    let out = 0n;
    let incoming = 0n;
    for (const { tx } of pending()) {
      if (tx.sender_address === address) out += BigInt(tx.amount) + BigInt(tx.fee);
      if (tx.recipient === address && tx.sender_address !== address) incoming += BigInt(tx.amount);
    }
    const parts = [];
    if (out) parts.push(el('p', {}, 'Sending ', amount(-out, false, 'not in a block yet')));
    if (incoming) parts.push(el('p', {}, 'Receiving ', amount(incoming, false, 'not in a block yet', true)));
    pendingBox.replaceChildren(...(parts.length ? parts : [el('p', { class: 'hint', text: 'Nothing pending.' })]));
    await history.refresh();
  }
  refresh();
  return { node, title: `Address ${short(address, 12, 6)}`, onTip: refresh, onTransaction: refresh, dispose: () => history.dispose() };
}

// ---------------------------------------------------------------- mempool

async function mempoolView() {
  const { wrap, tbody } = table('Pending transactions', ['Transaction', 'From', 'To', { text: 'Amount', class: 'num' }, { text: 'Fee', class: 'num' }, 'Seen', 'Status'], 'mempool');
  const summary = el('p', { class: 'hint', role: 'status' });
  const node = el('div', {},
    el('p', { class: 'crumbs' }, link('/explorer', 'Explorer'), ' › Mempool'),
    heading('Mempool ', mark(false, 'pending transactions are not in any block')),
    el('section', { class: 'card', 'aria-label': 'Pending transactions' },
      el('p', { class: 'note', text: 'Transactions waiting for a block, as the node reports them and as this page saw them on the peer-to-peer network (with their signatures checked). None of them is verified: nothing proves a pending transaction will be included, and the node may not list them all.' }),
      summary, wrap));
  async function render() {
    let reported = [];
    let error = null;
    try {
      reported = (await get('/transactions/pending?limit=100')).transactions;
    } catch (e) {
      error = e;
    }
    const gossip = net.client.pendingTransactions();
    const byId = new Map();
    for (const tx of reported) byId.set(tx.txid, { tx, node: true, gossip: false });
    for (const tx of gossip) {
      const entry = byId.get(tx.txid);
      if (entry) entry.gossip = true;
      else byId.set(tx.txid, { tx, node: false, gossip: true });
    }
    const rows = [...byId.values()].map(({ tx, node: fromNode, gossip: seen }) => marked('tr', 'tx', false, { 'data-txid': tx.txid },
      el('td', {}, txLink(tx.txid, [8, 6])),
      el('td', { class: 'mono' }, addressLink(tx.sender_address)),
      el('td', { class: 'mono' }, addressLink(tx.recipient)),
      el('td', { class: 'num' }, amount(tx.amount, false)),
      el('td', { class: 'num' }, amount(tx.fee, false)),
      el('td', { text: [fromNode && 'node', seen && 'gossip'].filter(Boolean).join(', ') }),
      el('td', {}, el('span', { class: 'status-pending', text: 'Pending' }), ' ', mark(false, 'not in a block'))));
    fillRows(tbody, rows, 'The mempool is empty.');
    summary.textContent = `${rows.length} pending transaction${rows.length === 1 ? '' : 's'}${error ? ` (the node could not be asked: ${error.message})` : ''}.`;
  }
  await render();
  const timer = setInterval(render, 5000);
  return { node, title: 'Mempool', onTip: render, onTransaction: render, dispose: () => clearInterval(timer) };
}

// ---------------------------------------------------------------- network

async function networkView() {
  const mine = table('Peers of this page', ['Peer', 'Transport', 'Address'], 'page-peers');
  const theirs = table('Peers of the node', ['Peer', 'Connected', 'Address', 'Latency'], 'node-peers');
  const charts = el('div', { id: 'charts' });
  const tipLine = el('p', { class: 'hint' });
  const node = el('div', {},
    el('p', { class: 'crumbs' }, link('/explorer', 'Explorer'), ' › Network'),
    heading('Network'),
    el('section', { class: 'card', 'aria-labelledby': 'charts-title' },
      el('h2', { id: 'charts-title', text: `Difficulty and block times, last ${CHART_BLOCKS} blocks` }),
      el('p', { class: 'note' }, 'From the verified headers ', mark(true, 'header chain checked in this page')),
      tipLine, charts),
    el('section', { class: 'card', 'aria-labelledby': 'page-peers-title' },
      el('h2', { id: 'page-peers-title', text: 'This page\'s connections' }),
      el('p', { class: 'note', text: 'The light client in this page talks to these peers directly, from the browser.' }),
      mine.wrap),
    el('section', { class: 'card', 'aria-labelledby': 'node-peers-title' },
      el('h2', { id: 'node-peers-title', text: 'The node\'s peers' }),
      el('p', { class: 'note', text: 'As the node reports them (REST API, not verified).' }),
      theirs.wrap));
  let lastChart = 0;
  async function render(force) {
    fillRows(mine.tbody, net.client.peers().map((p) => el('tr', {},
      el('td', { class: 'mono', text: short(p.peerId, 10, 6) }),
      el('td', { text: p.transport === 'webrtc-direct' ? 'WebRTC-direct' : 'WebSocket' }),
      el('td', { class: 'mono', text: p.address })))
    , 'No connection.');
    try {
      const { peers } = await get('/network/peers');
      fillRows(theirs.tbody, peers.map((p) => el('tr', {},
        el('td', { class: 'mono', text: short(p.peer_id, 10, 6) }),
        el('td', { text: p.connected ? 'yes' : 'no' }),
        el('td', { class: 'mono', text: p.multiaddrs[0] || '—' }),
        el('td', { text: p.latency_ms == null ? '—' : `${p.latency_ms} ms` }))), 'The node has no peers.');
    } catch (error) {
      fillRows(theirs.tbody, [], `Could not ask the node: ${error.message}`);
    }
    if (!force && Date.now() - lastChart < 3000) return;
    lastChart = Date.now();
    const tip = net.client.tip();
    const from = Math.max(0, tip.height - CHART_BLOCKS);
    const headers = await verifiedHeaders(from, CHART_BLOCKS + 1);
    tipLine.textContent = `Verified tip #${tip.height}, ${headers.length} headers shown.`;
    const difficulty = headers.filter((h) => h.index > 0).map((h) => ({ x: h.index, y: h.difficulty }));
    const times = [];
    for (let i = 1; i < headers.length; i++) {
      if (headers[i].index <= 1) continue; // block 1's gap to the fixed genesis time says nothing
      times.push({ x: headers[i].index, y: (headers[i].timestamp - headers[i - 1].timestamp) / 1000 });
    }
    charts.replaceChildren(
      el('h3', { text: 'Difficulty' }),
      chart({ points: difficulty, title: 'Difficulty', format: (y) => y.toPrecision(4), id: 'difficulty-chart' }),
      el('h3', { text: 'Time between blocks (seconds)' }),
      chart({ points: times, kind: 'bar', title: 'Seconds between blocks', format: (y) => y.toFixed(1), id: 'block-time-chart' }),
    );
  }
  await render(true);
  on('peers', () => {
    if (current?.node === node) render(false);
  });
  return { node, title: 'Network', onTip: () => render(false) };
}

// ---------------------------------------------------------------- routing

function parse(pathname) {
  const parts = pathname.replace(/\/+$/, '').split('/').slice(2).map(decodeURIComponent);
  const [page, arg] = parts;
  if (!page) return () => homeView();
  if (page === 'block' && arg) return () => blockView(arg);
  if (page === 'tx' && arg) return () => txView(arg);
  if (page === 'address' && arg) return () => addressView(arg);
  if (page === 'mempool') return () => mempoolView();
  if (page === 'network') return () => networkView();
  return async () => ({ node: el('div', {}, heading('Not found'), problem(`There is no explorer page at ${pathname}.`)), title: 'Not found' });
}

async function render(focus) {
  const token = ++navigation;
  current?.dispose?.();
  current = null;
  view.setAttribute('aria-busy', 'true');
  if (focus) view.replaceChildren(el('p', { class: 'hint', text: 'Loading…' }));
  let result;
  try {
    result = await parse(location.pathname)();
  } catch (error) {
    result = { node: el('div', {}, heading('Error'), problem(errorText(error))), title: 'Error' };
  }
  if (token !== navigation) {
    result.dispose?.();
    return;
  }
  current = result;
  view.replaceChildren(result.node);
  view.removeAttribute('aria-busy');
  document.title = `${result.title} · BlockChain explorer`;
  if (focus) view.querySelector('h1')?.focus();
}

export function go(path) {
  history.pushState(null, '', path);
  say($('#search-error'), '');
  render(true);
}

document.addEventListener('click', (event) => {
  const anchor = event.target.closest?.('a[href^="/explorer"]');
  if (!anchor || event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
  if (!net.client) return;
  event.preventDefault();
  if (anchor.getAttribute('href') !== location.pathname) go(anchor.getAttribute('href'));
});
window.addEventListener('popstate', () => render(true));

$('#search').addEventListener('submit', async (event) => {
  event.preventDefault();
  const error = $('#search-error');
  say(error, '');
  const query = $('#query').value.trim();
  if (!query) return;
  if (/^\d+$/.test(query)) return go(`/explorer/block/${query}`);
  if (/^[0-9a-fA-F]{64}$/.test(query)) {
    // Which kind of hash: asked of the node only to choose the page; the page then verifies.
    try {
      await get(`/blocks/hash/${query.toLowerCase()}`);
      return go(`/explorer/block/${query.toLowerCase()}`);
    } catch {
      return go(`/explorer/tx/${query.toLowerCase()}`);
    }
  }
  const checked = checkAddress(query, net.prefix);
  if (checked.ok) return go(`/explorer/address/${checked.address}`);
  if (/^[a-z]+1/i.test(query)) {
    say(error, `Not a valid address: ${checked.message}`, 'error');
  } else {
    say(error, 'Enter a block height, a block hash, a transaction id (64 hex digits) or an address.', 'error');
  }
  $('#query').focus();
});

let tipTimer = null;
on('tip', (tip) => {
  $('#live').textContent = `New verified block #${tip.height}`;
  // Coalesce bursts of tips (a sync, many mined blocks) into one update.
  clearTimeout(tipTimer);
  tipTimer = setTimeout(async () => {
    if (!current?.onTip) return;
    if (current.onTip === 'reload') return render(false);
    const again = await current.onTip();
    if (again === 'reload') render(false);
  }, 150);
});
on('transaction', () => current?.onTransaction?.());

async function boot() {
  try {
    await connect();
  } catch (error) {
    say($('#alert'), error.message, 'error');
    view.replaceChildren();
    return;
  }
  view.replaceChildren(el('p', { class: 'hint', text: 'Syncing the header chain…' }));
  on('synced', (tip) => say($('#alert'), tip ? '' : net.error, 'error'));
  await whenSynced();
  await render(false);
  document.body.dataset.ready = 'true';
}

boot();
