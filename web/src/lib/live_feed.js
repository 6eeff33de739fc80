// LiveKvFeed: keeps a LiveKv (live_kv.js) in step with the engine. It subscribes to GET /kv/events first and
// fetches the GET /kv/blocks snapshot once the stream is open, so no event after the snapshot can be missed;
// events that arrive meanwhile are replayed on top of it (harmless: applying is idempotent). A "dropped"
// event (the client fell behind the server's queue) or a reconnect fetches the snapshot again.
import { fetchJson } from './api.js';
import { applyEvents, fromSnapshot, resetPeak } from './live_kv.js';

export class LiveKvFeed {
  // onChange({ status, state, error }) after every change. status: 'connecting' | 'live' | 'reconnecting' |
  // 'error'. Events are applied in batches at most every `flushMs` so a fast engine does not redraw per event.
  constructor({ apiBase = '', onChange, EventSourceImpl = globalThis.EventSource, fetchImpl, flushMs = 60, timeoutMs } = {}) {
    this.apiBase = apiBase;
    this.onChange = onChange ?? (() => {});
    this.EventSourceImpl = EventSourceImpl;
    this.fetchImpl = fetchImpl;
    this.flushMs = flushMs;
    this.timeoutMs = timeoutMs;
    this.status = 'connecting';
    this.state = null;
    this.error = null;
    this.pending = []; // events waiting for the next flush
    this.buffer = null; // while a snapshot is being fetched: every event since it was asked for
    this.generation = 0;
    this.timer = null;
    this.controller = null;
    this.source = null;
    this.resyncs = 0;
  }

  start() {
    if (typeof this.EventSourceImpl !== 'function') {
      this.setStatus('error', new Error('this browser has no EventSource'));
      return this;
    }
    const es = new this.EventSourceImpl(`${this.apiBase}/kv/events`);
    this.source = es;
    es.onopen = () => this.resync();
    es.onmessage = (m) => this.receive(m.data);
    // The browser reconnects on its own (the next open re-fetches the snapshot), except after an answer that is
    // not an event stream (readyState CLOSED): then there is nothing to follow.
    es.onerror = () => {
      if (this.source !== es) return;
      if (es.readyState === 2) this.setStatus('error', new Error(`GET ${this.apiBase}/kv/events: not an event stream`));
      else if (this.status !== 'error') this.setStatus('reconnecting');
    };
    return this;
  }

  stop() {
    this.generation += 1;
    this.source?.close();
    this.source = null;
    this.controller?.abort();
    clearTimeout(this.timer);
    this.timer = null;
  }

  receive(data) {
    let ev;
    try {
      ev = JSON.parse(data);
    } catch {
      return; // not an event we can read: the next snapshot covers whatever it was
    }
    if (!ev || typeof ev !== 'object') return;
    if (ev.type === 'dropped') {
      this.resync();
      return;
    }
    if (this.buffer) {
      this.buffer.push(ev);
      return;
    }
    this.pending.push(ev);
    if (this.flushMs <= 0) this.flush();
    else if (this.timer === null) this.timer = setTimeout(() => this.flush(), this.flushMs);
  }

  flush() {
    clearTimeout(this.timer);
    this.timer = null;
    if (!this.state || this.pending.length === 0) return;
    const events = this.pending;
    this.pending = [];
    this.state = applyEvents(this.state, events);
    this.emit();
  }

  // Fetches the snapshot; the newest request wins if several overlap.
  resync() {
    const generation = ++this.generation;
    this.resyncs += 1;
    if (!this.buffer) this.buffer = [];
    this.buffer.push(...this.pending);
    this.pending = [];
    this.controller?.abort();
    const controller = new AbortController();
    this.controller = controller;
    return fetchJson(`${this.apiBase}/kv/blocks`, { signal: controller.signal, fetchImpl: this.fetchImpl, timeoutMs: this.timeoutMs })
      .then((snap) => {
        if (generation !== this.generation) return;
        const replay = this.buffer ?? [];
        this.buffer = null;
        this.state = applyEvents(fromSnapshot(snap, this.state), replay);
        this.setStatus('live');
      })
      .catch((error) => {
        if (generation !== this.generation || error?.kind === 'aborted') return;
        this.buffer = null;
        this.setStatus('error', error);
      });
  }

  resetPeak() {
    if (!this.state) return;
    this.state = resetPeak(this.state);
    this.emit();
  }

  setStatus(status, error = null) {
    this.status = status;
    this.error = error;
    this.emit();
  }

  emit() {
    this.onChange({ status: this.status, state: this.state, error: this.error });
  }
}
