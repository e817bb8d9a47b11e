// Unit tests of the web app's own modules (www/js): exact amounts,
// address checks against the core's test vectors, and the QR encoder,
// whose symbols an independent decoder (jsQR, from npm) must read back.
//   node --test tests/js/unit/
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { test } from 'node:test'
import jsQR from 'jsqr'
import { parseCoins, formatUnits, formatCoins, AmountError, MAX_UNITS, toApiNumber } from '../../../www/js/amount.js'
import { checkAddress, encodeAddress } from '../../../www/js/bech32.js'
import { encodeQr, capacityBytes } from '../../../www/js/qr.js'

const root = new URL('../../../', import.meta.url)
const vectors = JSON.parse(readFileSync(new URL('core/tests/data/addresses.json', root), 'utf8'))

test('coin amounts parse to exact base units', () => {
  const cases = {
    1: 100000000n,
    '1.5': 150000000n,
    '0.1': 10000000n,
    '0.2': 20000000n,
    '.3': 30000000n,
    '2.': 200000000n,
    '0.00000001': 1n,
    '0': 0n,
    ' 12.34567891 ': 1234567891n,
    '90071992.54740991': MAX_UNITS,
    '000.10000000': 10000000n
  }
  for (const [text, units] of Object.entries(cases)) assert.equal(parseCoins(text), units, text)
  // 0.1 + 0.2 is exactly 0.3 here, unlike in floating point.
  assert.equal(parseCoins('0.1') + parseCoins('0.2'), parseCoins('0.3'))
  for (const bad of ['', ' ', '.', '-1', '+1', '1e3', '1,5', '1.000000001', 'abc', '1.2.3', '0x10', '90071992.54740992', 'Infinity', 'NaN']) {
    assert.throws(() => parseCoins(bad), AmountError, bad)
  }
})

test('base units format with all eight decimals', () => {
  assert.equal(formatUnits(0), '0.00000000')
  assert.equal(formatUnits(1n), '0.00000001')
  assert.equal(formatUnits(15000000000), '150.00000000')
  assert.equal(formatUnits(-150001000n), '−1.50001000')
  assert.equal(formatUnits('2100000000000000'), '21000000.00000000')
  assert.equal(formatCoins(150000000), '1.50000000 BLK')
  for (const text of ['1.5', '0.00000001', '21000000', '123.45678901']) {
    assert.equal(parseCoins(formatUnits(parseCoins(text))), parseCoins(text))
  }
  assert.equal(toApiNumber(MAX_UNITS), Number.MAX_SAFE_INTEGER)
  assert.throws(() => toApiNumber(MAX_UNITS + 1n), AmountError)
})

test('addresses are checked like the core checks them', () => {
  for (const entry of vectors.valid) {
    const bytes = Uint8Array.from(Buffer.from(entry.bytes, 'hex'))
    for (const prefix of ['rblk', 'tblk', 'blk']) {
      const result = checkAddress(entry[prefix], prefix)
      assert.ok(result.ok, `${entry[prefix]}: ${result.message}`)
      assert.deepEqual([...result.bytes], [...bytes])
      assert.equal(encodeAddress(bytes, prefix), entry[prefix].toLowerCase())
      assert.ok(checkAddress(entry[prefix].toUpperCase(), prefix).ok, 'all upper case is valid')
    }
  }
  for (const entry of vectors.invalid) {
    const result = checkAddress(entry.string, entry.prefix)
    assert.equal(result.ok, false, `${entry.string} (${entry.reason}) is refused`)
    assert.ok(result.message.length > 0)
  }
  // Messages a user sees while typing.
  const valid = vectors.valid[2].rblk
  const typo = valid.slice(0, 10) + (valid[10] === 'q' ? 'p' : 'q') + valid.slice(11)
  assert.match(checkAddress(typo, 'rblk').message, /checksum/i)
  assert.equal(checkAddress(valid.slice(0, 20), 'rblk').complete, false)
  assert.match(checkAddress(vectors.valid[2].tblk, 'rblk').message, /devnet/)
  assert.match(checkAddress(valid.replace(/q/, 'b'), 'rblk').message, /not used/)
})

/** Renders a symbol as RGBA pixels (4-module quiet zone) and decodes it with jsQR. */
function decode ({ size, modules }, scale = 4) {
  const full = (size + 8) * scale
  const data = new Uint8ClampedArray(full * full * 4).fill(255)
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      if (!modules[y][x]) continue
      for (let dy = 0; dy < scale; dy++) {
        for (let dx = 0; dx < scale; dx++) {
          const at = (((y + 4) * scale + dy) * full + (x + 4) * scale + dx) * 4
          data[at] = data[at + 1] = data[at + 2] = 0
        }
      }
    }
  }
  return jsQR(data, full, full)?.data ?? null
}

test('QR codes of addresses decode back, at levels M and L', () => {
  for (const entry of vectors.valid) {
    for (const prefix of ['rblk', 'tblk']) {
      const qr = encodeQr(entry[prefix])
      assert.equal(qr.version, 4, 'a 43-character address fits version 4-M')
      assert.equal(decode(qr), entry[prefix])
      assert.equal(decode(encodeQr(entry[prefix], 'L')), entry[prefix])
    }
  }
  for (let mask = 0; mask < 8; mask++) {
    assert.equal(decode(encodeQr('rblk1 mask test ✓', 'M', mask)), 'rblk1 mask test ✓', `mask ${mask}`)
  }
})

test('QR codes of every version 1–40 decode back', () => {
  for (const level of ['L', 'M']) {
    for (let version = 1; version <= 40; version++) {
      // The most a version holds fills it; one byte more takes the next.
      const capacity = capacityBytes(version, level)
      const text = 'x'.repeat(capacity)
      const qr = encodeQr(text, level)
      assert.equal(qr.version, version, `${capacity} bytes at ${level}`)
      assert.equal(qr.size, version * 4 + 17)
      if (version < 40) assert.equal(encodeQr(text + 'x', level).version, version + 1)
      // jsQR's table places version 23's fourth alignment pattern at 74
      // instead of 78 (ISO/IEC 18004 Annex E), so it cannot read version
      // 23 at level L, whose error correction is too thin to cover that.
      if (level === 'L' && version === 23) continue
      assert.equal(decode(qr, version > 20 ? 3 : 4), text, `version ${version}-${level}`)
    }
  }
  // Known capacities (ISO/IEC 18004 table 7, byte mode).
  assert.deepEqual([1, 2, 4, 10, 40].map(v => capacityBytes(v, 'M')), [14, 26, 62, 213, 2331])
  assert.deepEqual([1, 2, 4, 10, 40].map(v => capacityBytes(v, 'L')), [17, 32, 78, 271, 2953])
  assert.throws(() => encodeQr('x'.repeat(2332), 'M'), RangeError)
})
