// Amounts: coins as the user types them, base units as the chain counts
// them (1 coin = 10^8 units). Exact decimal arithmetic on strings and
// BigInt, never floating point.

export const DECIMALS = 8;
export const UNITS_PER_COIN = 10n ** BigInt(DECIMALS);
/** Largest amount the light client's JS API takes (a JS number stays exact below 2^53). */
export const MAX_UNITS = 2n ** 53n - 1n;
export const SYMBOL = 'BLK';

/** A reason an amount text is refused, fit to show next to the field. */
export class AmountError extends Error {}

/**
 * Parses a coin amount ("1", "1.5", "0.00000001", ".5") into base units
 * (BigInt). Refuses signs, exponents, separators and more than 8 decimals.
 */
export function parseCoins(text) {
  const value = String(text ?? '').trim();
  if (value === '') throw new AmountError('Enter an amount.');
  if (value.includes(',')) throw new AmountError('Use a dot for decimals, without thousands separators.');
  const match = /^(\d*)(?:\.(\d*))?$/.exec(value);
  if (!match || (match[1] === '' && (match[2] ?? '') === '')) {
    throw new AmountError('Enter a number of coins, like 1.5.');
  }
  const whole = match[1] || '0';
  const fraction = match[2] ?? '';
  if (fraction.length > DECIMALS) throw new AmountError(`At most ${DECIMALS} decimal places (1 unit = 0.00000001).`);
  const units = BigInt(whole) * UNITS_PER_COIN + BigInt((fraction + '0'.repeat(DECIMALS)).slice(0, DECIMALS));
  if (units > MAX_UNITS) throw new AmountError('That amount is larger than any account can hold.');
  return units;
}

/** Base units (BigInt, number or decimal string) as coins with all 8 decimals: "1.50000000". */
export function formatUnits(units) {
  let value = BigInt(units);
  const negative = value < 0n;
  if (negative) value = -value;
  const whole = (value / UNITS_PER_COIN).toString();
  const fraction = (value % UNITS_PER_COIN).toString().padStart(DECIMALS, '0');
  return `${negative ? '−' : ''}${whole}.${fraction}`;
}

/** Coins with the symbol: "1.50000000 BLK". */
export function formatCoins(units) {
  return `${formatUnits(units)} ${SYMBOL}`;
}

/** A BigInt the light client's API takes (a JS number, exact below 2^53). */
export function toApiNumber(units) {
  const value = BigInt(units);
  if (value < 0n || value > MAX_UNITS) throw new AmountError('Amount out of range.');
  return Number(value);
}
