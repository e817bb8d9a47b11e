// Addresses: bech32m (BIP 350) over the 20 address bytes, with the
// network's prefix and no version symbol (docs/PROTOCOL.md). The page
// checks them as they are typed; the light client checks them again.

const CHARSET = 'qpzry9x8gf2tvdw0s3jn54khce6mua7l';
const BECH32M = 0x2bc830a3;
const ADDRESS_BYTES = 20;
/** Length of an address's data part: 32 groups of 5 bits + 6 checksum characters. */
const DATA_CHARS = 32 + 6;

/** The address prefix of each network. */
export const PREFIXES = { regtest: 'rblk', devnet: 'tblk', main: 'blk' };

function polymod(values) {
  const generator = [0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3];
  let checksum = 1;
  for (const value of values) {
    const top = checksum >>> 25;
    checksum = ((checksum & 0x1ffffff) << 5) ^ value;
    for (let i = 0; i < 5; i++) if ((top >>> i) & 1) checksum ^= generator[i];
  }
  return checksum >>> 0;
}

function expandPrefix(prefix) {
  const out = [];
  for (const c of prefix) out.push(c.charCodeAt(0) >>> 5);
  out.push(0);
  for (const c of prefix) out.push(c.charCodeAt(0) & 31);
  return out;
}

/**
 * Checks `text` as an address of the network whose prefix is `prefix`.
 * Returns {ok: true, address (lowercase), bytes} or {ok: false, complete,
 * message}: `complete` is false while the text may still be a prefix of a
 * valid address (so a form can wait before complaining).
 */
export function checkAddress(text, prefix) {
  const input = String(text ?? '').trim();
  const bad = (message, complete = true) => ({ ok: false, complete, message });
  if (input === '') return bad('Enter an address.', false);
  if (input !== input.toLowerCase() && input !== input.toUpperCase()) {
    return bad('Mixed upper and lower case: an address is all one case.');
  }
  const value = input.toLowerCase();
  const expected = `${prefix}1`;
  if (!value.startsWith(expected)) {
    if (expected.startsWith(value)) return bad(`Addresses on this network start with ${expected}.`, false);
    const other = Object.entries(PREFIXES).find(([, p]) => value.startsWith(`${p}1`) && p !== prefix);
    if (other) return bad(`That is a ${other[0]} address; this network's addresses start with ${expected}.`);
    return bad(`Addresses on this network start with ${expected}.`);
  }
  const data = value.slice(expected.length);
  for (const c of data) {
    if (!CHARSET.includes(c)) {
      return bad(`“${c}” is not used in addresses (they never contain b, i, o or 1 after the prefix).`);
    }
  }
  if (data.length < DATA_CHARS) {
    return bad(`Incomplete: ${value.length} of ${expected.length + DATA_CHARS} characters.`, false);
  }
  if (data.length > DATA_CHARS) return bad(`Too long: an address has ${expected.length + DATA_CHARS} characters.`);
  const values = [...data].map((c) => CHARSET.indexOf(c));
  if (polymod([...expandPrefix(prefix), ...values]) !== BECH32M) {
    return bad('The checksum does not match: the address is mistyped. Check every character.');
  }
  // 32 groups of 5 bits are exactly the 20 bytes.
  const bytes = new Uint8Array(ADDRESS_BYTES);
  let acc = 0;
  let bits = 0;
  let n = 0;
  for (const v of values.slice(0, -6)) {
    acc = (acc << 5) | v;
    bits += 5;
    while (bits >= 8) {
      bits -= 8;
      bytes[n++] = (acc >>> bits) & 0xff;
    }
  }
  return { ok: true, address: value, bytes };
}

/** Encodes 20 address bytes with `prefix` (for tests and for showing hex addresses). */
export function encodeAddress(bytes, prefix) {
  const values = [];
  let acc = 0;
  let bits = 0;
  for (const byte of bytes) {
    acc = (acc << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      values.push((acc >>> bits) & 31);
    }
  }
  if (bits > 0) values.push((acc << (5 - bits)) & 31);
  const mod = polymod([...expandPrefix(prefix), ...values, 0, 0, 0, 0, 0, 0]) ^ BECH32M;
  for (let i = 0; i < 6; i++) values.push((mod >>> (5 * (5 - i))) & 31);
  return `${prefix}1${values.map((v) => CHARSET[v]).join('')}`;
}
