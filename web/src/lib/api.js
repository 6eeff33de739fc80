// Talking to the Helix API: where it is, fetch with a timeout, and errors that say what failed.

export const DEFAULT_TIMEOUT_MS = 8000;

// The API origin: `?api=http://host:port` wins (lets the built page talk to another server), then
// VITE_API_BASE at build time, then the dev server's default backend, else the page's own origin ('').
export function resolveApiBase({ search = '', envBase, dev = false } = {}) {
  const fromQuery = new URLSearchParams(search).get('api');
  if (fromQuery) {
    try {
      const url = new URL(fromQuery);
      if (url.protocol === 'http:' || url.protocol === 'https:') return trimSlash(url.href);
    } catch {
      // not a URL: fall through to the defaults
    }
  }
  if (envBase) return trimSlash(envBase);
  return dev ? 'http://localhost:8000' : '';
}

function trimSlash(base) {
  return base.replace(/\/+$/, '');
}

export class ApiError extends Error {
  // kind: 'http' (the server answered an error), 'network' (no answer), 'timeout', 'parse', 'aborted'.
  constructor(kind, message, { url, status = null, statusText = '', type = null, param = null, code = null } = {}) {
    super(message);
    this.name = 'ApiError';
    this.kind = kind;
    this.url = url;
    this.status = status;
    this.statusText = statusText;
    this.type = type;
    this.param = param;
    this.code = code;
  }
}

// GET `url` and parse JSON. Rejects with an ApiError after `timeoutMs`, when the server cannot be
// reached, when it answers a non-2xx status (with its OpenAI-shaped error body when it has one), or when
// the body is not JSON. `signal` lets a newer request cancel this one.
export async function fetchJson(url, { timeoutMs = DEFAULT_TIMEOUT_MS, signal, fetchImpl } = {}) {
  const doFetch = fetchImpl ?? globalThis.fetch;
  const controller = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort();
  }, timeoutMs);
  const onAbort = () => controller.abort();
  if (signal) {
    if (signal.aborted) controller.abort();
    else signal.addEventListener('abort', onAbort, { once: true });
  }
  try {
    let response;
    try {
      response = await doFetch(url, { signal: controller.signal, headers: { Accept: 'application/json' } });
    } catch (err) {
      if (timedOut) throw new ApiError('timeout', `no answer within ${timeoutMs / 1000} s`, { url });
      if (controller.signal.aborted) throw new ApiError('aborted', 'request cancelled', { url });
      throw new ApiError('network', `could not reach the server (${err?.message || err})`, { url });
    }
    let text;
    try {
      text = await response.text();
    } catch (err) {
      if (timedOut) throw new ApiError('timeout', `no answer within ${timeoutMs / 1000} s`, { url });
      if (controller.signal.aborted) throw new ApiError('aborted', 'request cancelled', { url });
      throw new ApiError('network', `connection lost while reading the answer (${err?.message || err})`, { url });
    }
    let body = null;
    try {
      body = text ? JSON.parse(text) : null;
    } catch {
      body = undefined;
    }
    if (!response.ok) {
      const e = body && typeof body === 'object' ? body.error : null;
      const detail = e && typeof e === 'object' ? e : {};
      const message = typeof detail.message === 'string' && detail.message ? detail.message : snippet(text);
      throw new ApiError('http', message, {
        url,
        status: response.status,
        statusText: response.statusText,
        type: detail.type ?? null,
        param: detail.param ?? null,
        code: detail.code ?? null,
      });
    }
    if (body === undefined || body === null)
      throw new ApiError('parse', `the answer is not JSON: ${snippet(text)}`, { url, status: response.status });
    return body;
  } finally {
    clearTimeout(timer);
    if (signal) signal.removeEventListener('abort', onAbort);
  }
}

function snippet(text) {
  const t = String(text ?? '').trim();
  if (!t) return 'empty body';
  return t.length > 160 ? `${t.slice(0, 160)}…` : t;
}

// A headline and a detail line for an error box, e.g.
//   "GET /compare/memory failed: HTTP 400 Bad Request"
//   "sequence_length: must be between 1 and 2048, got 5000 (parameter: sequence_length)"
export function describeError(err, what = 'request') {
  if (!(err instanceof ApiError)) return { title: `${what} failed`, detail: String(err?.message ?? err) };
  const where = err.url ? ` (${err.url})` : '';
  switch (err.kind) {
    case 'http': {
      const status = `HTTP ${err.status}${err.statusText ? ` ${err.statusText}` : ''}`;
      const param = err.param ? ` (parameter: ${err.param})` : '';
      return { title: `${what} failed: ${status}`, detail: `${err.message}${param}` };
    }
    case 'timeout':
      return { title: `${what} timed out`, detail: `The Helix API gave ${err.message}${where}.` };
    case 'network':
      return { title: `${what} failed: API unreachable`, detail: `The page ${err.message}${where}.` };
    case 'parse':
      return { title: `${what} failed: bad answer`, detail: `${err.message}${where}` };
    default:
      return { title: `${what} failed`, detail: err.message };
  }
}

// /models/presets: `{ default, presets: [{ name, description, shape: {...} }] }` -> { presets, defaultName },
// each preset flattened (shape fields beside name and description). Also takes `data` or a bare list,
// and shape fields already at the top level.
export function normalizePresets(body) {
  const list = Array.isArray(body) ? body : Array.isArray(body?.presets) ? body.presets : body?.data;
  if (!Array.isArray(list)) return { presets: [], defaultName: null };
  const presets = list
    .filter((p) => p && typeof p.name === 'string')
    .map(({ shape, ...rest }) => (shape && typeof shape === 'object' ? { ...shape, ...rest } : rest));
  const named = body?.default ?? body?.default_preset ?? body?.default_model ?? null;
  const defaultName = typeof named === 'string' ? named : (named?.name ?? null);
  return { presets, defaultName };
}
