// Builds the dashboard into dist/app.js and dist/app.css (committed, embedded
// by the server, which serves them under content-hashed names from /app/).
// `--check` fails when dist/ is not what the sources build to.
import { build } from 'esbuild';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';

const check = process.argv.includes('--check');
const r = await build({
  entryPoints: { app: 'src/main.tsx' },
  bundle: true,
  minify: true,
  format: 'iife',
  target: 'es2022',
  jsx: 'automatic',
  jsxImportSource: 'preact',
  outdir: 'dist',
  write: false,
  legalComments: 'none',
  logLevel: 'warning',
  loader: { '.css': 'css' },
});
const outputs = Object.fromEntries(r.outputFiles.map((f) => [f.path.split('/').pop(), f.text]));
outputs['app.css'] = (await build({ entryPoints: ['src/styles.css'], bundle: true, minify: true, write: false, logLevel: 'warning' })).outputFiles[0].text;
const stale = [];
for (const [name, text] of Object.entries(outputs)) {
  const path = `dist/${name}`;
  console.log(`${path}: ${Buffer.byteLength(text)} bytes, ${gzipSync(text, { level: 9 }).length} gzip -9`);
  if (check) {
    let current = '';
    try { current = readFileSync(path, 'utf8'); } catch { /* missing */ }
    if (current !== text) stale.push(path);
  } else {
    mkdirSync('dist', { recursive: true });
    writeFileSync(path, text);
  }
}
if (stale.length) {
  console.error(`error: ${stale.join(', ')} out of date; run \`npm run build\` in dashboard/ and commit`);
  process.exit(1);
}
