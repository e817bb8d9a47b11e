// Small helpers shared by the pages: REST calls and formatting.
export const API = '/api/v1';

export async function get(path) {
  const response = await fetch(API + path);
  const body = await response.json();
  if (!response.ok) throw new Error(body.message || response.statusText);
  return body;
}

export function coins(units) {
  const whole = Math.floor(units / 1e8);
  const fraction = String(units % 1e8).padStart(8, '0');
  return `${whole}.${fraction}`;
}

export function short(hex) {
  return hex && hex.length > 20 ? `${hex.slice(0, 10)}…${hex.slice(-8)}` : hex || '—';
}

export function time(ms) {
  return new Date(ms).toLocaleString();
}

export function cell(text, mono) {
  const td = document.createElement('td');
  td.textContent = text;
  if (mono) td.className = 'mono';
  return td;
}

export function row(...cells) {
  const tr = document.createElement('tr');
  tr.append(...cells);
  return tr;
}

export function showError(error) {
  const box = document.getElementById('error');
  box.hidden = !error;
  box.textContent = error ? `Cannot reach the node: ${error.message}` : '';
}

export async function fillBlocks(tbody) {
  const { blocks } = await get('/blocks/latest?limit=10');
  tbody.replaceChildren(...blocks.map((b) => row(cell(b.index), cell(short(b.hash), true), cell(time(b.timestamp)), cell(b.transactions.length))));
}
