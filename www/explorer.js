import { get, showError, fillBlocks } from './api.js';

async function search(query) {
  query = query.trim();
  if (/^\d+$/.test(query)) return get(`/blocks/${query}`);
  if (/^[0-9a-fA-F]{64}$/.test(query)) {
    try {
      return await get(`/blocks/hash/${query}`);
    } catch {
      return get(`/transactions/${query}`);
    }
  }
  return get(`/wallet/${encodeURIComponent(query)}/balance`);
}

document.getElementById('search').addEventListener('submit', async (event) => {
  event.preventDefault();
  const output = document.getElementById('result');
  document.getElementById('result-box').hidden = false;
  try {
    output.textContent = JSON.stringify(await search(document.getElementById('query').value), null, 2);
  } catch (error) {
    output.textContent = `Not found: ${error.message}`;
  }
});

async function refresh() {
  try {
    await fillBlocks(document.querySelector('#blocks tbody'));
    showError(null);
  } catch (error) {
    showError(error);
  }
}

refresh();
setInterval(refresh, 5000);
