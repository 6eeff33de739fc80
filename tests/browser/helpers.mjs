// Shared by the browser tests: start the real `helix serve` on a free port, drive Debian's Chromium
// through playwright-core, collect console errors. playwright-core lives in web/node_modules.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const WEB_DIST = path.join(ROOT, 'web', 'dist');
export const SCREENSHOT_DIR = path.join(ROOT, 'build', 'screenshots');
export const HELIX_BINARY = path.resolve(ROOT, process.env.HELIX_BINARY || 'build/helix');
export const CHROMIUM = process.env.HELIX_CHROMIUM || '/usr/bin/chromium';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const requireWeb = createRequire(path.join(ROOT, 'web', 'package.json'));
const { chromium } = requireWeb('playwright-core');

const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

// Builds web/dist when it is missing (`make` builds it before the tests; a lone ctest run may not have).
// Test files run in parallel processes: a lock directory lets one build while the others wait.
export async function ensureWebDist(timeoutMs = 120000) {
  const index = path.join(WEB_DIST, 'index.html');
  const lock = path.join(ROOT, 'web', '.dist-build-lock');
  const deadline = Date.now() + timeoutMs;
  while (!existsSync(index)) {
    try {
      mkdirSync(lock);
    } catch {
      if (Date.now() > deadline) throw new Error(`waited ${timeoutMs} ms for another web build (${lock})`);
      await sleep(250);
      continue;
    }
    try {
      if (existsSync(index)) break;
      const r = spawnSync('npm', ['--prefix', path.join(ROOT, 'web'), 'run', 'build'], { stdio: 'inherit' });
      if (r.status !== 0) throw new Error(`npm run build failed (exit ${r.status})`);
    } finally {
      rmSync(lock, { recursive: true, force: true });
    }
  }
}

export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

// Starts `helix serve --host 127.0.0.1 --port P --web-dir web/dist [args...]` and waits until it answers.
export async function startHelix({ timeoutMs = 20000, args = [] } = {}) {
  if (!existsSync(HELIX_BINARY)) throw new Error(`helix binary not found at ${HELIX_BINARY} (set HELIX_BINARY)`);
  await ensureWebDist();
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child = spawn(HELIX_BINARY, ['serve', '--host', '127.0.0.1', '--port', String(port), '--web-dir', WEB_DIST, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (d) => (output += d));
  child.stderr.on('data', (d) => (output += d));
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  let done = false;
  exited.then(() => (done = true));

  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (done) throw new Error(`helix serve exited before answering:\n${output}`);
    try {
      const r = await fetch(`${url}/models/presets`);
      if (r.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`helix serve did not answer on ${url} within ${timeoutMs} ms:\n${output}`);
    }
    await sleep(100);
  }

  const stop = async () => {
    if (done) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  };
  return { url, port, stop, output: () => output };
}

// Headless Chromium with a fresh profile; close() also removes the profile.
export async function launchBrowser() {
  const userDataDir = mkdtempSync(path.join(os.tmpdir(), 'helix-chromium-'));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_ARGS,
    viewport: { width: 1440, height: 900 },
  });
  return {
    context,
    async close() {
      await context.close();
      rmSync(userDataDir, { recursive: true, force: true });
    },
  };
}

// A new page that records console errors and uncaught exceptions.
export async function openPage(context, { width = 1440, height = 900 } = {}) {
  const page = await context.newPage();
  await page.setViewportSize({ width, height });
  const errors = [];
  page.on('console', (msg) => {
    if (msg.type() === 'error') errors.push(`console: ${msg.text()}`);
  });
  page.on('pageerror', (err) => errors.push(`pageerror: ${err.message}`));
  return { page, errors };
}

export async function textOf(page, testId) {
  return (await page.getByTestId(testId).textContent())?.trim();
}

// Waits until the element with data-testid `testId` reads exactly `text`.
export async function waitForText(page, testId, text, timeout = 10000) {
  await page.waitForFunction(
    ([id, want]) => document.querySelector(`[data-testid="${id}"]`)?.textContent.trim() === want,
    [testId, text],
    { timeout },
  );
}

export async function countCells(page, state) {
  return page.locator(`[data-testid="block-grid"] [data-block-id][data-state="${state}"]`).count();
}

// Resolves once every running CSS animation has finished (before screenshots).
export async function settleAnimations(page) {
  await page.evaluate(() =>
    Promise.all(
      document
        .getAnimations()
        .filter((a) => a.effect?.getComputedTiming().endTime !== Infinity)
        .map((a) => a.finished.catch(() => null)),
    ),
  );
}

export async function apiCompare(baseUrl, params) {
  const r = await fetch(`${baseUrl}/compare/memory?${new URLSearchParams(params)}`);
  if (!r.ok) throw new Error(`GET /compare/memory -> HTTP ${r.status}: ${await r.text()}`);
  return r.json();
}

export function screenshotPath(name) {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  return path.join(SCREENSHOT_DIR, name);
}

export const fmtMiB = (mib) => `${mib.toFixed(2)} MiB`;
export const fmtPercent = (p) => `${p.toFixed(2)} %`;
