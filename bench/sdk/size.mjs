// The SDK core's size beside Shepherd.js, Driver.js and Intro.js, all measured
// the same way: the package's browser entry bundled with its dependencies and
// minified by esbuild, its stylesheet minified, each gzip -9.
// Usage: cd bench/sdk && npm ci && node size.mjs
import { build, transform } from 'esbuild';
import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';

const gz = (s) => gzipSync(s, { level: 9 }).length;
const here = new URL('.', import.meta.url).pathname;
const pkg = (name) => JSON.parse(readFileSync(`${here}node_modules/${name}/package.json`, 'utf8')).version;
const file = (p) => readFileSync(`${here}node_modules/${p}`, 'utf8');

async function js(entry) {
  const r = await build({ stdin: { contents: entry, resolveDir: process.cwd() }, bundle: true, minify: true, format: 'esm', write: false, legalComments: 'none', target: 'es2022', logLevel: 'error' });
  return gz(r.outputFiles[0].text);
}
async function css(text) {
  return gz((await transform(text, { loader: 'css', minify: true })).code);
}

const rows = [];
for (const f of ['spotlight.js', 'spotlight-widgets.js', 'spotlight-editor.js']) {
  const text = readFileSync(new URL(`../../sdk/dist/${f}`, import.meta.url), 'utf8');
  rows.push([`Spotlight ${f}${f === 'spotlight.js' ? ' (core, CSS inside)' : ' (lazy)'}`, gz(text), 0]);
}
rows.push([`Shepherd.js ${pkg('shepherd.js')}`, await js("export { default } from 'shepherd.js';"), await css(file('shepherd.js/dist/css/shepherd.css'))]);
rows.push([`Driver.js ${pkg('driver.js')}`, await js("export { driver } from 'driver.js';"), await css(file('driver.js/dist/driver.css'))]);
rows.push([`Intro.js ${pkg('intro.js')}`, await js("export { default } from 'intro.js';"), await css(file('intro.js/introjs.css'))]);

console.log('| Library | JS (min, gzip -9) | CSS (min, gzip -9) | Total |');
console.log('|---|---:|---:|---:|');
for (const [name, j, c] of rows) console.log(`| ${name} | ${j.toLocaleString('en')} | ${c ? c.toLocaleString('en') : '—'} | ${(j + c).toLocaleString('en')} |`);
