import { describe, expect, test } from 'vitest';
import { comparisonReducer, initialComparisonState, isBusy } from './comparison_state.js';

const run = (actions) => actions.reduce(comparisonReducer, initialComparisonState);

describe('comparisonReducer', () => {
  test('idle -> loading -> success', () => {
    const loading = run([{ type: 'request', id: 1 }]);
    expect(loading.status).toBe('loading');
    expect(isBusy(loading)).toBe(true);
    const done = comparisonReducer(loading, { type: 'success', id: 1, data: { a: 1 } });
    expect(done).toMatchObject({ status: 'success', data: { a: 1 }, error: null, stale: false });
    expect(isBusy(done)).toBe(false);
  });

  test('loading -> error ends the loading state', () => {
    const s = run([
      { type: 'request', id: 1 },
      { type: 'failure', id: 1, error: 'boom' },
    ]);
    expect(s).toMatchObject({ status: 'error', error: 'boom', data: null, stale: false });
    expect(isBusy(s)).toBe(false);
  });

  test('an answer to an older request is ignored', () => {
    const s = run([
      { type: 'request', id: 1 },
      { type: 'request', id: 2 },
      { type: 'success', id: 1, data: 'old' },
    ]);
    expect(s).toMatchObject({ status: 'loading', data: null, requestId: 2 });
    expect(comparisonReducer(s, { type: 'failure', id: 1, error: 'x' })).toBe(s);
    expect(comparisonReducer(s, { type: 'success', id: 2, data: 'new' }).data).toBe('new');
  });

  test('the last good figures stay while reloading, marked stale when the new request fails', () => {
    const s = run([
      { type: 'request', id: 1 },
      { type: 'success', id: 1, data: 'good' },
      { type: 'request', id: 2 },
    ]);
    expect(s).toMatchObject({ status: 'loading', data: 'good', stale: false });
    const failed = comparisonReducer(s, { type: 'failure', id: 2, error: 'e' });
    expect(failed).toMatchObject({ status: 'error', data: 'good', stale: true });
    const again = run([
      { type: 'request', id: 1 },
      { type: 'success', id: 1, data: 'good' },
      { type: 'request', id: 2 },
      { type: 'failure', id: 2, error: 'e' },
      { type: 'request', id: 3 },
      { type: 'success', id: 3, data: 'fresh' },
    ]);
    expect(again).toMatchObject({ status: 'success', data: 'fresh', stale: false, error: null });
  });
});
