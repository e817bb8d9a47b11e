// An address's transaction history. The list itself comes from the node's
// REST API (the page cannot discover an address's transactions on its
// own, and says so); each confirmed entry's inclusion is then verified by
// the light client (its Merkle proof against a verified best-chain
// header) before it is marked verified. Pending entries stay unverified.

import { get } from './api.js';
import { net } from './client.js';
import { amount, el, errorText, fillRows, mark, marked, short, timeText } from './dom.js';

const PAGE = 25;
/** The node's largest page (`limit` of GET /wallet/{address}/transactions). */
const MAX_PAGE = 500;
/** Entries with fewer confirmations are checked again at every new tip. */
const RECHECK_BELOW = 6;

/** Runs `work` on every item, `width` at a time. */
async function pool(items, width, work) {
  const queue = [...items];
  await Promise.all(Array.from({ length: Math.min(width, queue.length) }, async () => {
    while (queue.length) await work(queue.shift());
  }));
}

export class AddressHistory {
  /**
   * `tbody`: the table body to fill; `more`: a "load older" button;
   * `status`: an element for the list's state; `pending()`: transactions
   * of this address not in a block yet, each {tx, source} (unverified).
   */
  constructor({ address, tbody, more, status, pending = () => [] }) {
    this.address = address;
    this.tbody = tbody;
    this.more = more;
    this.status = status;
    this.pending = pending;
    this.limit = PAGE;
    this.entries = [];
    this.total = 0;
    /** txid → {blockHash, blockHeight, confirmations, atTip} of verified entries. */
    this.verified = new Map();
    /** txid → reason of entries that failed to verify. */
    this.failed = new Map();
    this.running = null;
    this.again = false;
    if (more) {
      more.addEventListener('click', () => {
        this.limit = Math.min(this.limit + PAGE, MAX_PAGE);
        this.refresh();
      });
    }
  }

  /** Stops updating the table (the wallet was locked, the page left). */
  dispose() {
    this.disposed = true;
    clearTimeout(this.retry);
  }

  /** Reloads the list and verifies what is new; calls coalesce. */
  async refresh() {
    if (this.disposed) return undefined;
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = (async () => {
      do {
        this.again = false;
        try {
          await this.load();
        } catch (error) {
          this.status.textContent = `Could not load the history from the node: ${errorText(error)}`;
        }
      } while (this.again);
      this.running = null;
    })();
    return this.running;
  }

  async load() {
    const answer = await get(`/wallet/${encodeURIComponent(this.address)}/transactions?limit=${this.limit}`);
    this.entries = answer.transactions;
    this.total = answer.total ?? answer.count;
    if (this.more) this.more.hidden = this.total <= this.entries.length || this.limit >= MAX_PAGE;
    this.render();
    const tip = net.client.tip().height;
    const toCheck = this.entries.filter((entry) => {
      const known = this.verified.get(entry.txid);
      return !known || known.blockHash !== entry.block_hash || tip - known.blockHeight + 1 < RECHECK_BELOW;
    });
    await pool(toCheck, 4, async (entry) => {
      try {
        const info = await net.client.getTransaction(entry.txid);
        if (info.verified && info.blockHeight === entry.block_height && info.blockHash === entry.block_hash) {
          this.verified.set(entry.txid, { blockHash: info.blockHash, blockHeight: info.blockHeight, atTip: tip });
          this.failed.delete(entry.txid);
        } else {
          this.verified.delete(entry.txid);
          this.failed.set(entry.txid, `the proof puts it in block ${info.blockHeight}, the node says ${entry.block_height}`);
        }
      } catch (error) {
        this.verified.delete(entry.txid);
        this.failed.set(entry.txid, error.code === 'NOT_FOUND' ? 'not yet in the verified headers' : errorText(error));
      }
    });
    this.render();
    // An entry that could not be checked (a peer busy, a header not yet
    // reached) is tried again shortly, a few times.
    clearTimeout(this.retry);
    if (this.entries.some((entry) => this.failed.has(entry.txid))) {
      this.retries = (this.retries ?? 0) + 1;
      if (this.retries <= 5) this.retry = setTimeout(() => this.refresh(), 1500 * this.retries);
    } else {
      this.retries = 0;
    }
  }

  /** Builds the rows from what is known now. */
  render() {
    if (this.disposed) return;
    const tip = net.client.tip().height;
    const rows = [];
    const listed = new Set(this.entries.map((entry) => entry.txid));
    for (const { tx, source } of this.pending()) {
      if (listed.has(tx.txid)) continue;
      rows.push(this.row(tx, {
        verified: false,
        status: [el('span', { class: 'status-pending', text: 'Pending' }), ` · ${source}`],
        detail: 'not in a block yet',
      }));
    }
    for (const entry of this.entries) {
      const proof = this.verified.get(entry.txid);
      if (proof) {
        const confirmations = Math.max(0, tip - proof.blockHeight + 1);
        rows.push(this.row(entry, {
          verified: true,
          status: [
            el('span', { class: 'status-confirmed', text: `${confirmations} confirmation${confirmations === 1 ? '' : 's'}` }),
            ' · block ',
            el('a', { href: `/explorer/block/${proof.blockHeight}`, text: String(proof.blockHeight) }),
          ],
          detail: `inclusion proof checked against block ${proof.blockHeight}`,
        }));
      } else {
        const reason = this.failed.get(entry.txid);
        rows.push(this.row(entry, {
          verified: false,
          status: [
            `In block ${entry.block_height} per the node · `,
            el('span', { class: reason ? 'status-failed' : 'status-checking', text: reason ? `not verified: ${reason}` : 'verifying…' }),
          ],
          detail: 'reported by the node',
        }));
      }
    }
    fillRows(this.tbody, rows, 'No transactions yet.');
    const pendingCount = rows.length - this.entries.length;
    this.status.textContent = `${this.entries.length} of ${this.total} confirmed transaction${this.total === 1 ? '' : 's'} listed by the node${pendingCount ? `, ${pendingCount} pending` : ''}; ${this.entries.filter((e) => this.verified.has(e.txid)).length} verified in this page.`;
  }

  row(tx, { verified, status, detail }) {
    const me = this.address;
    const coinbase = !tx.sender_address;
    const incoming = tx.recipient === me;
    const outgoing = tx.sender_address === me;
    let type;
    let counterparty;
    let delta;
    if (coinbase) {
      type = 'Mined';
      counterparty = el('span', { text: 'block reward' });
      delta = BigInt(tx.amount);
    } else if (incoming && outgoing) {
      type = 'To self';
      counterparty = el('span', { text: 'this address' });
      delta = -BigInt(tx.fee);
    } else if (outgoing) {
      type = 'Sent';
      counterparty = addressLink(tx.recipient);
      delta = -(BigInt(tx.amount) + BigInt(tx.fee));
    } else {
      type = 'Received';
      counterparty = addressLink(tx.sender_address);
      delta = BigInt(tx.amount);
    }
    return marked(
      'tr',
      'tx',
      verified,
      { 'data-txid': tx.txid },
      el('td', { class: 'nowrap', text: timeText(tx.timestamp) }),
      el('td', {}, el('span', { class: `tx-type tx-${type.toLowerCase().replace(' ', '-')}`, text: type })),
      el('td', { class: 'mono' }, counterparty),
      el('td', { class: 'num' }, amount(delta, verified, '', true)),
      el('td', {}, ...status, ' ', mark(verified, detail)),
      el('td', { class: 'mono' }, el('a', { href: `/explorer/tx/${tx.txid}`, text: short(tx.txid, 8, 6), title: tx.txid })),
    );
  }
}

export function addressLink(address) {
  return el('a', { href: `/explorer/address/${address}`, text: short(address, 12, 6), title: address });
}
