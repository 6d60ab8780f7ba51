// The dashboard in Debian's Chromium against the real server (`spotlight demo`):
// keyboard-only sign-in, errors shown at the form, the tours list, sign-out,
// screenshots of every page at 1280×800 (test-results/) and axe-core checks.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { startServer, launch } from '../../sdk/e2e/harness.mjs';

const shots = new URL('../test-results/', import.meta.url).pathname;
const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
let server, browser;

before(async () => {
  mkdirSync(shots, { recursive: true });
  [server, browser] = await Promise.all([startServer(), launch()]);
});
after(async () => {
  await browser?.close();
  await server?.stop();
});

async function axe(page) {
  await page.addScriptTag({ content: axeSource }).catch(async () => {
    // The dashboard's CSP forbids inline script: evaluate the source instead.
    await page.evaluate(axeSource);
  });
  return page.evaluate(async () => (await window.axe.run(document, { resultTypes: ['violations'] })).violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`));
}

test('keyboard-only sign-in, the tours list, search and sign-out; screenshots and axe', async () => {
  const { email, password } = server.demoLogin;
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  const problems = [];
  page.on('pageerror', (e) => problems.push(e.message));
  const resp = await page.goto(`${server.base}/app/`);
  assert.match(resp.headers()['content-security-policy'], /script-src 'self'/);
  await page.getByRole('heading', { name: 'Sign in to Spotlight' }).waitFor();
  await page.screenshot({ path: `${shots}login.png` });
  assert.deepEqual(await axe(page), [], 'login page');

  // Wrong password: the error is shown at the form.
  await page.keyboard.press('Tab');
  await page.keyboard.type(email);
  await page.keyboard.press('Tab');
  await page.keyboard.type('not-the-password');
  await page.keyboard.press('Enter');
  await page.getByRole('alert').getByText('wrong e-mail or password').waitFor();
  assert.equal(await page.locator('#password').getAttribute('aria-invalid'), 'true');
  await page.screenshot({ path: `${shots}login-error.png` });

  // Keyboard only: focus the password field from the e-mail field, type, Enter.
  await page.locator('#email').focus();
  await page.keyboard.press('Tab');
  await page.keyboard.press('Control+A');
  await page.keyboard.type(password);
  await page.keyboard.press('Enter');
  await page.getByRole('heading', { name: 'Tours' }).waitFor();
  assert.equal(new URL(page.url()).pathname, '/app/tours');
  const row = page.getByRole('row', { name: /Welcome to Acme/ });
  await row.waitFor();
  assert.match(await row.textContent(), /published/);
  assert.match(await row.textContent(), /v1/);
  await page.screenshot({ path: `${shots}tours.png` });
  assert.deepEqual(await axe(page), [], 'tours page');

  await page.getByRole('searchbox', { name: 'Search tours' }).fill('feedback');
  await page.getByRole('row', { name: /Reports feedback/ }).waitFor();
  await page.waitForFunction(() => !document.body.textContent.includes('Welcome to Acme'));

  // A reload keeps the session; sign-out ends it.
  await page.reload();
  await page.getByRole('heading', { name: 'Tours' }).waitFor();
  await page.getByRole('button', { name: 'Log out' }).click();
  await page.getByRole('heading', { name: 'Sign in to Spotlight' }).waitFor();
  assert.equal((await page.request.get(`${server.base}/v1/auth/me`)).status(), 401);
  assert.deepEqual(problems, []);
  await page.close();
});
