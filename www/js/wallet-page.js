// The wallet at `/`: create, import, unlock and lock wallets kept on this
// device; the verified balance; receive (address, copy, QR code); send
// (checked address, exact amounts, confirmation, nonce from the verified
// account plus this wallet's pending transactions); history; export.

import { api } from './api.js';
import { AmountError, MAX_UNITS, formatCoins, parseCoins, toApiNumber } from './amount.js';
import { checkAddress } from './bech32.js';
import { Wallet, connect, loadWasm, net, on, verifiedAccount, whenSynced } from './client.js';
import { $, amount, copyText, download, el, errorText, say, short } from './dom.js';
import { AddressHistory } from './history.js';
import { qrSvg } from './qr.js';
import {
  addSent, findWallet, forgetWallet, lastWallet, listWallets, passwordStrength, removeSent, saveWallet,
  sentTransactions, setLastWallet,
} from './wallets.js';

/** The open wallet: {wallet (the key, in memory only), entry, account, history}. */
let open = null;

const alertBox = $('#alert');

// ---------------------------------------------------------------- start

function showStart(focus, preselect = null) {
  $('#wallet').hidden = true;
  $('#start').hidden = false;
  const wallets = listWallets(net.network);
  const select = $('#unlock-wallet');
  select.replaceChildren(...wallets.map((w) => el('option', { value: w.address, text: `${w.name} · ${short(w.address, 12, 6)}` })));
  const last = preselect ?? lastWallet();
  if (wallets.some((w) => w.address === last)) select.value = last;
  $('#unlock-section').hidden = wallets.length === 0;
  $('#create-title').textContent = wallets.length ? 'Create another wallet' : 'Create a wallet';
  document.title = 'BlockChain wallet';
  if (focus) (wallets.length ? $('#unlock-password') : $('#create-name')).focus();
}

function busy(form, on) {
  for (const control of form.elements) control.disabled = on;
}

/** The messages of the light client's wallet errors. */
function walletError(error) {
  switch (error.code) {
    case 'WRONG_PASSWORD':
      return 'Wrong password for this wallet. Check it and try again.';
    case 'INVALID_KEYSTORE':
      return `This is not a valid keystore file (${error.message}).`;
    default:
      return errorText(error);
  }
}

$('#create-password').addEventListener('input', (event) => {
  const strength = passwordStrength(event.target.value);
  $('#create-strength').value = strength.score;
  $('#create-strength-text').textContent = strength.label ? `${strength.label}. ${strength.hint}` : strength.hint;
});

$('#create-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  const form = event.target;
  const error = $('#create-error');
  const password = $('#create-password').value;
  say(error, '');
  if (password.length < 8) {
    say(error, 'The password needs at least 8 characters.', 'error');
    $('#create-password').focus();
    return;
  }
  if (password !== $('#create-confirm').value) {
    say(error, 'The two passwords differ.', 'error');
    $('#create-confirm').focus();
    return;
  }
  if (!net.network) {
    say(error, net.error || 'Not connected to the node yet.', 'error');
    return;
  }
  const progress = $('#create-progress');
  const started = performance.now();
  // Without WebCrypto (plain http from another address) the key is made by
  // the light client's own code in a worker: slower, so say so.
  const how = window.isSecureContext ? '' : ' in this page\'s own code (no WebCrypto over plain http; this takes longer)';
  let stage = '';
  const tick = () => {
    const seconds = ((performance.now() - started) / 1000).toFixed(1);
    $('#create-progress-text').textContent = `Making an RSA-3072 key${how} and encrypting it… ${stage ? `(${stage}) ` : ''}${seconds} s`;
  };
  tick();
  const timer = setInterval(tick, 250);
  progress.hidden = false;
  busy(form, true);
  try {
    const wallet = await Wallet.create(net.network, password, (name) => {
      stage = name === 'done' ? '' : name;
      tick();
    });
    const entry = saveWallet({ name: $('#create-name').value.trim(), keystore: wallet.keystore() });
    form.reset();
    $('#create-strength').value = 0;
    await openWallet(wallet, entry, `Wallet created. Export its keystore as a backup: without it and its password the coins are lost with this browser's data.`);
  } catch (e) {
    say(error, `Could not create the wallet: ${walletError(e)}`, 'error');
  } finally {
    clearInterval(timer);
    progress.hidden = true;
    busy(form, false);
  }
});

$('#unlock-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  const form = event.target;
  const error = $('#unlock-error');
  say(error, '');
  const entry = findWallet($('#unlock-wallet').value);
  if (!entry) return;
  busy(form, true);
  $('#unlock-button').textContent = 'Unlocking…';
  try {
    const wallet = await Wallet.fromKeystore(entry.keystore, $('#unlock-password').value);
    form.reset();
    await openWallet(wallet, entry);
  } catch (e) {
    say(error, walletError(e), 'error');
    busy(form, false);
    $('#unlock-password').select();
    $('#unlock-password').focus();
  } finally {
    busy(form, false);
    $('#unlock-button').textContent = 'Unlock';
  }
});

$('#forget-button').addEventListener('click', () => {
  const entry = findWallet($('#unlock-wallet').value);
  if (!entry) return;
  const dialog = $('#forget-dialog');
  $('#forget-text').textContent = `“${entry.name}” (${entry.address}) will be removed from this browser. Without an exported keystore file and its password, its coins cannot be spent again.`;
  dialog.returnValue = '';
  dialog.showModal();
  dialog.addEventListener('close', () => {
    if (dialog.returnValue === 'forget') {
      forgetWallet(entry.address);
      showStart(true);
    }
  }, { once: true });
});

$('#import-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  const form = event.target;
  const error = $('#import-error');
  say(error, '');
  const file = $('#import-file').files[0];
  if (!file) {
    say(error, 'Choose a keystore file.', 'error');
    $('#import-file').focus();
    return;
  }
  busy(form, true);
  try {
    const text = await file.text();
    let parsed;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw Object.assign(new Error('the file is not JSON'), { code: 'INVALID_KEYSTORE' });
    }
    if (parsed?.network && parsed.network !== net.network) {
      throw new Error(`This keystore is for ${parsed.network}; this node runs ${net.network}.`);
    }
    const wallet = await Wallet.fromKeystore(text, $('#import-password').value);
    const entry = saveWallet({ name: $('#import-name').value.trim(), keystore: wallet.keystore() });
    form.reset();
    await openWallet(wallet, entry, 'Keystore imported.');
  } catch (e) {
    say(error, walletError(e), 'error');
  } finally {
    busy(form, false);
  }
});

// ---------------------------------------------------------------- open wallet

async function openWallet(wallet, entry, message) {
  open?.history?.dispose();
  setLastWallet(entry.address);
  open = { wallet, entry, account: null, accountError: null };
  $('#start').hidden = true;
  $('#wallet').hidden = false;
  $('#wallet-name').textContent = entry.name;
  document.title = `${entry.name} · BlockChain wallet`;
  $('#address').textContent = wallet.address;
  $('#qr').replaceChildren(
    qrSvg(wallet.address, `QR code of the address ${wallet.address}`),
    el('figcaption', { class: 'hint', text: 'Scan to get the address' }),
  );
  say($('#send-status'), message || '', 'ok');
  say($('#copy-status'), '');
  $('#balance').replaceChildren(el('span', { class: 'checking', text: 'Verifying…' }));
  $('#balance-detail').textContent = net.synced ? 'Checking the balance against the verified tip…' : 'Waiting for the header chain to sync…';
  $('#pending').replaceChildren();
  open.history = new AddressHistory({
    address: wallet.address,
    tbody: $('#history tbody'),
    more: $('#history-more'),
    status: $('#history-status'),
    pending: () => pendingOf(wallet.address),
  });
  $('#wallet-name').setAttribute('tabindex', '-1');
  $('#wallet-name').focus();
  await whenSynced();
  if (open?.wallet === wallet) refresh();
}

$('#lock-button').addEventListener('click', () => {
  const address = open?.wallet.address;
  open?.history?.dispose();
  open?.wallet.free?.();
  open = null;
  say($('#send-status'), '');
  $('#send-form').reset();
  $('#history tbody').replaceChildren();
  showStart(true, address);
});

$('#export-button').addEventListener('click', () => {
  if (!open) return;
  download(`blockchain-keystore-${open.wallet.address}.json`, `${open.wallet.keystore()}\n`);
  say($('#send-status'), 'Keystore exported: keep the file and its password safe; either alone cannot spend.', 'ok');
});

$('#copy-button').addEventListener('click', async () => {
  if (!open) return;
  const ok = await copyText(open.wallet.address);
  say($('#copy-status'), ok ? 'Address copied.' : 'Could not copy: select the address and copy it.', ok ? 'ok' : 'error');
});

// ---------------------------------------------------------------- balance

/**
 * Transactions of `address` not in a verified block yet: the ones this
 * device sent, and the ones seen by gossip. Unverified.
 */
function pendingOf(address) {
  const seen = new Map();
  const nonce = open?.account?.nonce ?? 0;
  for (const tx of sentTransactions(address)) {
    if (tx.nonce >= nonce) seen.set(tx.txid, { tx, source: 'sent from this device' });
  }
  for (const tx of net.client?.pendingTransactions() ?? []) {
    if (seen.has(tx.txid)) continue;
    if (tx.sender_address === address && tx.nonce < nonce) continue;
    if (tx.sender_address === address || tx.recipient === address) seen.set(tx.txid, { tx, source: 'seen on the network' });
  }
  return [...seen.values()];
}

/** {out (amount + fee of pending spends), in (pending receipts), nextNonce}. */
function pendingTotals() {
  const address = open.wallet.address;
  let out = 0n;
  let incoming = 0n;
  let nextNonce = open.account?.nonce ?? 0;
  for (const { tx } of pendingOf(address)) {
    if (tx.sender_address === address) {
      out += BigInt(tx.amount) + BigInt(tx.fee);
      nextNonce = Math.max(nextNonce, tx.nonce + 1);
    }
    if (tx.recipient === address && tx.sender_address !== address) incoming += BigInt(tx.amount);
  }
  return { out, incoming, nextNonce };
}

function renderBalance() {
  if (!open) return;
  const { account } = open;
  if (account) {
    $('#balance').replaceChildren(amount(account.balance, true, `state proof against block ${account.height}`));
    $('#balance-detail').textContent = `Proven by a state proof against block ${account.height}, the verified tip. Nonce ${account.nonce}.`;
  } else if (open.accountError) {
    $('#balance').replaceChildren(el('span', { class: 'checking', text: 'Not verified' }));
    $('#balance-detail').textContent = open.accountError;
  }
  const { out, incoming } = pendingTotals();
  const parts = [];
  if (out > 0n) parts.push(el('span', { class: 'pending-part' }, 'Sending ', amount(-out, false, 'not in a block yet')));
  if (incoming > 0n) parts.push(el('span', { class: 'pending-part' }, 'Receiving ', amount(incoming, false, 'not in a block yet', true)));
  $('#pending').replaceChildren(...(parts.length ? parts : [el('span', { class: 'hint', text: 'Nothing pending.' })]));
}

let refreshing = null;
let refreshAgain = false;

/** Re-verifies the balance and the history (coalesces calls). */
async function refresh() {
  if (!open) return;
  if (refreshing) {
    refreshAgain = true;
    return;
  }
  const current = open;
  refreshing = (async () => {
    do {
      refreshAgain = false;
      try {
        current.account = await verifiedAccount(current.wallet.address);
        current.accountError = null;
        // Sent transactions whose nonce the verified account has passed are in a block.
        const done = sentTransactions(current.wallet.address).filter((tx) => tx.nonce < current.account.nonce);
        if (done.length) removeSent(current.wallet.address, done.map((tx) => tx.txid));
      } catch (error) {
        current.accountError = error.code === 'NO_PEERS'
          ? 'No peer is connected, so the balance cannot be verified now.'
          : `The balance could not be verified: ${errorText(error)}`;
      }
      if (open !== current) return;
      renderBalance();
      await current.history.refresh();
    } while (refreshAgain && open === current);
  })();
  try {
    await refreshing;
  } finally {
    refreshing = null;
  }
}

on('tip', () => refresh());
on('transaction', () => {
  if (!open) return;
  renderBalance();
  open.history.render();
});

// ---------------------------------------------------------------- send

function recipientCheck(final) {
  const value = $('#send-to').value;
  const hint = $('#send-to-hint');
  if (!value.trim() && !final) {
    hint.textContent = '';
    hint.className = 'hint';
    return null;
  }
  const result = checkAddress(value, net.prefix);
  if (result.ok) {
    hint.textContent = result.address === open?.wallet.address ? '✓ Valid address (this wallet itself).' : '✓ Valid address: the checksum matches.';
    hint.className = 'hint hint-ok';
    $('#send-to').removeAttribute('aria-invalid');
    return result.address;
  }
  const show = final || result.complete;
  hint.textContent = show ? result.message : result.message;
  hint.className = show ? 'hint hint-error' : 'hint';
  if (show) $('#send-to').setAttribute('aria-invalid', 'true');
  else $('#send-to').removeAttribute('aria-invalid');
  return null;
}

$('#send-to').addEventListener('input', () => recipientCheck(false));
$('#send-to').addEventListener('blur', () => {
  if ($('#send-to').value.trim()) recipientCheck(true);
});

function coinsCheck(input, hint, { final, allowZero, fallback }) {
  const value = input.value;
  if (!value.trim() && !final) {
    hint.textContent = fallback;
    hint.className = 'hint';
    input.removeAttribute('aria-invalid');
    return null;
  }
  try {
    const units = parseCoins(value);
    if (units === 0n && !allowZero) throw new AmountError('The amount must be more than 0.');
    hint.textContent = `${units.toString()} base units`;
    hint.className = 'hint';
    input.removeAttribute('aria-invalid');
    return units;
  } catch (error) {
    if (!(error instanceof AmountError)) throw error;
    hint.textContent = error.message;
    hint.className = 'hint hint-error';
    input.setAttribute('aria-invalid', 'true');
    return null;
  }
}

const amountCheck = (final) => coinsCheck($('#send-amount'), $('#send-amount-hint'), { final, allowZero: false, fallback: '' });
const feeCheck = (final) => coinsCheck($('#send-fee'), $('#send-fee-hint'), { final, allowZero: true, fallback: 'Miners take higher fees first.' });
$('#send-amount').addEventListener('input', () => amountCheck(false));
$('#send-fee').addEventListener('input', () => feeCheck(false));

$('#send-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  if (!open) return;
  const status = $('#send-status');
  say(status, '');
  const recipient = recipientCheck(true);
  const units = amountCheck(true);
  const fee = feeCheck(true);
  if (!recipient) return $('#send-to').focus();
  if (units === null) return $('#send-amount').focus();
  if (fee === null) return $('#send-fee').focus();
  const button = $('#send-button');
  button.disabled = true;
  try {
    // A fresh verified account: the nonce and the funds come from it.
    try {
      open.account = await verifiedAccount(open.wallet.address);
    } catch (error) {
      say(status, `Cannot send now: the balance cannot be verified (${errorText(error)}).`, 'error');
      return;
    }
    renderBalance();
    const { out, nextNonce } = pendingTotals();
    const available = BigInt(open.account.balance) - out;
    if (units + fee > MAX_UNITS) {
      say(status, 'That amount is too large.', 'error');
      return;
    }
    if (units + fee > available) {
      say(status, `Not enough funds: amount and fee come to ${formatCoins(units + fee)}, and ${formatCoins(available < 0n ? 0n : available)} is available (verified balance less pending spends).`, 'error');
      $('#send-amount').focus();
      return;
    }
    const confirmed = await confirmSend({ recipient, units, fee, nonce: nextNonce, after: available - units - fee });
    if (!confirmed) {
      say(status, 'Not sent.', 'info');
      return;
    }
    await send({ recipient, units, fee, nonce: nextNonce });
  } finally {
    button.disabled = false;
  }
});

function confirmSend({ recipient, units, fee, nonce, after }) {
  const dialog = $('#confirm-dialog');
  const row = (label, ...value) => [el('dt', { text: label }), el('dd', {}, ...value)];
  $('#confirm-details').replaceChildren(
    ...row('From', el('code', { class: 'address', text: open.wallet.address })),
    ...row('To', el('code', { class: 'address', id: 'confirm-to', text: recipient })),
    ...row('Amount', el('strong', { id: 'confirm-amount', text: formatCoins(units) })),
    ...row('Fee', formatCoins(fee)),
    ...row('Total', el('strong', { text: formatCoins(units + fee) })),
    ...row('Balance after', formatCoins(after), ' (verified balance less pending spends)'),
    ...row('Nonce', String(nonce)),
  );
  dialog.returnValue = '';
  dialog.showModal();
  $('#confirm-cancel').focus();
  return new Promise((resolve) => {
    dialog.addEventListener('close', () => resolve(dialog.returnValue === 'send'), { once: true });
  });
}

async function send({ recipient, units, fee, nonce }) {
  const status = $('#send-status');
  say(status, 'Signing in this page…', 'info');
  let tx;
  try {
    tx = await open.wallet.signTransaction({ recipient, amount: toApiNumber(units), fee: toApiNumber(fee), nonce });
  } catch (error) {
    say(status, `Could not sign: ${errorText(error)}`, 'error');
    return;
  }
  say(status, 'Sending…', 'info');
  // The node's verdict first (a refusal comes with its reason), then the
  // same transaction over the peer-to-peer network.
  const { txid, sender_address: _sender, ...body } = tx;
  let viaNode = true;
  try {
    await api('POST', '/transactions', body);
  } catch (error) {
    if (error.code !== 'UNREACHABLE') {
      const reason = error.details?.reason || error.message;
      say(status, `The node refused the transaction: ${reason} (${error.code}).`, 'error');
      return;
    }
    viaNode = false;
  }
  try {
    await net.client.broadcast(tx);
  } catch (error) {
    if (!viaNode) {
      say(status, `Could not send: the node is unreachable and ${errorText(error)}.`, 'error');
      return;
    }
  }
  addSent(open.wallet.address, {
    txid: tx.txid, sender_address: tx.sender_address, recipient: tx.recipient, amount: tx.amount, fee: tx.fee,
    nonce: tx.nonce, timestamp: tx.timestamp,
  });
  $('#send-form').reset();
  $('#send-to-hint').textContent = '';
  $('#send-amount-hint').textContent = '';
  $('#send-fee-hint').textContent = 'Miners take higher fees first.';
  say(status, `Sent ${formatCoins(units)} to ${short(recipient, 12, 6)}. Transaction ${short(txid, 10, 6)} is pending until a block includes it.`, 'ok');
  status.append(' ', el('a', { href: `/explorer/tx/${txid}`, text: 'View it in the explorer' }));
  renderBalance();
  open.history.render();
}

// ---------------------------------------------------------------- boot

async function boot() {
  loadWasm().catch(() => {});
  try {
    await connect();
  } catch (error) {
    say(alertBox, error.message, 'error');
    $('#start').hidden = false;
    for (const form of ['#create-form', '#import-form', '#unlock-form']) busy($(form), true);
    return;
  }
  showStart(false);
  on('synced', (tip) => {
    say(alertBox, tip ? '' : net.error, 'error');
  });
  on('state', ({ kind }) => {
    if (kind === 'error' && net.error) say(alertBox, net.error, 'error');
  });
  document.body.dataset.ready = 'true';
}

boot();
