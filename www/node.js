import { get, coins, short, cell, row, showError, fillBlocks } from './api.js';

function entry(label, value) {
  const dt = document.createElement('dt');
  dt.textContent = label;
  const dd = document.createElement('dd');
  dd.textContent = value;
  return [dt, dd];
}

async function refresh() {
  try {
    const s = await get('/status');
    document.getElementById('status').replaceChildren(
      ...entry('Network', s.network),
      ...entry('Height', s.height),
      ...entry('Tip', s.tip_hash),
      ...entry('Difficulty', s.difficulty.toFixed(3)),
      ...entry('Average block time', `${s.average_block_time.toFixed(2)} s`),
      ...entry('Pending transactions', s.mempool_size),
      ...entry('Mining', s.is_mining ? `yes, ${Math.round(s.hash_rate).toLocaleString()} H/s` : 'no'),
      ...entry('Peers', s.peers_count),
    );
    await fillNetwork(s);
    await fillBlocks(document.querySelector('#blocks tbody'));
    const { transactions } = await get('/transactions/pending?limit=20');
    document.querySelector('#pending tbody').replaceChildren(
      ...transactions.map((t) => row(cell(short(t.txid), true), cell(short(t.sender_address), true), cell(short(t.recipient), true), cell(coins(t.amount)), cell(t.fee))),
    );
    showError(null);
  } catch (error) {
    showError(error);
  }
}

// The node's peer id and dialable addresses, then its connected peers.
async function fillNetwork(s) {
  const addrs = s.listen_addrs.length ? s.listen_addrs.join('\n') : 'not listening (no --listen, no --bootstrap)';
  document.getElementById('p2p').replaceChildren(
    ...entry('Peer id', s.peer_id || '—'),
    ...entry('Listen addresses', addrs),
  );
  const { peers } = await get('/network/peers');
  const connected = peers.filter((p) => p.connected);
  document.querySelector('#peers tbody').replaceChildren(
    ...(connected.length
      ? connected.map((p) => row(cell(short(p.peer_id), true), cell(p.multiaddrs[0] || '—', true), cell(p.latency_ms == null ? '—' : `${p.latency_ms} ms`)))
      : [row(cell('no peers connected'), cell(''), cell(''))]),
  );
}

refresh();
setInterval(refresh, 3000);
