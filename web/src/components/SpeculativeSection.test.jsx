import { act } from 'react';
import { createRoot } from 'react-dom/client';
import { afterEach, beforeEach, describe, expect, test, vi } from 'vitest';
import { SPEC_API } from '../test/speculative_fixture.js';
import SpeculativeSection from './SpeculativeSection.jsx';

globalThis.IS_REACT_ACT_ENVIRONMENT = true;

let container;
let root;
let calls;
let answer; // (url) => Response | Promise<Response>

const json = (status, body, statusText = status === 200 ? 'OK' : 'Unprocessable Entity') =>
  new Response(JSON.stringify(body), { status, statusText });

beforeEach(() => {
  calls = [];
  answer = () => json(200, SPEC_API);
  vi.stubGlobal(
    'fetch',
    vi.fn(async (url) => {
      calls.push(url);
      return answer(url);
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
const flush = () => act(async () => new Promise((r) => setTimeout(r, 0)));
const button = () => [...container.querySelectorAll('button')].find((b) => b.textContent.includes('Run Speculative Comparison'));

async function render(props = {}) {
  await act(async () => root.render(<SpeculativeSection apiBase="" {...props} />));
}

function type(el, value) {
  const proto = el instanceof HTMLTextAreaElement ? HTMLTextAreaElement.prototype : HTMLInputElement.prototype;
  Object.getOwnPropertyDescriptor(proto, 'value').set.call(el, value);
  el.dispatchEvent(new Event('input', { bubbles: true }));
}

describe('SpeculativeSection', () => {
  test('nothing is fetched before the button; every control is labelled', async () => {
    await render();
    expect(calls).toEqual([]);
    expect(text('spec-results')).toBeUndefined();
    for (const id of ['spec-prompt', 'spec-max-tokens', 'spec-method', 'spec-tokens'])
      expect(container.querySelector(`label[for="${id}"]`)).not.toBeNull();
    expect([...$('#spec-method').options].map((o) => o.value)).toEqual(['ngram', 'draft']);
  });

  test('loading, then the fixture figures, spans and histogram', async () => {
    let release;
    answer = () => new Promise((r) => (release = () => r(json(200, SPEC_API))));
    await render();
    await act(async () => button().click());
    expect($('.spinner')).not.toBeNull();
    expect(button().disabled).toBe(true);
    expect(calls).toHaveLength(1);
    expect(calls[0]).toMatch(/^\/compare\/speculative\?prompt=The%20little%20girl%20said%2C%20%22I%20want/);
    expect(calls[0]).toMatch(/&max_tokens=64&method=ngram&spec_tokens=4$/);
    await act(async () => release());
    await flush();
    expect($('.spinner')).toBeNull();
    expect(text('spec-baseline-value')).toBe('500.0 tok/s');
    expect(text('spec-speculative-value')).toBe('800.0 tok/s');
    expect(text('spec-speedup-value')).toBe('1.60x');
    expect(text('spec-acceptance-value')).toBe('43.75 %');
    expect(text('spec-acceptance-sub')).toBe('7/16 drafts accepted');
    expect(text('spec-identical')).toBe('Greedy output identical: yes');
    expect(text('spec-forwards-saved')).toBe('7');
    expect(container.querySelectorAll('[data-testid="spec-text"] [data-source="draft"]')).toHaveLength(7);
    expect(container.querySelectorAll('[data-testid="spec-text"] [data-source="target"]')).toHaveLength(5);
    expect([...container.querySelectorAll('[data-testid^="spec-histogram-"]')].map((e) => e.dataset.count)).toEqual([
      '2', '0', '0', '1', '1',
    ]);
    expect(text('spec-check')).toMatch(/^✓/);
    expect($('[data-testid="spec-line-speculative"]').getAttribute('d')).toMatch(/^M/);
    const delays = [...container.querySelectorAll('.card')].map((c) => c.style.animationDelay);
    expect(delays).toEqual(['0.1s', '0.2s', '0.3s', '0.4s']);
  });

  test('changed controls go into the query; Enter in a number field runs with the new value', async () => {
    await render();
    await act(async () => type($('#spec-prompt'), 'a b a b'));
    await act(async () => {
      $('#spec-method').value = 'draft';
      $('#spec-method').dispatchEvent(new Event('change', { bubbles: true }));
    });
    await act(async () => type($('#spec-tokens'), '8'));
    await act(async () => {
      $('#spec-tokens').dispatchEvent(new KeyboardEvent('keydown', { key: 'Enter', bubbles: true }));
      $('form').requestSubmit();
    });
    await flush();
    expect(calls).toEqual(['/compare/speculative?prompt=a%20b%20a%20b&max_tokens=64&method=draft&spec_tokens=8']);
  });

  test('an error answer shows its message and parameter and stops loading', async () => {
    answer = () =>
      json(422, {
        error: { message: 'method: draft needs --draft-model', type: 'invalid_request_error', param: 'method', code: null },
      });
    await render();
    await act(async () => button().click());
    await flush();
    expect(text('spec-error')).toMatch(/GET \/compare\/speculative failed: HTTP 422/);
    expect(text('spec-error')).toMatch(/method: draft needs --draft-model \(parameter: method\)/);
    expect($('.spinner')).toBeNull();
    expect(button().disabled).toBe(false);
    expect(text('spec-results')).toBeUndefined();
  });

  test('a server that does not answer times out with a message', async () => {
    vi.stubGlobal(
      'fetch',
      vi.fn((url, { signal }) => new Promise((_, reject) => signal.addEventListener('abort', () => reject(new DOMException('x', 'AbortError'))))),
    );
    await render({ timeoutMs: 20 });
    await act(async () => button().click());
    await act(async () => new Promise((r) => setTimeout(r, 60)));
    expect(text('spec-error')).toMatch(/timed out/);
    expect($('.spinner')).toBeNull();
  });
});
