// Time to first step in a real host app: navigation start → the first tour
// step visible (the animation frame it is first painted in), warm cache, in
// Debian's Chromium, against a release build of the server. The host is the
// Vue + vue-router app of sdk/e2e/apps/ installed as docs/sdk.md says (loader
// snippet with a queued `identify`, `<script … data-key>`).
//
// Two SDK builds are measured in the same run, alternating page loads: the
// working tree's `sdk/dist/` and an earlier revision's (`--before REV`,
// default the commit before issue #19's work). A small proxy serves each
// build's files under /sdk/v1/ and forwards /v1/sdk/* to the server, so both
// take the same path.
// Usage: (cd sdk && npm ci); cd bench/sdk && npm ci && node host-first-step.mjs [runs, default 30] [--before REV] [--app vue|plain]
import { execFileSync } from 'node:child_process';
import { createServer, request } from 'node:http';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { repo, startRelease } from './server.mjs';

const argv = process.argv.slice(2);
const runs = Number(argv.find((a) => /^\d+$/.test(a)) ?? 30);
const before = argv.includes('--before') ? argv[argv.indexOf('--before') + 1] : '7be722c';
// The Vue app (renders its target after its bundle runs) or the plain site (target in the HTML).
const appName = argv.includes('--app') ? argv[argv.indexOf('--app') + 1] : 'vue';
const target = appName === 'plain' ? '#start-here' : '[data-testid="new-contact"]';
const { startApp } = await import(join(repo, 'sdk/e2e/apps/serve.mjs'));
const server = await startRelease();
const { api, operator } = server;

/** An SDK build's files by the names the core asks for (chunks by content hash, as the server does). */
function build(read) {
  const files = new Map();
  const hash = (t) => createHash('sha256').update(t).digest('hex').slice(0, 16);
  for (const chunk of ['spotlight-widgets', 'spotlight-editor']) {
    const text = read(`sdk/dist/${chunk}.js`);
    files.set(`${chunk}.${hash(text)}.js`, text);
  }
  files.set('spotlight.js', read('sdk/dist/spotlight.js'));
  return files;
}
const builds = {
  before: build((f) => execFileSync('git', ['show', `${before}:${f}`], { cwd: repo, encoding: 'utf8', maxBuffer: 1 << 24 })),
  after: build((f) => readFileSync(join(repo, f), 'utf8')),
};

const upstream = new URL(api);
async function proxy(files) {
  const s = createServer((req, res) => {
    const path = new URL(req.url, 'http://x').pathname;
    if (path.startsWith('/sdk/v1/')) {
      const body = files.get(path.slice('/sdk/v1/'.length));
      if (!body) { res.writeHead(404); res.end(); return; }
      res.writeHead(200, { 'content-type': 'text/javascript', 'cache-control': 'public, max-age=300', 'access-control-allow-origin': '*' });
      res.end(body);
      return;
    }
    const up = request({ host: upstream.hostname, port: upstream.port, path: req.url, method: req.method, headers: req.headers }, (r) => {
      res.writeHead(r.statusCode, r.headers);
      r.pipe(res);
    });
    up.on('error', () => { res.writeHead(502); res.end(); });
    req.pipe(up);
  });
  await new Promise((r) => s.listen(0, '127.0.0.1', r));
  return { origin: `http://127.0.0.1:${s.address().port}`, close: () => s.close() };
}
const proxies = { before: await proxy(builds.before), after: await proxy(builds.after) };

const app = await startApp(appName);
const call = async (path, token, body) => (await fetch(api + path, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(body) })).json();
const t = await call('/v1/operator/tenants', operator, { name: 'bench', allowed_origins: [app.origin] });
const { publishable_key: pk, secret_key: sk } = t.environments.production;
const tour = await call('/v1/admin/tours', sk, {
  name: 'First step', frequency: { type: 'every_session' },
  steps: [{ kind: 'tooltip', title: 'Add your first contact', target: { selectors: [target] }, backdrop: false }],
});
await call(`/v1/admin/tours/${tour.id}/publish`, sk, { environment: 'production' });

const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-quic'] });
const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
// The first frame in which a step card is in the SDK's shadow root.
// Also when the app itself first showed the step's target (the floor for any SDK).
await context.addInitScript((target) => {
  const look = () => {
    if (!window.__target && document.querySelector(target)) window.__target = performance.now();
    const card = document.querySelector('spotlight-root')?.shadowRoot?.querySelector('.card');
    if (card) window.__shown = performance.now(); else requestAnimationFrame(look);
  };
  requestAnimationFrame(look);
}, target);
const times = { before: [], after: [] };
const requests = { before: [], after: [] };
const phases = { before: [], after: [] };
for (let i = -2; i < runs; i++) { // two warm-up rounds fill the caches
  for (const v of ['before', 'after']) {
    app.configure({ api: proxies[v].origin, key: pk });
    const p = await context.newPage();
    await p.goto(`${app.origin}/`);
    // A plain evaluate that waits in the page: Playwright's waitForFunction would
    // first inject its selector engine (~30 ms of script on this machine's main
    // thread, landing while the page and the SDK render).
    await p.evaluate(() => new Promise((done, fail) => {
      const t0 = Date.now();
      const poll = () => (window.__shown ? done() : Date.now() - t0 > 15_000 ? fail(new Error('no step in 15 s')) : setTimeout(poll, 50));
      poll();
    }));
    const [ms, n, parts] = await p.evaluate(() => {
      const r = performance.getEntriesByType('resource');
      const configs = r.filter((e) => e.name.includes('/v1/sdk/config'));
      const script = r.find((e) => e.name.includes('/sdk/v1/spotlight.js'));
      return [window.__shown, configs.length, {
        script: script ? script.responseEnd : NaN,
        config: configs.length ? configs[configs.length - 1].responseEnd : NaN,
        target: window.__target ?? NaN,
      }];
    });
    if (i >= 0) { times[v].push(ms); requests[v].push(n); phases[v].push(parts); }
    await p.close();
  }
}
await browser.close();
await app.stop();
for (const p of Object.values(proxies)) p.close();
server.stop();
const q = (a, f) => { const s = [...a].sort((x, y) => x - y); return s[Math.min(s.length - 1, Math.floor(f * s.length))]; };
for (const v of ['before', 'after']) {
  console.log(`${v.padEnd(6)} (${v === 'before' ? before : 'working tree'}): navigation → first step visible, ${runs} runs: median ${q(times[v], 0.5).toFixed(1)} ms, p95 ${q(times[v], 0.95).toFixed(1)} ms; config requests per load: median ${q(requests[v], 0.5)}`);
}
for (const v of ['before', 'after']) {
  const med = (k) => q(phases[v].map((p) => p[k]).filter((x) => !Number.isNaN(x)), 0.5)?.toFixed(1);
  console.log(`${v.padEnd(6)} phases (median, ms after navigation start): SDK script loaded ${med('script')}, last config answered ${med('config')}, the app's target in the DOM ${med('target')}`);
  // The SDK's own share: from the later of (config answered, target present) to the step's frame.
  const own = times[v].map((t, i) => t - Math.max(phases[v][i].config, phases[v][i].target)).filter((x) => !Number.isNaN(x));
  console.log(`${v.padEnd(6)} step visible after both config and target were there: median ${q(own, 0.5).toFixed(1)} ms, p95 ${q(own, 0.95).toFixed(1)} ms`);
}
console.log(`after / before (medians): ${(q(times.after, 0.5) / q(times.before, 0.5)).toFixed(2)}`);
