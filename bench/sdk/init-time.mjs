// Time from `spotlight.init()` to the first step on screen, in Debian's
// Chromium, with a warm cache (the script from the browser cache, the config
// revalidated by ETag), against a release build of the server.
// Usage: cd bench/sdk && npm ci && node init-time.mjs [runs, default 30]
import { createServer } from 'node:http';
import { chromium } from 'playwright-core';
import { startRelease } from './server.mjs';

const runs = Number(process.argv[2] ?? 30);
const server = await startRelease();
const { api, operator } = server;

const host = createServer((req, res) => { res.writeHead(200, { 'content-type': 'text/html' }); res.end(page); });
await new Promise((r) => host.listen(0, '127.0.0.1', r));
const origin = `http://127.0.0.1:${host.address().port}`;
const call = async (path, token, body) => (await fetch(api + path, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(body) })).json();
const t = await call('/v1/operator/tenants', operator, { name: 'bench', allowed_origins: [origin] });
const { publishable_key: pk, secret_key: sk } = t.environments.production;
const tour = await call('/v1/admin/tours', sk, { name: 'Bench', frequency: { type: 'every_session' }, steps: [{ kind: 'tooltip', title: 'Hello', body: '<p>First step</p>', target: { selectors: ['#go'] } }] });
await call(`/v1/admin/tours/${tour.id}/publish`, sk, { environment: 'production' });

const page = `<!doctype html><html><head><script>
window.spotlight={q:[]};['init','on'].forEach(function(m){spotlight[m]=function(){spotlight.q.push([m,arguments])}});
spotlight.on('tour_started',function(){window.__started=performance.now()});spotlight.on('step_viewed',function(){window.__drawn=performance.now();requestAnimationFrame(function(){window.__shown=performance.now()})});
window.__init=performance.now();spotlight.init({key:${JSON.stringify(pk)},userId:'bench-user'});
</script><script async src="${api}/sdk/v1/spotlight.js"></script></head><body><button id="go">Go</button></body></html>`;

const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'] });
const context = await browser.newContext();
const times = [];
const phases = [];
for (let i = -2; i < runs; i++) { // two warm-up loads fill the caches
  const p = await context.newPage();
  await p.goto(origin);
  await p.waitForFunction(() => window.__shown, null, { timeout: 10_000 });
  const [ms, parts] = await p.evaluate(() => {
    const r = performance.getEntriesByType('resource');
    const script = r.find((e) => e.name.includes('/sdk/v1/spotlight.js'));
    const config = r.find((e) => e.name.includes('/v1/sdk/config'));
    return [window.__shown - window.__init, { script: script ? script.responseEnd - window.__init : NaN, configStart: config ? config.startTime - window.__init : NaN, configEnd: config ? config.responseEnd - window.__init : NaN, drawn: window.__drawn - window.__init, started: window.__started - window.__init, fcp: (performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? NaN) - window.__init }];
  });
  if (i >= 0) { times.push(ms); phases.push(parts); }
  await p.close();
}
await browser.close();
host.close();
server.stop();
times.sort((a, b) => a - b);
const q = (f) => times[Math.min(times.length - 1, Math.floor(f * times.length))];
const med = (k) => { const v = phases.map((p) => p[k]).filter((x) => !Number.isNaN(x)).sort((a, b) => a - b); return v.length ? v[Math.floor(v.length / 2)].toFixed(1) : 'n/a'; };
console.log(`phases (median, ms after init): script loaded ${med('script')}, config asked ${med('configStart')}, config answered ${med('configEnd')}, tour started ${med('started')}, step in the DOM ${med('drawn')}, page first paint ${med('fcp')}`);
console.log(`init → first step visible, warm cache, ${runs} runs: median ${q(0.5).toFixed(1)} ms, p95 ${q(0.95).toFixed(1)} ms, min ${times[0].toFixed(1)} ms`);
