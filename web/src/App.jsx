import { useMemo } from 'react';
import ComparisonPage from './components/ComparisonPage.jsx';
import SpeculativeSection from './components/SpeculativeSection.jsx';
import { resolveApiBase } from './lib/api.js';
import { Link, matchRoute, usePath } from './lib/router.js';

// The comparison page: speculative decoding first, then memory.
const comparison = (api) => (
  <>
    <SpeculativeSection apiBase={api} />
    <ComparisonPage apiBase={api} />
  </>
);

const ROUTES = [
  { path: '/', element: comparison },
  { path: '/comparison', element: comparison },
];

function NotFound({ path }) {
  return (
    <section className="panel not-found">
      <h1>Page not found</h1>
      <p>
        Nothing lives at <code>{path}</code>. <Link to="/comparison">Go to the memory comparison</Link>.
      </p>
    </section>
  );
}

export default function App() {
  const path = usePath();
  const apiBase = useMemo(
    () =>
      resolveApiBase({
        search: window.location.search,
        envBase: import.meta.env.VITE_API_BASE,
        dev: import.meta.env.DEV,
      }),
    [],
  );
  const route = matchRoute(ROUTES, path);
  return (
    <div className="app">
      <header className="topbar">
        <Link to="/" className="brand" aria-label="Helix home">
          <span className="brand-mark" aria-hidden="true" />
          Helix
        </Link>
        <nav aria-label="Main">
          <Link to="/comparison" className="nav-link" aria-current={route && path !== '/' ? 'page' : undefined}>
            Memory comparison
          </Link>
        </nav>
      </header>
      <main id="main">{route ? route.element(apiBase) : <NotFound path={path} />}</main>
      <footer className="footer">
        Helix · API {apiBase || 'on this origin'} · MiB = 2<sup>20</sup> bytes
      </footer>
    </div>
  );
}
