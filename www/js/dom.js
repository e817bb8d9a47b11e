// DOM helpers shared by the pages: building elements (never from HTML
// strings), verification marks, messages, short forms of hashes.

import { formatCoins } from './amount.js';

/**
 * Builds an element: `attrs` are attributes (`class`, `href`, `data-*`,
 * `aria-*`, …; `text` sets the text; `false`/`null` values are skipped),
 * `children` are nodes or strings.
 */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === false || value === null || value === undefined) continue;
    if (name === 'text') node.textContent = String(value);
    else node.setAttribute(name, value === true ? '' : String(value));
  }
  node.append(...children.flat().filter((child) => child !== null && child !== undefined && child !== false));
  return node;
}

/**
 * The mark every amount, block and transaction carries: "verified" only
 * for what the page checked itself against the proof-of-work header chain.
 */
export function mark(verified, detail = '') {
  const node = el(
    'span',
    { class: `mark ${verified ? 'mark-verified' : 'mark-unverified'}` },
    el('span', { 'aria-hidden': 'true', text: verified ? '✓ ' : '! ' }),
    verified ? 'verified' : 'unverified',
  );
  if (detail) node.append(el('span', { class: 'visually-hidden', text: `: ${detail}` }));
  return node;
}

/**
 * A marked item: an element of `kind` ("amount", "block", "tx") whose
 * `data-verified` matches the mark it contains.
 */
export function marked(tag, kind, verified, attrs, ...children) {
  return el(tag, { ...attrs, 'data-kind': kind, 'data-verified': String(Boolean(verified)) }, ...children);
}

/** An amount with its mark: "1.50000000 BLK ✓ verified". */
export function amount(units, verified, detail = '', signed = false) {
  let text = formatCoins(units);
  if (signed && BigInt(units) > 0n) text = `+${text}`;
  return marked('span', 'amount', verified, { class: 'amount' }, el('span', { class: 'value', text }), ' ', mark(verified, detail));
}

export function short(text, head = 10, tail = 8) {
  if (!text) return '—';
  return text.length > head + tail + 1 ? `${text.slice(0, head)}…${text.slice(-tail)}` : text;
}

export function timeText(ms) {
  return new Date(ms).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'medium' });
}

/** "3 s ago", "5 min ago", …, or the date when older than a day. */
export function ago(ms) {
  const seconds = Math.max(0, Math.round((Date.now() - ms) / 1000));
  if (seconds < 60) return `${seconds} s ago`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min ago`;
  if (seconds < 86400) return `${Math.floor(seconds / 3600)} h ago`;
  return timeText(ms);
}

/** Sets a message element's text and kind ("error", "ok", "info"); empty text hides it. */
export function say(node, text, kind = 'info') {
  node.textContent = text || '';
  node.hidden = !text;
  node.classList.remove('msg-error', 'msg-ok', 'msg-info');
  if (text) node.classList.add(`msg-${kind}`);
}

export const $ = (selector, root = document) => root.querySelector(selector);
export const $$ = (selector, root = document) => [...root.querySelectorAll(selector)];

/** Replaces a table body's rows, or shows `empty` as one full-width row. */
export function fillRows(tbody, rows, empty) {
  if (rows.length) {
    // Each cell names its column, for the stacked layout of narrow screens.
    const labels = [...(tbody.closest('table')?.querySelectorAll('thead th') ?? [])].map((th) => th.textContent);
    for (const row of rows) {
      [...row.children].forEach((cell, i) => {
        if (labels[i] && !cell.hasAttribute('data-label')) cell.setAttribute('data-label', labels[i]);
      });
    }
    tbody.replaceChildren(...rows);
  } else {
    const columns = tbody.closest('table')?.querySelectorAll('thead th').length || 1;
    tbody.replaceChildren(el('tr', {}, el('td', { colspan: columns, class: 'empty', text: empty })));
  }
}

/** The message of an error from the light client, the REST API or the page. */
export function errorText(error) {
  return error?.message || String(error);
}

/** Copies `text` to the clipboard; resolves true when it worked. */
export async function copyText(text) {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    // No clipboard API (not a secure context): select a hidden field and copy.
    const field = el('textarea', { class: 'visually-hidden', readonly: true, 'aria-hidden': 'true' });
    field.value = text;
    document.body.append(field);
    field.select();
    let ok = false;
    try {
      ok = document.execCommand('copy');
    } catch {
      ok = false;
    }
    field.remove();
    return ok;
  }
}

/** Offers `text` as a file download named `name`. */
export function download(name, text, type = 'application/json') {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const link = el('a', { href: url, download: name, class: 'visually-hidden' });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}
