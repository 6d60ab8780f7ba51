// A release build of the server for the SDK benchmarks: `spotlight demo` on a
// throw-away SQLite directory and a random port.
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const repo = new URL('../..', import.meta.url).pathname;

/**
 * Builds and starts the server (or starts `SPOTLIGHT_BIN`, a release binary
 * built earlier); resolves to its address, operator token and `stop()`.
 */
export async function startRelease() {
  let bin = process.env.SPOTLIGHT_BIN;
  if (!bin) {
    execFileSync('cargo', ['build', '--release', '--locked', '-p', 'spotlight-cli'], { cwd: repo, stdio: 'inherit' });
    bin = join(process.env.CARGO_TARGET_DIR || join(repo, 'target'), 'release', 'spotlight');
  }
  const dir = mkdtempSync(join(tmpdir(), 'spotlight-bench-'));
  const server = spawn(bin, ['demo', '--listen', '127.0.0.1:0', '--data-dir', dir], { stdio: ['ignore', 'pipe', 'ignore'], env: { ...process.env, SPOTLIGHT_LOG: 'warn' } });
  let out = '';
  const api = await new Promise((r) => server.stdout.on('data', (d) => { out += d; const m = out.match(/running at (http:\/\/[\d.:]+)/); if (m && out.includes('operator token')) r(m[1]); }));
  return {
    api,
    operator: out.match(/operator token:\s+(\S+)/)[1],
    stop() { server.kill(); rmSync(dir, { recursive: true, force: true }); },
  };
}
