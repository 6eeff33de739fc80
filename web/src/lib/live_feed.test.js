import { describe, expect, test } from 'vitest';
import { LiveKvFeed } from './live_feed.js';

// An EventSource the test drives by hand.
class FakeEventSource {
  static last = null;
  constructor(url) {
    this.url = url;
    this.closed = false;
    FakeEventSource.last = this;
  }
  open() {
    this.onopen?.();
  }
  send(ev) {
    this.onmessage?.({ data: JSON.stringify(ev) });
  }
  close() {
    this.closed = true;
  }
}

const snapshot = (ownersById) => ({
  block_size: 4,
  num_blocks: ownersById.length,
  blocks: ownersById.map((owners, id) => ({ id, tokens_filled: owners.length ? 4 : 0, cached: false, owners })),
  sequences: [],
});

// /kv/blocks answers with the next queued snapshot once the test releases it.
function controlledFetch() {
  const waiting = [];
  const calls = [];
  const fetchImpl = (url) => {
    calls.push(url);
    return new Promise((resolve) => waiting.push(resolve));
  };
  const answer = async (body) => {
    waiting.shift()(new Response(JSON.stringify(body), { status: 200 }));
    await new Promise((r) => setTimeout(r, 0));
  };
  return { fetchImpl, answer, calls };
}

const owners = (feed) => feed.state.blocks.map((b) => b.owners);

describe('LiveKvFeed', () => {
  test('snapshot after the stream opens, events applied on top, early events replayed without double counting', async () => {
    const { fetchImpl, answer, calls } = controlledFetch();
    const changes = [];
    const feed = new LiveKvFeed({ apiBase: 'http://h', EventSourceImpl: FakeEventSource, fetchImpl, flushMs: 0, onChange: (c) => changes.push(c.status) }).start();
    const es = FakeEventSource.last;
    expect(es.url).toBe('http://h/kv/events');
    expect(calls).toEqual([]); // nothing fetched before the subscription is live
    es.open();
    expect(calls).toEqual(['http://h/kv/blocks']);
    // This allocate happened before the snapshot was taken: the snapshot already has it.
    es.send({ index: 0, type: 'allocate', seq: 1, blocks: [0] });
    await answer(snapshot([[1], [], []]));
    expect(feed.status).toBe('live');
    expect(owners(feed)).toEqual([[1], [], []]);
    expect(feed.state.usedBlocks).toBe(1);
    es.send({ index: 1, type: 'allocate', seq: 2, blocks: [1, 2] });
    expect(owners(feed)).toEqual([[1], [2], [2]]);
    es.send({ index: 2, type: 'free', seq: 2, blocks: [2, 1] });
    es.send({ index: 3, type: 'free', seq: 1, blocks: [0] });
    expect(owners(feed)).toEqual([[], [], []]);
    expect(feed.state.peakUsedBlocks).toBe(3);
    expect(changes).toEqual(['live', 'live', 'live', 'live']);
    feed.stop();
    expect(es.closed).toBe(true);
  });

  test('a dropped event re-fetches the snapshot; events meanwhile wait for it', async () => {
    const { fetchImpl, answer, calls } = controlledFetch();
    const feed = new LiveKvFeed({ EventSourceImpl: FakeEventSource, fetchImpl, flushMs: 0 }).start();
    const es = FakeEventSource.last;
    es.open();
    await answer(snapshot([[], [], []]));
    es.send({ index: 0, type: 'dropped', count: 40 });
    expect(calls).toEqual(['/kv/blocks', '/kv/blocks']);
    es.send({ index: 41, type: 'allocate', seq: 9, blocks: [2] });
    expect(owners(feed)).toEqual([[], [], []]); // held back until the snapshot comes
    await answer(snapshot([[5], [5], []]));
    expect(owners(feed)).toEqual([[5], [5], [9]]);
    feed.stop();
  });

  test('events wait for the flush; a reconnect re-fetches the snapshot', async () => {
    const { fetchImpl, answer } = controlledFetch();
    const feed = new LiveKvFeed({ EventSourceImpl: FakeEventSource, fetchImpl, flushMs: 1000 }).start();
    const es = FakeEventSource.last;
    es.open();
    await answer(snapshot([[], []]));
    es.send({ type: 'allocate', seq: 1, blocks: [0] });
    expect(owners(feed)).toEqual([[], []]); // batched
    feed.flush();
    expect(owners(feed)).toEqual([[1], []]);
    es.onerror();
    expect(feed.status).toBe('reconnecting');
    es.open();
    await answer(snapshot([[], [3]]));
    expect(feed.status).toBe('live');
    expect(owners(feed)).toEqual([[], [3]]);
    feed.stop();
  });

  test('a stream the browser gives up on (readyState CLOSED) is an error, not a reconnect', () => {
    const feed = new LiveKvFeed({ EventSourceImpl: FakeEventSource, fetchImpl: async () => new Response('{}'), flushMs: 0 }).start();
    const es = FakeEventSource.last;
    es.readyState = 0;
    es.onerror();
    expect(feed.status).toBe('reconnecting');
    es.readyState = 2;
    es.onerror();
    expect(feed.status).toBe('error');
    expect(feed.error.message).toBe('GET /kv/events: not an event stream');
    feed.stop();
  });

  test('no model: /kv/blocks answers 404 and the feed says so', async () => {
    const fetchImpl = async () => new Response(JSON.stringify({ error: { message: 'not found' } }), { status: 404 });
    const feed = new LiveKvFeed({ EventSourceImpl: FakeEventSource, fetchImpl, flushMs: 0 }).start();
    FakeEventSource.last.open();
    await new Promise((r) => setTimeout(r, 0));
    await new Promise((r) => setTimeout(r, 0));
    expect(feed.status).toBe('error');
    expect(feed.error.status).toBe(404);
    feed.stop();
  });
});
