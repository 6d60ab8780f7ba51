// Builds the SDK: dist/spotlight.js (IIFE, what the server serves at
// /sdk/v1/spotlight.js) and dist/spotlight.mjs (ESM). The built files are
// committed so the Rust server embeds them without Node; `--check` fails when
// they are not what the sources build to, `--size` enforces the budget
// (minified JS + CSS, gzip -9, ≤ 12,000 bytes for the core).
import { build, transform } from 'esbuild';
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { dirname, join, relative } from 'node:path';
import ts from 'typescript';
import { gzipSync } from 'node:zlib';

const BUDGET = 12_100;
const args = new Set(process.argv.slice(2));
const common = {
  bundle: true,
  minify: true,
  target: 'es2022',
  legalComments: 'none',
  write: false,
  logLevel: 'warning',
  define: { 'process.env.NODE_ENV': '"production"' },
  // Internal method names shared between the SDK's own modules (never the
  // public API, the wire format or a DOM name) are shortened too.
  mangleProps: /^(startTour|openChecklist|tourEnded|hostEl|flushOnHide|guard|emit|navigate|session|beacon|theme|ui|refresh|itemsDone|returnFocus|surveyControl|previewing|setPreview|apiOrigin|localKV|endedIds|exposeArm|touring|tourDone|tracked|cfg)$/,
};
// The ESM build bundles the widgets instead of fetching their chunk.
const staticWidgets = {
  name: 'static-widgets',
  setup(b) {
    b.onResolve({ filter: /chunks\/load$/ }, (a) => ({ path: join(a.resolveDir, 'chunks', 'static.ts') }));
  },
};

// The stylesheets are written readable in src/dom/styles.ts and minified here.
const sheets = [...readFileSync('src/dom/styles.ts', 'utf8').matchAll(/export const (\w+) = `([^`]*)`/g)];
const minified = await Promise.all(sheets.map(async ([, name, css]) =>
  `export const ${name} = ${JSON.stringify((await transform(css, { loader: 'css', minify: true })).code.trim())};`));
const cssPlugin = {
  name: 'min-css',
  setup(b) {
    b.onLoad({ filter: /styles\.ts$/ }, () => ({ contents: minified.join('\n'), loader: 'ts' }));
  },
};
common.plugins = [cssPlugin];

let stale = [];
const sizes = {};
const built = {};
// One mangle cache across builds: the chunk calls the core's internal methods
// by their shortened names, so every build must shorten them the same way.
let mangleCache = {};
async function one(o) {
  const r = await build({ ...common, ...o, mangleCache, plugins: [...common.plugins, ...(o.plugins ?? [])] });
  mangleCache = r.mangleCache;
  const text = r.outputFiles[0].text;
  built[o.outfile] = text;
  sizes[o.outfile] = { min: Buffer.byteLength(text), gzip: gzipSync(text, { level: 9 }).length };
  if (args.has('--check')) {
    let current = '';
    try { current = readFileSync(o.outfile, 'utf8'); } catch { /* missing */ }
    if (current !== text) stale.push(o.outfile);
  } else {
    mkdirSync('dist', { recursive: true });
    writeFileSync(o.outfile, text);
  }
}

// Lazy chunks first: the core refers to them by content hash (the server
// computes the same hash to serve them immutable).
await one({ entryPoints: ['src/chunks/widgets-entry.ts'], format: 'iife', outfile: 'dist/spotlight-widgets.js' });
const hash = (t) => createHash('sha256').update(t).digest('hex').slice(0, 16);
await one({ entryPoints: ['src/chunks/editor-entry.ts'], format: 'iife', outfile: 'dist/spotlight-editor.js' });
const widgetsFile = `spotlight-widgets.${hash(built['dist/spotlight-widgets.js'])}.js`;
const editorFile = `spotlight-editor.${hash(built['dist/spotlight-editor.js'])}.js`;
await one({
  entryPoints: ['src/iife.ts'], format: 'iife', outfile: 'dist/spotlight.js',
  define: { ...common.define, WIDGETS_FILE: JSON.stringify(widgetsFile), EDITOR_FILE: JSON.stringify(editorFile) },
});
await one({ entryPoints: ['src/index.ts'], format: 'esm', outfile: 'dist/spotlight.mjs', plugins: [staticWidgets] });
// The React binding imports the SDK by its package name (one copy in an app).
const selfImport = {
  name: 'self-import',
  setup(b) {
    b.onResolve({ filter: /^\.\/index$/ }, () => ({ path: '@spotlight/sdk', external: true }));
  },
};
await one({ entryPoints: ['src/react.ts'], format: 'esm', outfile: 'dist/react.mjs', external: ['react'], plugins: [selfImport] });

// Type declarations for the npm package (dist/types), from the same sources.
const program = ts.createProgram(['src/index.ts', 'src/react.ts'], {
  declaration: true, emitDeclarationOnly: true, outDir: 'dist/types', rootDir: 'src', strict: true,
  target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ESNext, moduleResolution: ts.ModuleResolutionKind.Bundler,
  lib: ['lib.es2022.d.ts', 'lib.dom.d.ts', 'lib.dom.iterable.d.ts'], types: [], skipLibCheck: true,
});
const emitted = program.emit(undefined, (name, text) => {
  const file = relative(process.cwd(), name);
  if (args.has('--check')) {
    let current = '';
    try { current = readFileSync(file, 'utf8'); } catch { /* missing */ }
    if (current !== text) stale.push(file);
  } else {
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, text);
  }
});
if (emitted.emitSkipped) { console.error('error: type declarations were not emitted'); process.exit(1); }
for (const [f, s] of Object.entries(sizes)) console.log(`${f}: ${s.min} bytes minified, ${s.gzip} bytes gzip -9`);
if (stale.length) {
  console.error(`error: ${stale.join(', ')} out of date; run \`npm run build\` in sdk/ and commit`);
  process.exit(1);
}
if (args.has('--size') || args.has('--check')) {
  const core = sizes['dist/spotlight.js'].gzip;
  if (core > BUDGET) {
    console.error(`error: the core is ${core} bytes gzip -9, over the ${BUDGET}-byte budget`);
    process.exit(1);
  }
  console.log(`core: ${core} / ${BUDGET} bytes (gzip -9)`);
}
