// `spotlight demo` serves /demo/: a host app with several pages and SPA
// navigation where the demo tour, an announcement, a checklist and a survey run
// — under the page's strict CSP, with no errors.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launch, startAll, sl } from './harness.mjs';

let server, browser;

before(async () => {
  [server, browser] = await startAll([startServer(), launch()]);
});
after(async () => {
  await browser?.close();
  await server?.stop();
});

test('the demo app runs its tour, announcement, checklist and survey', async () => {
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  const problems = [];
  page.on('pageerror', (e) => problems.push(e.message));
  page.on('console', (m) => {
    if (m.type() === 'error' && !/favicon|Failed to load resource: the server responded with a status of 404/.test(m.text())) problems.push(m.text());
  });
  const csp = (await page.goto(`${server.base}/demo/`)).headers()['content-security-policy'];
  assert.match(csp, /script-src 'self'/);
  assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
  const card = sl(page).locator('.card');
  await card.getByText('Welcome to Acme Projects').waitFor();
  await sl(page).locator('.ban').getByText('Spotlight demo').waitFor();
  await sl(page).locator('.cl').getByRole('button', { name: /Get started/ }).waitFor();
  await sl(page).locator('.lb').waitFor();
  for (const title of ['Start here', 'Reports', 'Find anything']) {
    await page.keyboard.press('ArrowRight');
    await card.getByText(title, { exact: true }).waitFor();
  }
  await sl(page).getByRole('button', { name: 'Done', exact: true }).click();
  await card.waitFor({ state: 'detached' });
  // SPA navigation to Reports: the survey tour runs there; the checklist item ticks.
  await page.locator('#nav-reports').click();
  await page.waitForURL('**/demo/reports');
  await card.getByText('How likely are you to recommend Acme reports to a colleague?').waitFor();
  await card.getByRole('button', { name: '10 out of 10' }).click();
  await card.getByRole('textbox').fill('Weekly email');
  await card.getByRole('button', { name: 'Submit' }).click();
  await card.waitFor({ state: 'detached' });
  const head = sl(page).locator('.cl').getByRole('button', { name: /Get started/ });
  assert.match(await head.textContent(), /2\/3/);
  assert.deepEqual(problems, []);
  await page.close();
});
