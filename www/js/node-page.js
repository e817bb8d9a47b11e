// The node page at `/node`: what the node reports (status, mining, peers,
// latest blocks; all unverified), and the operator's controls after an
// administrator login (docs/API.md, Login): the page signs the node's
// challenge with a wallet key held here, and keeps the token in
// sessionStorage (this tab only).

import { api, get } from './api.js';
import { PREFIXES, checkAddress } from './bech32.js';
import { Wallet, loadWasm } from './client.js';
import { $, el, errorText, fillRows, mark, marked, say, short, timeText } from './dom.js';
import { listWallets } from './wallets.js';

const SESSION = 'blockchain.node.session';
let status = null;

function entry(label, ...value) {
  return [el('dt', { text: label }), el('dd', {}, ...value)];
}

function session() {
  try {
    const value = JSON.parse(sessionStorage.getItem(SESSION));
    if (value && value.expires_at > Date.now()) return value;
  } catch {
    // a damaged entry: log in again
  }
  sessionStorage.removeItem(SESSION);
  return null;
}

// ---------------------------------------------------------------- what the node reports

async function refresh() {
  try {
    status = await get('/status');
    const mining = await get('/mining/status');
    $('#status').replaceChildren(
      ...entry('Network', status.network),
      ...entry('Height', String(status.height), ' ', mark(false, 'reported by the node')),
      ...entry('Tip', el('code', { text: status.tip_hash })),
      ...entry('Difficulty', status.difficulty.toPrecision(6)),
      ...entry('Average block time', `${status.average_block_time.toFixed(2)} s`),
      ...entry('Pending transactions', String(status.mempool_size)),
      ...entry('Version', status.version),
      ...entry('Up', `${Math.floor(status.uptime_seconds / 60)} min ${status.uptime_seconds % 60} s`),
    );
    $('#mining').replaceChildren(
      ...entry('Mining', mining.is_mining ? 'yes' : 'no'),
      ...entry('Hash rate', `${Math.round(mining.hash_rate).toLocaleString()} H/s`),
      ...entry('Threads', String(mining.threads)),
      ...entry('Miner address', mining.miner_address ? el('code', { class: 'address', text: mining.miner_address }) : 'none set'),
    );
    $('#p2p').replaceChildren(
      ...entry('Peer id', el('code', { text: status.peer_id || '—' })),
      ...entry('Listen addresses', status.listen_addrs.length
        ? el('ul', { class: 'plain' }, ...status.listen_addrs.map((a) => el('li', {}, el('code', { text: a }))))
        : 'not listening'),
    );
    const { peers } = await get('/network/peers');
    fillRows($('#peers tbody'), peers.map((p) => el('tr', {},
      el('td', { class: 'mono', text: short(p.peer_id, 10, 6) }),
      el('td', { text: p.connected ? 'yes' : 'no' }),
      el('td', { class: 'mono', text: p.multiaddrs[0] || '—' }),
      el('td', { text: p.latency_ms == null ? '—' : `${p.latency_ms} ms` }))), 'No peers.');
    const { blocks } = await get('/blocks/latest?limit=10');
    fillRows($('#blocks tbody'), blocks.map((b) => marked('tr', 'block', false, {},
      el('td', {}, el('a', { href: `/explorer/block/${b.index}`, text: `#${b.index}` })),
      el('td', { class: 'mono', text: short(b.hash, 12, 6) }),
      el('td', { class: 'nowrap', text: timeText(b.timestamp) }),
      el('td', { text: String(b.transactions.length) }),
      el('td', {}, mark(false, 'reported by the node')))), 'No blocks.');
    $('#mine-n').hidden = status.network !== 'regtest';
    say($('#alert'), '');
  } catch (error) {
    say($('#alert'), error.code === 'UNREACHABLE' ? `Cannot reach the node at ${location.host}: is it running?` : errorText(error), 'error');
  }
}

// ---------------------------------------------------------------- login

function showSession() {
  const current = session();
  $('#login-box').hidden = Boolean(current);
  $('#controls').hidden = !current;
  if (current) {
    $('#session').textContent = `Logged in as ${current.address} until ${new Date(current.expires_at).toLocaleTimeString()}.`;
    if (!$('#miner-address').value) $('#miner-address').value = current.address;
  } else {
    const wallets = listWallets(status?.network);
    $('#login-wallet').replaceChildren(
      el('option', { value: '', text: wallets.length ? '— choose —' : 'none on this device' }),
      ...wallets.map((w) => el('option', { value: w.address, text: `${w.name} · ${short(w.address, 12, 6)}` })),
    );
    $('#login-stored').hidden = wallets.length === 0;
  }
}

function loginError(error) {
  switch (error.code) {
    case 'WRONG_PASSWORD':
      return 'Wrong password for this wallet.';
    case 'INVALID_KEYSTORE':
      return `Not a valid keystore file (${error.message}).`;
    case 'NOT_ADMIN':
      return 'This wallet is not an administrator of this node (the node lists its administrators with --admin-address).';
    case 'CHALLENGE_EXPIRED':
    case 'CHALLENGE_UNKNOWN_OR_USED':
      return 'The login challenge expired; try again.';
    default:
      return errorText(error);
  }
}

$('#login-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  const form = event.target;
  const error = $('#login-error');
  say(error, '');
  const file = $('#login-file').files[0];
  const stored = listWallets().find((w) => w.address === $('#login-wallet').value);
  if (!file && !stored) {
    say(error, 'Choose a wallet of this device or a keystore file.', 'error');
    return;
  }
  for (const control of form.elements) control.disabled = true;
  let wallet = null;
  try {
    await loadWasm();
    const keystore = file ? await file.text() : stored.keystore;
    wallet = await Wallet.fromKeystore(keystore, $('#login-password').value);
    const { challenge } = await api('POST', '/auth/challenge');
    const signature = await wallet.signChallenge(challenge);
    const token = await api('POST', '/auth/login', { challenge, public_key: wallet.publicKey, signature });
    sessionStorage.setItem(SESSION, JSON.stringify({ token: token.token, address: token.address, expires_at: token.expires_at }));
    form.reset();
    showSession();
    $('#session').focus();
  } catch (e) {
    say(error, loginError(e), 'error');
  } finally {
    wallet?.free?.();
    for (const control of form.elements) control.disabled = false;
  }
});

$('#logout-button').addEventListener('click', () => {
  sessionStorage.removeItem(SESSION);
  say($('#mine-status'), '');
  showSession();
  $('#login-password').focus();
});

// ---------------------------------------------------------------- controls

/** Calls a protected route with the session's token; an expired session logs out. */
async function operator(method, path, body) {
  const current = session();
  if (!current) {
    showSession();
    throw new Error('Your session expired: log in again.');
  }
  try {
    return await api(method, path, body, current.token);
  } catch (error) {
    if (['TOKEN_EXPIRED', 'INVALID_TOKEN', 'NOT_ADMIN'].includes(error.code)) {
      sessionStorage.removeItem(SESSION);
      showSession();
    }
    throw error;
  }
}

function minerAddress() {
  const value = $('#miner-address').value.trim();
  if (!value) return null;
  const checked = checkAddress(value, PREFIXES[status?.network] ?? '');
  if (!checked.ok) {
    $('#miner-hint').textContent = checked.message;
    $('#miner-hint').className = 'hint hint-error';
    $('#miner-address').setAttribute('aria-invalid', 'true');
    throw new Error(`Miner address: ${checked.message}`);
  }
  $('#miner-hint').textContent = '';
  $('#miner-hint').className = 'hint';
  $('#miner-address').removeAttribute('aria-invalid');
  return checked.address;
}

async function control(button, work) {
  const message = $('#mine-status');
  button.disabled = true;
  try {
    say(message, await work(), 'ok');
  } catch (error) {
    say(message, errorText(error), 'error');
  } finally {
    button.disabled = false;
    refresh();
  }
}

$('#start-mining').addEventListener('click', (event) => control(event.target, async () => {
  const address = minerAddress();
  const answer = await operator('POST', '/mining/start', address ? { miner_address: address } : {});
  return `Mining started (${answer.threads} thread${answer.threads === 1 ? '' : 's'}).`;
}));

$('#stop-mining').addEventListener('click', (event) => control(event.target, async () => {
  await operator('POST', '/mining/stop');
  return 'Mining stopped.';
}));

$('#mine-form').addEventListener('submit', (event) => {
  event.preventDefault();
  control($('#mine-button'), async () => {
    const count = Number($('#mine-count').value);
    if (!Number.isInteger(count) || count < 1 || count > 1000) throw new Error('Mine between 1 and 1000 blocks.');
    const address = minerAddress();
    const answer = await operator('POST', '/mining/blocks', { count, ...(address ? { miner_address: address } : {}) });
    const last = answer.blocks.at(-1);
    return `Mined ${answer.count} block${answer.count === 1 ? '' : 's'}, up to #${last.index}.`;
  });
});

async function boot() {
  await refresh();
  showSession();
  setInterval(refresh, 3000);
  document.body.dataset.ready = 'true';
}

boot();
