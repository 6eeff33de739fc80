// A small client-side router: the path from history, links that push state, no dependency.
import { createElement, useSyncExternalStore } from 'react';

const NAVIGATE_EVENT = 'helix:navigate';

function subscribe(callback) {
  window.addEventListener('popstate', callback);
  window.addEventListener(NAVIGATE_EVENT, callback);
  return () => {
    window.removeEventListener('popstate', callback);
    window.removeEventListener(NAVIGATE_EVENT, callback);
  };
}

const currentPath = () => window.location.pathname;

export function usePath() {
  return useSyncExternalStore(subscribe, currentPath, () => '/');
}

// Keeps the query string (it may carry ?api=) when moving between pages.
export function navigate(to) {
  const url = new URL(to, window.location.href);
  if (!url.search) url.search = window.location.search;
  if (url.pathname + url.search === window.location.pathname + window.location.search) return;
  window.history.pushState(null, '', url.pathname + url.search + url.hash);
  window.dispatchEvent(new Event(NAVIGATE_EVENT));
}

// Strips a trailing slash so "/comparison/" and "/comparison" match the same route.
export function matchRoute(routes, path) {
  const clean = path.length > 1 ? path.replace(/\/+$/, '') : path;
  return routes.find((r) => r.path === clean) ?? null;
}

export function Link({ to, children, ...rest }) {
  const onClick = (event) => {
    if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey)
      return;
    event.preventDefault();
    navigate(to);
  };
  return createElement('a', { href: to, onClick, ...rest }, children);
}
