import { act } from 'react';
import { createRoot } from 'react-dom/client';
import { afterEach, beforeEach, describe, expect, test, vi } from 'vitest';
import { compareMemoryFromApi } from '../lib/memory_math.js';
import { PRESETS, REFERENCE_API } from '../test/fixtures.js';
import ComparisonPage from './ComparisonPage.jsx';

globalThis.IS_REACT_ACT_ENVIRONMENT = true;

let container;
let root;
let compareCalls;
let answerCompare; // (url) => Response | Promise<Response>

const json = (status, body) => new Response(JSON.stringify(body), { status, statusText: status === 200 ? 'OK' : 'Bad Request' });

beforeEach(() => {
  compareCalls = [];
  answerCompare = () => json(200, REFERENCE_API);
  vi.stubGlobal(
    'fetch',
    vi.fn(async (url) => {
      if (url.startsWith('/models/presets')) return json(200, PRESETS);
      if (url.startsWith('/health')) return json(200, { status: 'ok', model_loaded: false });
      compareCalls.push(url);
      return answerCompare(url);
    }),
  );
  container = document.createElement('div');
  document.body.append(container);
  root = createRoot(container);
});

afterEach(() => {
  act(() => root.unmount());
  container.remove();
  vi.unstubAllGlobals();
});

const $ = (sel) => container.querySelector(sel);
const text = (testId) => $(`[data-testid="${testId}"]`)?.textContent.trim();
const flush = () => act(async () => {
  await new Promise((r) => setTimeout(r, 0));
});

async function render(props = {}) {
  await act(async () => root.render(<ComparisonPage apiBase="" debounceMs={5} {...props} />));
  await flush();
}

async function clickShow() {
  const button = [...container.querySelectorAll('button')].find((b) => b.textContent.includes('Show Memory Comparison'));
  await act(async () => button.click());
}

describe('ComparisonPage', () => {
  test('nothing is fetched or shown before the button; presets fill the model select', async () => {
    await render();
    expect(compareCalls).toEqual([]);
    expect(text('results')).toBeUndefined();
    expect([...$('#model').options].map((o) => o.value)).toEqual(['tinyllama-1.1b', 'llama-2-7b']);
    expect($('#model-hint').textContent).toMatch(/GQA: 32 query heads share 4 KV heads/);
  });

  test('loading, then the reference figures and grid', async () => {
    let release;
    answerCompare = () => new Promise((r) => (release = () => r(json(200, REFERENCE_API))));
    await render();
    await clickShow();
    expect($('#comparison-status').textContent).toBe('Calculating…');
    expect($('.spinner')).not.toBeNull();
    expect(compareCalls).toEqual([
      '/compare/memory?model=tinyllama-1.1b&sequence_length=128&max_seq_len=2048&block_size=16&num_blocks=1024&batch_size=1&kv_dtype=f16',
    ]);
    await act(async () => release());
    await flush();
    expect($('.spinner')).toBeNull();
    expect(text('traditional-value')).toBe('44.00 MiB');
    expect(text('paged-value')).toBe('2.75 MiB');
    expect(text('saved-value')).toBe('41.25 MiB');
    expect(text('saved-sub')).toBe('93.75 %');
    expect(text('utilization-sub')).toBe('8/1024 blocks');
    expect(container.querySelectorAll('[data-block-id][data-state="used"]')).toHaveLength(8);
    expect(container.querySelectorAll('[data-block-id][data-state="free"]')).toHaveLength(1016);
    expect(text('traditional-bar')).toMatch(/Used: 128 tokens.*Wasted: 1920 tokens/);
    expect(text('fit-traditional')).toBe('8');
    expect(text('fit-paged')).toBe('128');
    expect(text('formula-check')).toMatch(/^✓/);
    const cards = [...container.querySelectorAll('.card')].map((c) => c.style.animationDelay);
    expect(cards).toEqual(['0.1s', '0.2s', '0.3s', '0.4s']);
  });

  test('an error answer shows status, message and parameter, and stops loading', async () => {
    answerCompare = () =>
      json(400, { error: { message: 'num_blocks: too small', type: 'invalid_request_error', param: 'num_blocks', code: null } });
    await render();
    await clickShow();
    await flush();
    const alert = container.querySelector('[role="alert"]');
    expect(alert.textContent).toMatch(/GET \/compare\/memory failed: HTTP 400 Bad Request/);
    expect(alert.textContent).toMatch(/num_blocks: too small \(parameter: num_blocks\)/);
    expect($('.spinner')).toBeNull();
    expect(text('results')).toBeUndefined();
  });

  test('a server that does not answer times out with a message', async () => {
    answerCompare = () => new Promise(() => {});
    vi.stubGlobal(
      'fetch',
      vi.fn((url, { signal }) =>
        url.startsWith('/models/presets')
          ? Promise.resolve(json(200, PRESETS))
          : new Promise((_, reject) => signal.addEventListener('abort', () => reject(new DOMException('x', 'AbortError')))),
      ),
    );
    await render({ timeoutMs: 20 });
    await clickShow();
    await act(async () => new Promise((r) => setTimeout(r, 60)));
    expect(container.querySelector('[role="alert"]').textContent).toMatch(/timed out/);
    expect($('.spinner')).toBeNull();
  });

  test('moving the slider recalculates (debounced) and shows the new answer', async () => {
    answerCompare = (url) => {
      const len = Number(new URL(url, 'http://x').searchParams.get('sequence_length'));
      const api = { ...REFERENCE_API, ...compareMemoryFromApi({ ...REFERENCE_API, sequence_length: len }) };
      return json(200, api);
    };
    await render();
    await clickShow();
    await flush();
    const slider = $('#sequence-length-slider');
    const setValue = Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, 'value').set;
    await act(async () => {
      setValue.call(slider, '200');
      slider.dispatchEvent(new Event('input', { bubbles: true }));
      setValue.call(slider, '1000');
      slider.dispatchEvent(new Event('input', { bubbles: true }));
    });
    await act(async () => new Promise((r) => setTimeout(r, 30)));
    await flush();
    // Two quick moves, one request for the last position.
    expect(compareCalls).toHaveLength(2);
    expect(compareCalls[1]).toMatch(/sequence_length=1000&/);
    expect(text('utilization-sub')).toBe('63/1024 blocks'); // ceil(1000 / 16)
    expect(text('paged-value')).toBe('21.66 MiB'); // 63 * 16 * 22,528 B = 22,708,224 B = 21.65625 MiB
    expect($('#sequence-length').value).toBe('1000');
  });
});
