import { act } from 'react';
import { createRoot } from 'react-dom/client';
import { afterEach, beforeEach, describe, expect, test, vi } from 'vitest';
import { PRESETS } from '../test/fixtures.js';
import ComparisonPage from './ComparisonPage.jsx';

globalThis.IS_REACT_ACT_ENVIRONMENT = true;

class FakeEventSource {
  static last = null;
  constructor(url) {
    this.url = url;
    FakeEventSource.last = this;
  }
  close() {
    this.closed = true;
  }
}

// A pool of 8 blocks of 16 tokens: sequence 4 holds blocks 0 and 1 (20 tokens), block 5 is a cached free prefix.
const SNAPSHOT = {
  block_size: 16,
  num_blocks: 8,
  blocks: Array.from({ length: 8 }, (_, id) => ({
    id,
    tokens_filled: id === 0 || id === 5 ? 16 : id === 1 ? 4 : 0,
    cached: id === 5,
    owners: id < 2 ? [4] : [],
  })),
  sequences: [{ seq: 4, num_tokens: 20, block_ids: [0, 1] }],
};

const LIVE_MEMORY = {
  traditional_memory_mb: 1.0,
  paged_memory_mb: 0.25,
  memory_saved_mb: 0.75,
  memory_saved_percent: 75.0,
  num_blocks: 8,
  block_size: 16,
  blocks_used: 2,
  blocks_free: 6,
  utilization_percent: 25.0,
  sequence_length: 20,
  max_seq_len: 512,
  batch_size: 1,
  pool_memory_mb: 1.0,
};

let container;
let root;
let posts;
let health;

const json = (status, body) => new Response(JSON.stringify(body), { status });

beforeEach(() => {
  posts = [];
  health = { status: 'ok', model_loaded: true };
  vi.stubGlobal('EventSource', FakeEventSource);
  vi.stubGlobal(
    'fetch',
    vi.fn(async (url, init) => {
      if (url.startsWith('/health')) return json(200, health);
      if (url.startsWith('/models/presets')) return json(200, PRESETS);
      if (url.startsWith('/kv/blocks')) return json(200, SNAPSHOT);
      if (url.startsWith('/compare/memory?source=live')) return json(200, LIVE_MEMORY);
      if (url.startsWith('/v1/completions')) {
        posts.push(JSON.parse(init.body));
        return json(200, { choices: [{ text: 'x' }] });
      }
      return json(404, { error: { message: `no route ${url}` } });
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
const flush = () =>
  act(async () => {
    for (let i = 0; i < 3; ++i) await new Promise((r) => setTimeout(r, 0));
  });
const cells = () => [...container.querySelectorAll('[data-testid="block-grid"] [data-block-id]')];

async function render() {
  await act(async () => root.render(<ComparisonPage apiBase="" />));
  await flush();
}

async function goLive() {
  await act(async () => $('input[value="live"]').click());
  FakeEventSource.last.onopen();
  await flush();
}

describe('live mode', () => {
  test('no toggle without a model: computed stays the only mode', async () => {
    health = { status: 'ok', model_loaded: false };
    await render();
    expect(text('memory-mode')).toBeUndefined();
    expect($('#model')).not.toBeNull();
  });

  test('the toggle switches to the engine block map: owners, colours, cached prefix, live cards', async () => {
    await render();
    expect($('input[value="computed"]').checked).toBe(true);
    await goLive();
    expect(FakeEventSource.last.url).toBe('/kv/events');
    expect($('#model')).toBeNull(); // the computed controls are gone
    expect(cells().map((c) => c.dataset.state)).toEqual(['used', 'used', 'free', 'free', 'free', 'free', 'free', 'free']);
    expect(cells()[1].title).toBe('Block 1: sequence 4, tokens 16–19 · ref count 1');
    expect(cells()[5].className).toContain('cell-cached');
    expect(cells()[0].dataset.seq).toBe('4');
    expect(text('grid-summary')).toMatch(/^2 of 8 blocks used · 6 free/);
    expect(text('live-paged-value')).toBe('0.25 MiB');
    expect(text('live-traditional-value')).toBe('1.00 MiB');
    expect(text('live-traditional-note')).toBe('Theoretical: 1 sequence × 512 tokens');
    expect(text('live-utilization-sub')).toBe('2/8 blocks');

    // Sequence 6 adopts the cached block 5 and takes block 2; sequence 4 then ends.
    await act(async () => {
      FakeEventSource.last.onmessage({ data: JSON.stringify({ type: 'prefix_hit', seq: 6, blocks: [5] }) });
      FakeEventSource.last.onmessage({ data: JSON.stringify({ type: 'allocate', seq: 6, blocks: [2] }) });
      FakeEventSource.last.onmessage({ data: JSON.stringify({ type: 'free', seq: 4, blocks: [1, 0] }) });
    });
    await act(async () => new Promise((r) => setTimeout(r, 100))); // the feed's batch delay
    expect(cells().map((c) => c.dataset.state)).toEqual(['free', 'free', 'used', 'free', 'free', 'used', 'free', 'free']);
    expect(cells()[5].title).toBe('Block 5: sequence 6, tokens 0–15 · ref count 1 · cached prefix');
    expect(text('live-peak-blocks')).toBe('4'); // 0, 1, 2, 5 held at once before sequence 4 ended
  });

  test('the burst sends its sequences as 4 requests of n choices, requests 0 and 2 with the shared opening', async () => {
    await render();
    await goLive();
    const requests = $('#burst-sequences');
    await act(async () => {
      const setter = Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, 'value').set;
      setter.call(requests, '10');
      requests.dispatchEvent(new Event('input', { bubbles: true }));
      requests.dispatchEvent(new KeyboardEvent('keydown', { key: 'Enter', bubbles: true }));
    });
    const button = [...container.querySelectorAll('button')].find((b) => b.textContent.includes('Send demo burst'));
    await act(async () => button.click());
    await flush();
    expect(posts).toHaveLength(4);
    expect(posts.map((p) => p.n)).toEqual([3, 3, 2, 2]);
    expect(posts.map((p) => p.max_tokens)).toEqual([200, 200, 200, 200]);
    expect(posts[0].prompt.slice(0, 40)).toBe(posts[2].prompt.slice(0, 40));
    expect(posts[1].prompt.slice(0, 40)).not.toBe(posts[0].prompt.slice(0, 40));
    expect(text('burst-status')).toBe('Done: 0 running · 10 finished');
  });
});
