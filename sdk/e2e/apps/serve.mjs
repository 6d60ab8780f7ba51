// Builds and serves the host apps in e2e/apps/ the way their teams would ship
// them: React (react-router) and Vue (vue-router) bundled with esbuild (lazy
// routes as split chunks), and a plain multi-page site. Each app gets its own
// origin and an SPA fallback (every path answers with the app's page); the
// Spotlight server and key are filled in per test, as an app reads its
// environment's configuration.
import { build } from 'esbuild';
import { createServer } from 'node:http';
import { readFileSync, existsSync } from 'node:fs';
import { dirname, join, extname } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const sdkDir = join(here, '..', '..');

/** Resolves `@spotlight/sdk[/sub]` through the package's own `exports` map, as npm would. */
const spotlightPackage = {
  name: 'spotlight-package',
  setup(b) {
    const pkg = JSON.parse(readFileSync(join(sdkDir, 'package.json'), 'utf8'));
    b.onResolve({ filter: /^@spotlight\/sdk(\/.*)?$/ }, (a) => {
      const sub = `.${a.path.slice('@spotlight/sdk'.length)}`;
      const entry = pkg.exports[sub];
      const file = typeof entry === 'string' ? entry : entry?.import;
      if (!file) return { errors: [{ text: `@spotlight/sdk does not export ${sub}` }] };
      return { path: join(sdkDir, file) };
    });
  },
};

const TYPES = { '.js': 'text/javascript', '.css': 'text/css', '.html': 'text/html; charset=utf-8', '.map': 'application/json' };

async function bundle(name) {
  const common = {
    bundle: true, format: 'esm', splitting: true, write: false, outdir: '/assets', minify: !process.env.DEBUG_APPS,
    target: 'es2022', logLevel: 'warning', nodePaths: [join(sdkDir, 'node_modules')],
    define: { 'process.env.NODE_ENV': '"production"', __VUE_OPTIONS_API__: 'true', __VUE_PROD_DEVTOOLS__: 'false', __VUE_PROD_HYDRATION_MISMATCH_DETAILS__: 'false' },
    plugins: [spotlightPackage],
  };
  const r = name === 'react'
    ? await build({ ...common, entryPoints: { main: join(here, 'react', 'main.jsx') }, jsx: 'automatic' })
    : await build({ ...common, entryPoints: { main: join(here, 'vue', 'main.js') }, alias: { vue: 'vue/dist/vue.esm-bundler.js' } });
  const files = new Map();
  for (const f of r.outputFiles) files.set(f.path.slice(f.path.indexOf('/assets/')), f.text);
  // Both Pipeline apps share one look.
  files.set('/assets/app.css', readFileSync(join(here, 'pipeline.css'), 'utf8'));
  return files;
}

const ERRORS = `<script>window.__errors=[];addEventListener('error',function(e){__errors.push(String(e.message))});addEventListener('unhandledrejection',function(e){__errors.push('rejection: '+String(e.reason))});</script>`;

function page(name, cfg) {
  const head = `<meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>Pipeline</title>${ERRORS}<link rel="stylesheet" href="/assets/app.css">`;
  if (name === 'react') {
    return `<!doctype html><html lang="en"><head>${head}<script>window.APP_CONFIG=${JSON.stringify(cfg)}</script>
<script type="module" src="/assets/main.js"></script></head><body><div id="root"></div></body></html>`;
  }
  // docs/sdk.md: the loader snippet (a queued identify of the signed-in user) and the script tag with data-key.
  return `<!doctype html><html lang="en"><head>${head}
<script>window.spotlight={q:[]};['init','identify','track','start','stop','reset','on'].forEach(function(m){spotlight[m]=function(){spotlight.q.push([m,arguments])}});
spotlight.identify('vue-user-1', { plan: 'pro' });</script>
<script src="${cfg.api}/sdk/v1/spotlight.js" data-key="${cfg.key}" data-debug async></script>
<script type="module" src="/assets/main.js"></script></head><body><div id="app"></div></body></html>`;
}

/** Starts one app (`react`, `vue` or `plain`); `app.configure({ api, key })` before pages are loaded. */
export async function startApp(name) {
  const files = name === 'plain' ? null : await bundle(name);
  let cfg = { api: '', key: '' };
  const server = createServer((req, res) => {
    const path = new URL(req.url, 'http://x').pathname;
    let body;
    let type = TYPES['.html'];
    if (files?.has(path)) {
      body = files.get(path);
      type = TYPES[extname(path)] ?? 'application/octet-stream';
    } else if (name === 'plain') {
      const file = join(here, 'plain', path.endsWith('/') ? `${path}index.html` : extname(path) ? path : `${path}.html`);
      if (!file.startsWith(join(here, 'plain')) || !existsSync(file)) { res.writeHead(404); res.end('not found'); return; }
      body = readFileSync(file, 'utf8').replaceAll('{{API}}', cfg.api).replaceAll('{{KEY}}', cfg.key).replace('<head>', `<head>${ERRORS}`);
      type = TYPES[extname(file)] ?? type;
    } else {
      body = page(name, cfg); // the SPA fallback
    }
    res.writeHead(200, { 'content-type': type, 'cache-control': 'no-store' });
    res.end(body);
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const origin = `http://127.0.0.1:${server.address().port}`;
  return {
    origin,
    configure(c) { cfg = c; },
    stop: () => new Promise((r) => { server.closeAllConnections?.(); server.close(r); }),
  };
}
