// The comparison request's state. Every fetch gets an id; only the answer to the newest one counts, so a
// slow answer to an old slider position can never overwrite a newer one. The last good result stays
// while a new one loads (no flashing) and is marked stale when the newest request fails.

export const initialComparisonState = Object.freeze({
  status: 'idle', // 'idle' | 'loading' | 'success' | 'error'
  data: null, // last successful /compare/memory answer
  error: null, // ApiError of the newest request, when it failed
  requestId: 0, // id of the newest request
  stale: false, // data answers an older request than the newest one
});

export function comparisonReducer(state, action) {
  switch (action.type) {
    case 'request':
      return { ...state, status: 'loading', error: null, requestId: action.id };
    case 'success':
      if (action.id !== state.requestId) return state;
      return { ...state, status: 'success', data: action.data, error: null, stale: false };
    case 'failure':
      if (action.id !== state.requestId) return state;
      return { ...state, status: 'error', error: action.error, stale: state.data !== null };
    default:
      return state;
  }
}

export const isBusy = (state) => state.status === 'loading';
