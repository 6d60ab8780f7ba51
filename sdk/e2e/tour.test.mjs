// Tours in real Chromium against the real server: steps render in the shadow
// root, follow their targets, answer the keyboard, report events that the server
// stores, skip missing targets, and never throw into the page.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, startHost, createTenant, hostPage, launch, startAll, eventually, sl } from './harness.mjs';

let server, host, browser;

before(async () => {
  [server, host, browser] = await startAll([startServer(), startHost(), launch()]);
});
after(async () => {
  await browser?.close();
  await host?.stop();
  await server?.stop();
});

const APP = `<header style="position:sticky;top:0;background:#eee"><button id="new">New project</button></header>
<main style="height:3000px"><div style="margin-top:1800px"><button data-testid="export" class="btn">Export</button></div></main>`;

test('a three-step tour: tooltip, highlight after scrolling, modal; keyboard; events stored', async () => {
  const admin = await createTenant(server, [host.origin]);
  const tourId = await admin.publish('tours', {
    name: 'Welcome',
    steps: [
      { kind: 'tooltip', title: 'Create', body: '<p>Start <b>here</b></p>', target: { selectors: ['#new'] } },
      { kind: 'highlight', title: 'Export', body: '<p>Get your data out</p>', target: { selectors: ['.gone', '[data-testid="export"]'] } },
      { kind: 'modal', title: 'All set', body: '<p>That is all.</p>' },
    ],
  });
  const body = `${APP}<script>document.getElementById('new').focus()</script>`;
  const url = host.page('/tour1', hostPage({ api: server.base, key: admin.pk, userId: 'u-tour-1', body }));
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  await page.goto(url);
  const card = sl(page).locator('.card');
  await card.getByText('Create').waitFor();
  assert.equal(await card.getAttribute('role'), 'dialog');
  assert.match(await card.innerHTML(), /<b>here<\/b>/);
  // Placed beside the target, inside the viewport.
  const [t, c] = [await page.locator('#new').boundingBox(), await card.boundingBox()];
  assert.ok(c.y >= t.y + t.height, `the tooltip is below its target (${c.y} vs ${t.y + t.height})`);
  assert.ok(c.x >= 0 && c.x + c.width <= 1280);
  // Focus moved into the step.
  assert.equal(await page.evaluate(() => document.activeElement?.tagName), 'SPOTLIGHT-ROOT');

  await page.keyboard.press('ArrowRight');
  await card.getByText('Export').waitFor();
  // The target was scrolled into view and the overlay has a hole around it.
  await eventually(async () => {
    const exp = await page.locator('[data-testid="export"]').boundingBox();
    return exp.y > 0 && exp.y + exp.height < 800;
  }, 5000, 'the export button to be scrolled into view');
  const d = await sl(page).locator('svg.ov path').getAttribute('d');
  assert.equal((d.match(/M/g) || []).length, 2, 'outer rect plus one hole');
  assert.equal(await sl(page).locator('svg.ov path').getAttribute('fill-rule'), 'evenodd');
  // The highlighted element keeps its own z-index (no lifting).
  assert.equal(await page.locator('[data-testid="export"]').evaluate((e) => getComputedStyle(e).zIndex), 'auto');

  await page.keyboard.press('ArrowLeft');
  await card.getByText('Create').waitFor();
  await sl(page).getByRole('button', { name: 'Next' }).click();
  await sl(page).getByRole('button', { name: 'Next' }).click();
  await card.getByText('All set').waitFor();
  assert.equal(await card.getAttribute('aria-modal'), 'true');
  await sl(page).getByRole('button', { name: 'Done' }).click();
  await card.waitFor({ state: 'detached' });
  // Focus went back where it was.
  assert.equal(await page.evaluate(() => document.activeElement?.id), 'new');

  const user = await eventually(async () => {
    const u = await admin.user('u-tour-1');
    return u.progress[tourId]?.completed && u;
  }, 15_000, 'the completion to reach the server');
  assert.equal(user.event_counts.tour_completed, 1);
  assert.ok(user.event_counts.step_viewed >= 3);
  assert.deepEqual(await page.evaluate(() => window.__errors), []);
  // Once: the next visit shows nothing.
  await page.reload();
  await page.waitForFunction(() => window.spotlight && !Array.isArray(window.spotlight.q));
  await page.waitForTimeout(500);
  assert.equal(await card.count(), 0);
  await page.close();
});

test('Esc dismisses; a missing target is skipped and reported; nothing reaches window.onerror', async () => {
  const admin = await createTenant(server, [host.origin]);
  const tourId = await admin.publish('tours', {
    name: 'Skips',
    steps: [
      { kind: 'tooltip', title: 'Nowhere', body: 'x', target: { selectors: ['#does-not-exist', 'div[broken=='] }, wait_for_target_ms: 300 },
      { kind: 'tooltip', title: 'Here', body: 'y', target: { selectors: ['#new'] } },
      { kind: 'tooltip', title: 'Never', body: 'z', target: { selectors: ['#new'] } },
    ],
    pages: [{ match: 'exact', pattern: '/skip' }],
  });
  const script = "window.__skipped=[];spotlight.on('step_skipped',function(d){window.__skipped.push(d)});";
  const url = host.page('/skip', hostPage({ api: server.base, key: admin.pk, userId: 'u-skip', body: APP, script }));
  const page = await browser.newPage();
  await page.goto(url);
  await sl(page).locator('.card').getByText('Here').waitFor();
  assert.deepEqual(await page.evaluate(() => window.__skipped), [{ tourId, step: 0, reason: 'target_not_found' }]);
  await page.keyboard.press('Escape');
  await sl(page).locator('.card').waitFor({ state: 'detached' });
  const user = await eventually(async () => {
    const u = await admin.user('u-skip');
    return u.progress[tourId]?.dismissed && u;
  }, 15_000, 'the dismissal to reach the server');
  assert.equal(user.event_counts['spotlight:step_skipped'], 1);
  assert.deepEqual(await page.evaluate(() => window.__errors), []);
  await page.close();
});

test('hotspot beacons open their step; the target is clickable only when the step says so; reduced motion stops the pulse', async () => {
  const admin = await createTenant(server, [host.origin]);
  await admin.publish('tours', {
    name: 'Kinds',
    steps: [
      { kind: 'hotspot', title: 'Beacon tip', body: 'x', target: { selectors: ['#new'] } },
      { kind: 'highlight', title: 'Blocked', body: 'x', target: { selectors: ['#new'] }, interactive: false },
      { kind: 'highlight', title: 'Clickable', body: 'x', target: { selectors: ['#new'] }, interactive: true },
    ],
  });
  await admin.publish('content', { name: 'Modal news', type: 'modal', title: 'Big news', body: '<p>Read me</p>', frequency: { type: 'every_session' }, trigger: { type: 'event', event: 'show_news' } });
  const url = host.page('/kinds', hostPage({ api: server.base, key: admin.pk, userId: 'u-kinds', body: `${APP}<script>window.__clicks=0;document.getElementById('new').addEventListener('click',function(){window.__clicks++})</script>` }));
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  await page.emulateMedia({ reducedMotion: 'reduce' });
  await page.goto(url);
  const beacon = sl(page).locator('.hs');
  await beacon.waitFor();
  assert.equal(await beacon.evaluate((b) => getComputedStyle(b).animationName), 'none', 'no pulse with reduced motion');
  assert.equal(await sl(page).locator('.card').count(), 0, 'the text waits for the beacon');
  await beacon.click();
  await sl(page).locator('.card').getByText('Beacon tip').waitFor();
  await sl(page).getByRole('button', { name: 'Next' }).click();
  await sl(page).locator('.card').getByText('Blocked').waitFor();
  await page.mouse.click(...(await center(page.locator('#new'))));
  assert.equal(await page.evaluate(() => window.__clicks), 0, 'a non-interactive step blocks the target');
  await sl(page).getByRole('button', { name: 'Next' }).click();
  await sl(page).locator('.card').getByText('Clickable').waitFor();
  await page.mouse.click(...(await center(page.locator('#new'))));
  assert.equal(await page.evaluate(() => window.__clicks), 1, 'an interactive step lets the click through');
  await sl(page).getByRole('button', { name: 'Done' }).click();
  // An announcement modal, started by a tracked event.
  await page.evaluate(() => window.spotlight.track('show_news'));
  const modal = sl(page).locator('.card.modal');
  await modal.getByText('Big news').waitFor();
  assert.equal(await modal.getAttribute('aria-modal'), 'true');
  await page.keyboard.press('Escape');
  await modal.waitFor({ state: 'detached' });
  assert.deepEqual(await page.evaluate(() => window.__errors), []);
  await page.close();
});

async function center(locator) {
  const b = await locator.boundingBox();
  return [b.x + b.width / 2, b.y + b.height / 2];
}
