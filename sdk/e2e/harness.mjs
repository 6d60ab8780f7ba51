// End-to-end harness: the real `spotlight` binary (started with `demo` on a
// fresh SQLite data directory and a random port), a tenant made through the
// operator API, host pages served by a small Node server on another origin, and
// Debian's Chromium driven by playwright-core.
import { spawn } from 'node:child_process';
import { createServer } from 'node:http';
import { mkdtempSync, rmSync, existsSync, readFileSync, appendFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = dirname(fileURLToPath(import.meta.url));
export const repo = join(here, '..', '..');

function binary() {
  if (process.env.SPOTLIGHT_BIN) return process.env.SPOTLIGHT_BIN;
  const target = process.env.CARGO_TARGET_DIR || join(repo, 'target');
  const bin = join(target, 'debug', 'spotlight');
  if (!existsSync(bin)) throw new Error(`no spotlight binary at ${bin}: run cargo build -p spotlight-cli (or set SPOTLIGHT_BIN)`);
  return bin;
}

/** Starts `spotlight demo`; resolves once it printed where it listens. */
export async function startServer(extraEnv = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'spotlight-e2e-'));
  // SPOTLIGHT_E2E_LOGS=DIR keeps every server's log (at info: one line per
  // request) and the secrets it handed out, for scripts/log-secrets to scan.
  const logs = process.env.SPOTLIGHT_E2E_LOGS;
  const child = spawn(binary(), ['demo', '--listen', '127.0.0.1:0', '--data-dir', dir], {
    env: { ...process.env, SPOTLIGHT_LOG: logs ? 'info' : 'warn', SPOTLIGHT_LOG_FORMAT: 'json', ...extraEnv },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  const logFile = logs ? join(logs, `server-${process.pid}-${child.pid}.log`) : null;
  child.stderr.on('data', (d) => { err += d; if (logFile) appendFileSync(logFile, d); });
  const base = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`spotlight did not start:\n${out}\n${err}`)), 60_000);
    child.stdout.on('data', (d) => {
      out += d;
      const m = out.match(/running at (http:\/\/[\d.:]+)/);
      if (m && out.includes('operator token')) { clearTimeout(timer); resolve(m[1]); }
    });
    child.on('exit', (code) => reject(new Error(`spotlight exited with ${code}:\n${out}\n${err}`)));
  });
  const operator = out.match(/operator token:\s+(\S+)/)[1];
  const login = out.match(/login:\s+(\S+) \/ (\S+)/);
  if (logs) {
    const handed = [operator, login?.[2], ...out.matchAll(/\b(?:pk|sk)_[A-Za-z0-9_-]{20,}/g)].map((m) => (Array.isArray(m) ? m[0] : m));
    appendFileSync(join(logs, 'secrets.txt'), handed.filter(Boolean).join('\n') + '\n');
  }
  return {
    base,
    operator,
    /** The demo tenant's owner, as `spotlight demo` printed it. */
    demoLogin: login ? { email: login[1], password: login[2] } : null,
    /** The demo tenant's production publishable key. */
    demoKey: out.match(/publishable key:\s+(\S+)/)?.[1],
    stderr: () => err,
    async stop() {
      child.kill('SIGTERM');
      await new Promise((r) => { child.once('exit', r); setTimeout(r, 5000); });
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function call(base, method, path, token, body) {
  const r = await fetch(base + path, {
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await r.text();
  if (!r.ok) throw new Error(`${method} ${path}: ${r.status} ${text}`);
  return text ? JSON.parse(text) : null;
}

/** A fresh tenant allowed on `origins`, with an admin helper on its production environment. */
export async function createTenant(server, origins) {
  const t = await call(server.base, 'POST', '/v1/operator/tenants', server.operator, {
    name: `e2e-${Math.random().toString(36).slice(2, 10)}`,
    allowed_origins: origins,
  });
  const env = t.environments.production;
  const sk = env.secret_key;
  if (process.env.SPOTLIGHT_E2E_LOGS) {
    const keys = Object.values(t.environments).flatMap((e) => [e.publishable_key, e.secret_key]);
    appendFileSync(join(process.env.SPOTLIGHT_E2E_LOGS, 'secrets.txt'), keys.join('\n') + '\n');
  }
  const admin = {
    pk: env.publishable_key,
    sk,
    send: (method, path, body) => call(server.base, method, path, sk, body),
    async publish(collection, doc) {
      const o = await admin.send('POST', `/v1/admin/${collection}`, doc);
      await admin.send('POST', `/v1/admin/${collection}/${o.id}/publish`, { environment: 'production' });
      return o.id;
    },
    settings: (patch) => admin.send('PATCH', '/v1/admin/settings', patch),
    user: (id) => admin.send('GET', `/v1/admin/users/${encodeURIComponent(id)}`),
  };
  return admin;
}

/** Serves host pages: `pages.set('/path', html)`; optional per-page headers. */
export async function startHost() {
  const pages = new Map();
  const server = createServer((req, res) => {
    const path = new URL(req.url, 'http://x').pathname;
    const page = pages.get(path) ?? pages.get('*');
    if (!page) { res.writeHead(404); res.end('not found'); return; }
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', ...(page.headers ?? {}) });
    res.end(page.html);
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const origin = `http://127.0.0.1:${server.address().port}`;
  return {
    origin,
    page(path, html, headers) { pages.set(path, { html, headers }); return origin + path; },
    stop: () => new Promise((r) => server.close(r)),
  };
}

/** A host page that loads the SDK by script tag and calls init. */
export function hostPage({ api, key, userId, body = '', head = '', init = {}, script = '' }) {
  const opts = JSON.stringify({ key, userId, debug: true, ...init });
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Host</title>${head}
<script>window.__errors=[];window.addEventListener('error',function(e){window.__errors.push(String(e.message))});window.addEventListener('unhandledrejection',function(e){window.__errors.push('rejection: '+String(e.reason))});
window.spotlight={q:[]};['init','identify','track','start','stop','reset','on'].forEach(function(m){window.spotlight[m]=function(){window.spotlight.q.push([m,arguments])}});
spotlight.init(${opts});${script}</script>
<script async src="${api}/sdk/v1/spotlight.js"></script></head><body>${body}</body></html>`;
}

export async function launch() {
  const executablePath = process.env.CHROMIUM || '/usr/bin/chromium';
  if (!existsSync(executablePath)) throw new Error(`no Chromium at ${executablePath}: apt-get install chromium (or set CHROMIUM)`);
  return chromium.launch({
    executablePath,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
      '--no-first-run', '--disable-quic', '--disable-sync'],
  });
}

/**
 * Awaits the parts a suite needs (server, host, browser), started at once; if
 * one fails, the others are stopped before the error is thrown, so a failed
 * start leaves no process keeping the test run alive.
 */
export async function startAll(parts) {
  const settled = await Promise.allSettled(parts);
  const failed = settled.find((s) => s.status === 'rejected');
  if (!failed) return settled.map((s) => s.value);
  await Promise.allSettled(settled.filter((s) => s.status === 'fulfilled').map((s) => (s.value.stop ? s.value.stop() : s.value.close())));
  throw failed.reason;
}

/** Polls `fn` until it returns a truthy value, or fails after `ms`. */
export async function eventually(fn, ms = 10_000, what = 'condition') {
  const end = Date.now() + ms;
  let last;
  for (;;) {
    try {
      last = await fn();
      if (last) return last;
    } catch (e) { last = e; }
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}; last: ${last instanceof Error ? last.message : JSON.stringify(last)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The SDK's shadow root content, for locators: `sl(page).locator('.card')`. */
export function sl(page) {
  return page.locator('spotlight-root');
}

export const xssCorpus = () => readFileSync(join(repo, 'testdata', 'xss-corpus.txt'), 'utf8')
  .split('\n').filter((l) => l.trim() && !l.startsWith('# '));
