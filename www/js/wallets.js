// Wallets on this device: their keystores (DESIGN §3: the private key
// encrypted with the password, PBKDF2 + AES-GCM) in localStorage. Never a
// password, never a decrypted key. Also the transactions this page sent
// that are not yet verified in a block, to take the next nonce and to show
// them as pending after a reload.

const WALLETS = 'blockchain.wallets.v1';
const LAST = 'blockchain.wallets.last';
const SENT = 'blockchain.sent.v1.';

function read(key, fallback) {
  try {
    const value = JSON.parse(localStorage.getItem(key));
    return value ?? fallback;
  } catch {
    return fallback;
  }
}

/** [{name, address, network, keystore (JSON text), added}], oldest first. */
export function listWallets(network) {
  const all = read(WALLETS, []).filter((w) => w && typeof w.keystore === 'string' && typeof w.address === 'string');
  return network ? all.filter((w) => w.network === network) : all;
}

/** Keeps a keystore (replacing one of the same address). */
export function saveWallet({ name, keystore }) {
  const parsed = JSON.parse(keystore);
  const entry = {
    name: name || `Wallet ${listWallets().length + 1}`,
    address: parsed.address,
    network: parsed.network,
    keystore,
    added: Date.now(),
  };
  const others = listWallets().filter((w) => w.address !== entry.address);
  const existing = listWallets().find((w) => w.address === entry.address);
  if (existing && !name) entry.name = existing.name;
  localStorage.setItem(WALLETS, JSON.stringify([...others, entry]));
  return entry;
}

export function findWallet(address) {
  return listWallets().find((w) => w.address === address) ?? null;
}

export function forgetWallet(address) {
  localStorage.setItem(WALLETS, JSON.stringify(listWallets().filter((w) => w.address !== address)));
  localStorage.removeItem(SENT + address);
  if (lastWallet() === address) localStorage.removeItem(LAST);
}

/** The wallet last opened in this tab (it survives a reload), else on this device. */
export function lastWallet() {
  return sessionStorage.getItem(LAST) ?? localStorage.getItem(LAST);
}

export function setLastWallet(address) {
  sessionStorage.setItem(LAST, address);
  localStorage.setItem(LAST, address);
}

/** Transactions this device sent from `address` and has not seen verified in a block. */
export function sentTransactions(address) {
  return read(SENT + address, []);
}

export function addSent(address, tx) {
  const list = sentTransactions(address).filter((t) => t.txid !== tx.txid);
  list.push(tx);
  localStorage.setItem(SENT + address, JSON.stringify(list));
}

export function removeSent(address, txids) {
  const drop = new Set(txids);
  localStorage.setItem(SENT + address, JSON.stringify(sentTransactions(address).filter((t) => !drop.has(t.txid))));
}

/** A rough password strength: {score 0–4, label, hint}. */
export function passwordStrength(password) {
  const length = password.length;
  const classes = [/[a-z]/, /[A-Z]/, /[0-9]/, /[^A-Za-z0-9]/].filter((re) => re.test(password)).length;
  const unique = new Set(password).size;
  let score = 0;
  if (length >= 8) score++;
  if (length >= 12) score++;
  if (length >= 16 || (length >= 12 && classes >= 3)) score++;
  if (classes >= 3 && length >= 10) score++;
  if (unique < length / 3 || /^(password|12345|qwerty|letmein|admin)/i.test(password)) score = Math.min(score, 1);
  score = Math.min(score, 4);
  const labels = ['Too short', 'Weak', 'Fair', 'Good', 'Strong'];
  const hints = [
    'Use at least 8 characters; 12 or more is better.',
    'Longer is stronger: try a phrase of several unrelated words.',
    'More length or a mix of letters, digits and symbols makes it stronger.',
    'Nobody can recover a forgotten password: keep it safe.',
    'Nobody can recover a forgotten password: keep it safe.',
  ];
  if (length === 0) return { score: 0, label: '', hint: 'At least 8 characters. Nobody can recover a forgotten password.' };
  return { score, label: labels[score], hint: hints[score] };
}
