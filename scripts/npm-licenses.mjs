// Every package in the npm lock files against deny.toml's allow list (the one
// cargo-deny applies to the Rust crates). SPDX expressions: OR needs one
// allowed licence, AND needs all of them. Benchmarks install the libraries
// they measure Spotlight against; those are named below, never shipped.
import { readFileSync } from 'node:fs';

const allow = new Set([...readFileSync('deny.toml', 'utf8').match(/allow = \[([^\]]*)\]/)[1].matchAll(/"([^"]+)"/g)].map((m) => m[1]));
const measuredOnly = { 'bench/sdk': new Set(['shepherd.js', 'intro.js']) }; // AGPL-3.0: compared against, not distributed

const ok = (expr) => {
  const e = expr.replace(/[()]/g, ' ').trim();
  if (/\sAND\s/.test(e)) return e.split(/\s+(?:AND|OR)\s+/).every((l) => allow.has(l.trim()));
  return e.split(/\s+OR\s+/).some((l) => allow.has(l.trim()));
};

let bad = 0;
let count = 0;
for (const dir of ['sdk', 'dashboard', 'bench/sdk', 'crates/spotlight-server/tests/oidc']) {
  const lock = JSON.parse(readFileSync(`${dir}/package-lock.json`, 'utf8'));
  for (const [path, p] of Object.entries(lock.packages)) {
    if (!path) continue;
    count++;
    const name = path.slice(path.lastIndexOf('node_modules/') + 'node_modules/'.length);
    if (measuredOnly[dir]?.has(name)) continue;
    const license = typeof p.license === 'string' ? p.license : '';
    if (!license || !ok(license)) {
      console.error(`${dir}: ${name}@${p.version}: licence ${license || 'not declared'} is not allowed`);
      bad++;
    }
  }
}
if (bad) process.exit(1);
console.log(`npm licences: ${count} packages in 4 lock files, all allowed`);
