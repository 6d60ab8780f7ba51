// Admin mode: the editor chunk is loaded for in-app admins only; its element
// picker records a fingerprint that resolves back to the element, and drafts
// can be previewed. Everyone else never requests the chunk.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, startHost, createTenant, hostPage, launch, startAll, sl } from './harness.mjs';

let server, host, browser, admin, url;

before(async () => {
  [server, host, browser] = await startAll([startServer(), startHost(), launch()]);
  admin = await createTenant(server, [host.origin]);
  await admin.settings({ admin_detection: { strategy: 'table', user_ids: ['admin-1'] } });
  // A draft only: never published.
  await admin.send('POST', '/v1/admin/tours', {
    name: 'Draft tour', steps: [{ kind: 'modal', title: 'Draft preview', body: '<p>Not live yet</p>' }],
  });
  const body = `<main><section id="toolbar"><button class="btn" data-testid="share-btn" aria-label="Share this board">Share</button>
    <button class="btn">Other</button></section></main>`;
  url = (user) => host.page(`/editor-${user}`, hostPage({ api: server.base, key: admin.pk, userId: user, body,
    script: "window.__picked=[];spotlight.on('element_picked',function(d){window.__picked.push(d.target)});" }));
});
after(async () => {
  await browser?.close();
  await host?.stop();
  await server?.stop();
});

test('an in-app admin gets the editor: pick an element, preview drafts', async () => {
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  const chunks = [];
  page.on('request', (r) => { if (/spotlight-editor\./.test(r.url())) chunks.push(r.url()); });
  let shareClicks = 0;
  await page.exposeFunction('__shareClicked', () => { shareClicks++; });
  await page.goto(url('admin-1'));
  await page.evaluate(() => document.querySelector('[data-testid="share-btn"]').addEventListener('click', () => window.__shareClicked()));
  const bar = sl(page).getByRole('toolbar', { name: 'Spotlight editor' });
  await bar.waitFor();
  assert.equal(chunks.length, 1);

  await bar.getByRole('button', { name: 'Pick element' }).click();
  await page.locator('[data-testid="share-btn"]').hover();
  await page.locator('[data-testid="share-btn"]').click();
  await sl(page).getByRole('dialog', { name: 'Picked element' }).waitFor();
  const [target] = await page.evaluate(() => window.__picked);
  assert.equal(shareClicks, 0, 'the page never saw the picking click');
  assert.equal(target.text, 'Share');
  assert.ok(target.selectors.includes('[data-testid="share-btn"]'), JSON.stringify(target));
  // Every recorded selector finds the element.
  const all = await page.evaluate((sels) => sels.map((s) => document.querySelector(s)?.getAttribute('data-testid')), target.selectors);
  assert.deepEqual(all, target.selectors.map(() => 'share-btn'));
  assert.ok(target.selectors.length >= 3, 'several candidates');

  await bar.getByRole('button', { name: /Preview drafts: off/ }).click();
  await sl(page).locator('.card').getByText('Draft preview').waitFor();
  await sl(page).getByRole('toolbar', { name: 'Spotlight editor' }).getByRole('button', { name: /Preview drafts: on/ }).waitFor();
  assert.deepEqual(await page.evaluate(() => window.__errors), []);
  await page.close();
});

test('other users never request the editor chunk and see no drafts', async () => {
  const page = await browser.newPage();
  const requested = [];
  page.on('request', (r) => requested.push(r.url()));
  const config = page.waitForResponse((r) => r.url().includes('/v1/sdk/config'));
  await page.goto(url('someone'));
  assert.equal((await config).status(), 200);
  await page.waitForTimeout(500);
  assert.deepEqual(requested.filter((u) => /spotlight-editor/.test(u)), []);
  assert.equal(await sl(page).getByRole('toolbar').count(), 0);
  // Asking for a preview is ignored for non-admins. (A cross-origin caller
  // with the key header names the key in the query too, for its preflight.)
  const r = await page.evaluate(async ([api, key]) => (await fetch(`${api}/v1/sdk/config?user_id=someone&preview=true&key=${key}`, { headers: { 'x-spotlight-key': key } })).json(), [server.base, admin.pk]);
  assert.equal(r.preview, false);
  assert.equal(r.tours.length, 0);
  await page.close();
});
