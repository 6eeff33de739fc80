import { afterEach, describe, expect, test, vi } from 'vitest';
import { ApiError, describeError, fetchJson, normalizePresets, resolveApiBase } from './api.js';

const jsonResponse = (status, body, statusText = '') =>
  new Response(typeof body === 'string' ? body : JSON.stringify(body), { status, statusText });

afterEach(() => vi.useRealTimers());

describe('resolveApiBase', () => {
  test('same origin by default, localhost:8000 under the dev server', () => {
    expect(resolveApiBase({})).toBe('');
    expect(resolveApiBase({ dev: true })).toBe('http://localhost:8000');
  });
  test('VITE_API_BASE, then ?api= wins', () => {
    expect(resolveApiBase({ envBase: 'http://h:9000/' })).toBe('http://h:9000');
    expect(resolveApiBase({ search: '?api=http://127.0.0.1:1234', envBase: 'http://h:9000' })).toBe('http://127.0.0.1:1234');
  });
  test('?api= must be an http(s) URL', () => {
    expect(resolveApiBase({ search: '?api=javascript:alert(1)' })).toBe('');
    expect(resolveApiBase({ search: '?api=not a url', dev: true })).toBe('http://localhost:8000');
  });
});

describe('fetchJson', () => {
  test('returns the parsed body', async () => {
    const fetchImpl = vi.fn(async () => jsonResponse(200, { a: 1 }));
    await expect(fetchJson('/x', { fetchImpl })).resolves.toEqual({ a: 1 });
    expect(fetchImpl.mock.calls[0][0]).toBe('/x');
  });

  test('an OpenAI-shaped error body gives status, message and param', async () => {
    const body = {
      error: {
        message: 'sequence_length: must be between 1 and 2048, got 5000',
        type: 'invalid_request_error',
        param: 'sequence_length',
        code: null,
      },
    };
    const fetchImpl = async () => jsonResponse(400, body, 'Bad Request');
    const err = await fetchJson('/compare/memory', { fetchImpl }).catch((e) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect(err).toMatchObject({ kind: 'http', status: 400, param: 'sequence_length', type: 'invalid_request_error' });
    expect(describeError(err, 'GET /compare/memory')).toEqual({
      title: 'GET /compare/memory failed: HTTP 400 Bad Request',
      detail: 'sequence_length: must be between 1 and 2048, got 5000 (parameter: sequence_length)',
    });
  });

  test('a non-JSON error body is quoted', async () => {
    const err = await fetchJson('/x', { fetchImpl: async () => jsonResponse(502, 'bad gateway') }).catch((e) => e);
    expect(err).toMatchObject({ kind: 'http', status: 502, message: 'bad gateway' });
  });

  test('no server: a network error naming the URL', async () => {
    const fetchImpl = async () => {
      throw new TypeError('Failed to fetch');
    };
    const err = await fetchJson('http://127.0.0.1:9/compare/memory', { fetchImpl }).catch((e) => e);
    expect(err.kind).toBe('network');
    const d = describeError(err, 'GET /compare/memory');
    expect(d.title).toBe('GET /compare/memory failed: API unreachable');
    expect(d.detail).toBe('The page could not reach the server (Failed to fetch) (http://127.0.0.1:9/compare/memory).');
  });

  test('a server that never answers times out instead of spinning forever', async () => {
    vi.useFakeTimers();
    const fetchImpl = (url, { signal }) =>
      new Promise((_, reject) => signal.addEventListener('abort', () => reject(new DOMException('aborted', 'AbortError'))));
    const pending = fetchJson('/slow', { fetchImpl, timeoutMs: 5000 }).catch((e) => e);
    await vi.advanceTimersByTimeAsync(5000);
    const err = await pending;
    expect(err.kind).toBe('timeout');
    expect(describeError(err, 'GET /compare/memory').title).toBe('GET /compare/memory timed out');
  });

  test('a cancelled request is reported as aborted (the page ignores it)', async () => {
    const controller = new AbortController();
    const fetchImpl = (url, { signal }) =>
      new Promise((_, reject) => signal.addEventListener('abort', () => reject(new DOMException('aborted', 'AbortError'))));
    const pending = fetchJson('/x', { fetchImpl, signal: controller.signal }).catch((e) => e);
    controller.abort();
    expect((await pending).kind).toBe('aborted');
  });

  test('a 200 that is not JSON is a parse error', async () => {
    const err = await fetchJson('/x', { fetchImpl: async () => jsonResponse(200, '<html>') }).catch((e) => e);
    expect(err.kind).toBe('parse');
  });
});

describe('normalizePresets', () => {
  const tiny = { name: 'tinyllama-1.1b', n_kv_heads: 4 };
  test('the server form: shape fields nested under "shape" are flattened', () => {
    const body = {
      default: 'tinyllama-1.1b',
      presets: [{ name: 'tinyllama-1.1b', description: 'TinyLlama', shape: { name: 'tinyllama-1.1b', n_kv_heads: 4, uses_gqa: true } }],
    };
    expect(normalizePresets(body)).toEqual({
      presets: [{ name: 'tinyllama-1.1b', description: 'TinyLlama', n_kv_heads: 4, uses_gqa: true }],
      defaultName: 'tinyllama-1.1b',
    });
  });
  test('accepts {data, default}, {presets, default_preset} and a bare list', () => {
    expect(normalizePresets({ data: [tiny], default: 'tinyllama-1.1b' })).toEqual({ presets: [tiny], defaultName: 'tinyllama-1.1b' });
    expect(normalizePresets({ presets: [tiny], default_preset: 'x' })).toEqual({ presets: [tiny], defaultName: 'x' });
    expect(normalizePresets([tiny])).toEqual({ presets: [tiny], defaultName: null });
  });
  test('ignores junk', () => {
    expect(normalizePresets({ data: [null, { nope: 1 }, tiny] }).presets).toEqual([tiny]);
    expect(normalizePresets('x')).toEqual({ presets: [], defaultName: null });
  });
});
