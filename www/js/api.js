// The node's REST API (docs/API.md). What it answers is what the node
// says, not verified by the page: callers mark it so.

export const API = '/api/v1';

/** An error answer of the node, or no answer at all (`code` "UNREACHABLE"). */
export class NodeError extends Error {
  constructor(code, message, status = 0, details = null) {
    super(message);
    this.code = code;
    this.status = status;
    this.details = details;
  }
}

/** Calls the API; resolves with the JSON answer, rejects with a NodeError. */
export async function api(method, path, body, token) {
  const headers = {};
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (token) headers.authorization = `Bearer ${token}`;
  let response;
  try {
    response = await fetch(API + path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      cache: 'no-store',
    });
  } catch (error) {
    throw new NodeError('UNREACHABLE', `Cannot reach the node at ${location.host}: check that it is running (${error.message}).`);
  }
  const json = await response.json().catch(() => null);
  if (!response.ok) {
    throw new NodeError(
      json?.code || `HTTP_${response.status}`,
      json?.message || `the node answered ${response.status} ${response.statusText}`,
      response.status,
      json?.details ?? null,
    );
  }
  return json;
}

export const get = (path) => api('GET', path);
