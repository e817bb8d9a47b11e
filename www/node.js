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

refresh();
setInterval(refresh, 3000);
