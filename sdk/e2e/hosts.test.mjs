// The SDK in host apps written the way app teams write them (e2e/apps/): React
// with react-router (through the React binding), Vue with vue-router (the
// documented script tag and a queued identify) and a plain multi-page site. Each
// has a sticky top bar with a huge z-index, a native modal <dialog>, a fixed help
// button, a CSS reset, lazy routes and late content. What is checked is what a
// user meets: every step is visible, on top, next to its target and clickable;
// the host's own controls stay clickable; route changes, re-renders, dialogs and
// Escape behave; one config request carries the signed-in user.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, createTenant, launch, startAll, eventually, sl } from './harness.mjs';
import { startApp } from './apps/serve.mjs';

let server, browser, react, vue, plain;

before(async () => {
  [server, browser, react, vue, plain] = await startAll([startServer(), launch(), startApp('react'), startApp('vue'), startApp('plain')]);
});
after(async () => {
  await browser?.close();
  for (const a of [react, vue, plain]) await a?.stop();
  await server?.stop();
});

/** What is on top at the centre of `box`: `sdk:<class>` for the SDK's own elements, else the host element's id/testid/text. */
async function topAt(page, box) {
  return page.evaluate(([x, y]) => {
    const e = document.elementFromPoint(x, y);
    if (!e) return null;
    if (e.tagName === 'SPOTLIGHT-ROOT') {
      const inner = e.shadowRoot.elementFromPoint(x, y);
      return `sdk:${inner?.closest('[class]')?.getAttribute('class') ?? inner?.tagName}:${inner?.textContent?.trim().slice(0, 20)}`;
    }
    const host = e.closest('[id],[data-testid],a,button');
    return host ? (host.id || host.getAttribute('data-testid') || host.textContent.trim()) : e.tagName;
  }, [box.x + box.width / 2, box.y + box.height / 2]);
}

const centre = (b) => ({ x: b.x + b.width / 2, y: b.y + b.height / 2 });
/** The gap between two boxes (0 when they touch or overlap). */
function gap(a, b) {
  const dx = Math.max(0, a.x - (b.x + b.width), b.x - (a.x + a.width));
  const dy = Math.max(0, a.y - (b.y + b.height), b.y - (a.y + a.height));
  return Math.hypot(dx, dy);
}
const overlap = (a, b) => a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;

/** A step's card: visible, inside the viewport, beside its target, and its buttons on top. */
async function assertStep(page, title, target) {
  const card = sl(page).locator('.card[role="dialog"]');
  await card.getByText(title).waitFor({ timeout: 10_000 });
  await eventually(async () => {
    // What is on screen: the visual viewport (a zoomed-out phone page shows more than 375 CSS px).
    const v = await page.evaluate(() => ({ x: visualViewport.offsetLeft, y: visualViewport.offsetTop, width: visualViewport.width, height: visualViewport.height }));
    const c = await card.boundingBox();
    const t = target ? await page.locator(target).boundingBox() : null;
    return c && c.x >= v.x - 1 && c.y >= v.y - 1 && c.x + c.width <= v.x + v.width + 1 && c.y + c.height <= v.y + v.height + 1
      && (!t || gap(c, t) <= 24);
  }, 5000, `step "${title}" inside the viewport${target ? ` and beside ${target}` : ''}`);
  for (const b of await card.getByRole('button').all()) {
    const on = await topAt(page, await b.boundingBox());
    assert.match(on ?? '', /^sdk:/, `a button of "${title}" is on top (found ${on})`);
  }
  return card;
}

/** The host's control is what a click at its centre reaches. */
async function assertHostClickable(page, selector) {
  const el = page.locator(selector).first();
  const at = centre(await el.boundingBox());
  const hit = await el.evaluate((e, [x, y]) => e.contains(document.elementFromPoint(x, y)), [at.x, at.y]);
  assert.ok(hit, `${selector} is clickable (found ${await topAt(page, await el.boundingBox())})`);
}

function configRequests(page) {
  const seen = [];
  page.on('request', (r) => { if (r.url().includes('/v1/sdk/config')) seen.push(new URL(r.url()).searchParams.get('user_id')); });
  return seen;
}

const PIPELINE_TOUR = {
  name: 'Pipeline basics',
  steps: [
    { kind: 'tooltip', title: 'Add your first contact', body: '<p>Start with one.</p>', target: { selectors: ['[data-testid="new-contact"]'] }, page_url: '/', backdrop: false },
    { kind: 'tooltip', title: 'Bring your team', target: { selectors: ['#invite'] }, page_url: '/', backdrop: false },
    { kind: 'tooltip', title: 'Contacts live here', target: { selectors: ['#add-contact'] }, page_url: '/contacts', backdrop: false },
    { kind: 'tooltip', title: 'Send the invite', target: { selectors: ['[data-testid="send-invite"]'] }, page_url: '/contacts', wait_for_target_ms: 60_000 },
    { kind: 'modal', title: 'All set', body: '<p>Done.</p>', page_url: '/contacts' },
  ],
};

async function pipelineTenant(app) {
  const admin = await createTenant(server, [app.origin]);
  app.configure({ api: server.base, key: admin.pk });
  const tour = await admin.publish('tours', PIPELINE_TOUR);
  await admin.publish('content', { name: 'Release', type: 'banner', position: 'top', title: 'Spring release', body: '<p>New reports.</p>' });
  await admin.publish('checklists', {
    name: 'Setup', title: 'Get set up',
    items: [{ id: 'invite', title: 'Invite a teammate', completed_by: { type: 'event', event: 'invite_sent' } }],
  });
  return { admin, tour };
}

/**
 * The whole walk through a Pipeline app (React or Vue). Each part checks one
 * defect of issue #19 (numbered as there); a failing part is recorded and the
 * walk goes on, so one run names every part that fails.
 */
async function walkPipeline(app, userId) {
  const { admin, tour } = await pipelineTenant(app);
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  const configs = configRequests(page);
  const failed = [];
  const part = async (name, fn) => {
    try { await fn(); } catch (e) { failed.push(`${name}: ${String(e.message).split('\n')[0]}`); }
  };
  await page.goto(`${app.origin}/`);
  await page.evaluate(() => { window.__sameDocument = true; });
  const banner = sl(page).locator('.ban');

  await part('#5 one config request, for the identified user', async () => {
    await assertStep(page, 'Add your first contact', '[data-testid="new-contact"]');
    assert.deepEqual(configs, [userId], 'one config request, already for the signed-in user');
    assert.equal(await page.evaluate(() => Object.keys(localStorage).filter((k) => k.endsWith(':anon')).length), 0, 'no throw-away anonymous id');
  });

  await part('#6 the step follows a re-mounted target', async () => {
    await page.locator('[data-testid="new-contact"]').evaluate((e) => { e.dataset.seen = '1'; });
    await eventually(() => page.locator('[data-testid="new-contact"]').evaluate((e) => !e.dataset.seen), 5000, 'the feed to re-render');
    await assertStep(page, 'Add your first contact', '[data-testid="new-contact"]');
  });

  await part('#3 banner and checklist leave the host\'s controls clickable', async () => {
    await banner.getByText('Spring release').waitFor();
    assert.ok(!overlap(await banner.boundingBox(), await page.locator('header').boundingBox()), 'the banner does not cover the top bar');
    for (const link of ['header a >> nth=0', 'header a >> nth=1', 'header a >> nth=2', '#invite']) await assertHostClickable(page, link);
    const checklist = sl(page).locator('.cl');
    await checklist.waitFor();
    await eventually(async () => !overlap(await checklist.boundingBox(), await page.locator('.help').boundingBox()), 5000, 'the checklist to clear the help button');
    await assertHostClickable(page, '.help');
  });

  await part('#1 a router link mid-step: the tour goes on at the next route\'s step, no reload', async () => {
    await sl(page).getByRole('button', { name: 'Next' }).click({ timeout: 5000 });
    await assertStep(page, 'Bring your team', '#invite');
    await page.locator('header a', { hasText: 'Contacts' }).click();
    await assertStep(page, 'Contacts live here', '#add-contact');
    assert.ok(await page.evaluate(() => window.__sameDocument), 'no reload');
  });

  await part('#6 Back hides the step and covers nothing; Forward brings it back beside its target', async () => {
    await page.goBack();
    await eventually(async () => (await sl(page).locator('.card[role="dialog"]').count()) === 0 || !(await sl(page).locator('.card[role="dialog"]').isVisible()), 3000, 'the step to hide after Back');
    assert.equal(new URL(page.url()).pathname, '/');
    await assertHostClickable(page, '[data-testid="new-contact"]');
    await assertHostClickable(page, 'header a >> nth=1');
    await page.goForward();
    await assertStep(page, 'Contacts live here', '#add-contact');
  });

  await part('#2 a step inside the host\'s modal dialog is usable with the mouse', async () => {
    await sl(page).getByRole('button', { name: 'Next' }).click({ timeout: 5000 });
    await page.locator('#invite').click({ timeout: 5000 });
    await assertStep(page, 'Send the invite', '[data-testid="send-invite"]');
    const at = centre(await sl(page).getByRole('button', { name: 'Next' }).boundingBox());
    await page.mouse.click(at.x, at.y);
    await assertStep(page, 'All set', null);
    await sl(page).getByRole('button', { name: 'Done' }).click({ timeout: 5000 });
  });

  await part('#4 Escape in the host\'s dialog is the host\'s', async () => {
    if (!(await page.locator('dialog').evaluate((d) => d.open))) await page.locator('#invite').click({ timeout: 5000 });
    await page.locator('dialog input').click({ timeout: 5000 });
    await page.keyboard.press('Escape');
    await eventually(() => page.locator('dialog').evaluate((d) => !d.open), 3000, 'the host dialog to close');
    assert.ok(await banner.isVisible(), 'the banner is still there');
  });

  await part('events: the tour completes, each step viewed once, nothing dismissed', async () => {
    const user = await eventually(async () => {
      const u = await admin.user(userId);
      return u.progress[tour]?.completed && u;
    }, 15_000, 'the tour to complete on the server');
    assert.equal(user.event_counts.step_viewed, 5, 'each step viewed once, Back and Forward included');
    assert.equal(user.event_counts.content_dismissed, undefined, 'Escape in the host dialog dismissed nothing');
    assert.deepEqual(await page.evaluate(() => window.__errors), []);
  });
  assert.deepEqual(failed, [], 'every part of the walk passes');
  return page;
}

test('React + react-router (the React binding): multi-page tour through router links, re-renders, Back/Forward, a dialog, banner and checklist', async () => {
  const page = await walkPipeline(react, 'react-user-1');
  await page.close();
});

test('Vue + vue-router (script tag, queued identify): the same walk', async () => {
  const page = await walkPipeline(vue, 'vue-user-1');
  await page.close();
});

test('a 375×667 touch screen: the step is above and clear of the widgets, tap targets ≥ 44 px', async () => {
  const { admin } = await pipelineTenant(react);
  // A step by the help button, in the corner where the checklist lives.
  await admin.publish('tours', {
    name: 'Help', priority: 10, pages: [{ match: 'exact', pattern: '/settings' }],
    steps: [{ kind: 'tooltip', title: 'Help is here', target: { selectors: ['.help'] }, placement: 'left' }, { kind: 'modal', title: 'Thanks' }],
  });
  const ctx = await browser.newContext({ viewport: { width: 375, height: 667 }, hasTouch: true, isMobile: true });
  const page = await ctx.newPage();
  await page.goto(`${react.origin}/`);
  const failed = [];
  const card = await assertStep(page, 'Add your first contact', '[data-testid="new-contact"]');
  for (const b of await card.getByRole('button').all()) {
    const box = await b.boundingBox();
    if (box.height < 44 || box.width < 44) failed.push(`tap target ${box.width}×${box.height}`);
  }
  await sl(page).getByRole('button', { name: 'Close tour' }).tap();
  await page.goto(`${react.origin}/settings`);
  try {
    // #8: the checklist (moved above the help button) would sit on the step's Next button.
    const help = await assertStep(page, 'Help is here', '.help');
    const cl = sl(page).locator('.cl');
    await cl.waitFor({ state: 'attached' });
    assert.ok(!(await cl.isVisible()) || !overlap(await cl.boundingBox(), await help.boundingBox()), 'the checklist is clear of the step');
    await sl(page).getByRole('button', { name: 'Next' }).tap();
    await assertStep(page, 'Thanks', null);
  } catch (e) { failed.push(`#8 ${String(e.message).split('\n')[0]}`); }
  assert.deepEqual(failed, []);
  assert.deepEqual(await page.evaluate(() => window.__errors), []);
  await ctx.close();
});

test('a target inside a scrolling panel: the step goes when the panel scrolls it out of sight, and comes back', async () => {
  const admin = await createTenant(server, [react.origin]);
  react.configure({ api: server.base, key: admin.pk });
  await admin.publish('tours', {
    name: 'Archive', pages: [{ match: 'exact', pattern: '/contacts' }],
    steps: [{ kind: 'tooltip', title: 'Archive old contacts', target: { selectors: ['[data-testid="archive-last"]'] }, backdrop: false }],
  });
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  await page.goto(`${react.origin}/contacts`);
  // The row is at the end of a 40-row panel: scrolled into view first.
  const card = await assertStep(page, 'Archive old contacts', '[data-testid="archive-last"]');
  const panel = page.locator('[data-testid="contact-panel"]');
  await panel.evaluate((p) => { p.scrollTop = 0; });
  await eventually(async () => !(await card.isVisible()), 3000, 'the step to hide while its target is scrolled out of the panel');
  await assertHostClickable(page, '#add-contact');
  await panel.evaluate((p) => { p.scrollTop = p.scrollHeight; });
  await assertStep(page, 'Archive old contacts', '[data-testid="archive-last"]');
  assert.deepEqual(await page.evaluate(() => window.__errors), []);
  await page.close();
});

test('plain site: a glob page rule never redirects; a step button crosses pages; right-to-left mirrors', async () => {
  const admin = await createTenant(server, [plain.origin]);
  plain.configure({ api: server.base, key: admin.pk });
  await admin.publish('tours', {
    name: 'App tour',
    pages: [{ match: 'glob', pattern: '/app/*' }],
    steps: [
      { kind: 'tooltip', title: 'Reports start here', target: { selectors: ['#app-new'] }, page_url: '/app/home' },
      { kind: 'tooltip', title: 'Add people', target: { selectors: ['#add-contact'] }, page_url: '/contacts' },
    ],
  });
  await admin.publish('content', { name: 'Maintenance', type: 'banner', position: 'bottom', title: 'Maintenance tonight', body: '<p>22:00–23:00 UTC</p>' });
  await admin.publish('checklists', { name: 'Setup', title: 'Get set up', items: [{ id: 'a', title: 'Add a contact', completed_by: { type: 'event', event: 'contact_added' } }] });
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  await page.goto(`${plain.origin}/app/settings`);
  await page.waitForFunction(() => window.spotlight && !Array.isArray(window.spotlight.q));
  // A bottom banner and a checklist: the fixed help button and the sticky bar stay clickable.
  const banner = sl(page).locator('.ban');
  await banner.getByText('Maintenance tonight').waitFor();
  await sl(page).locator('.cl').waitFor();
  await eventually(async () => !overlap(await banner.boundingBox(), await page.locator('.help').boundingBox()), 5000, 'the banner to clear the help button');
  for (const c of ['.help', 'header a >> nth=0', '#open-dialog']) await assertHostClickable(page, c);
  await new Promise((r) => setTimeout(r, 1000));
  assert.equal(new URL(page.url()).pathname, '/app/settings', 'the SDK did not navigate by itself');
  assert.equal(await sl(page).locator('.card[role="dialog"]').count(), 0);
  await page.locator('header a', { hasText: 'App' }).click();
  await assertStep(page, 'Reports start here', '#app-new');
  await sl(page).getByRole('button', { name: 'Next' }).click();
  await page.waitForURL(`${plain.origin}/contacts`);
  await assertStep(page, 'Add people', '#add-contact');
  await sl(page).getByRole('button', { name: 'Done' }).click();

  // Right to left: a step placed "right" opens on the reading side (left), text runs right to left.
  await admin.publish('tours', {
    name: 'RTL', pages: [{ match: 'exact', pattern: '/rtl' }],
    steps: [{ kind: 'tooltip', title: 'ابدأ هنا', target: { selectors: ['#rtl-target'] }, placement: 'right', backdrop: false }],
  });
  await page.goto(`${plain.origin}/rtl`);
  const card = await assertStep(page, 'ابدأ هنا', '#rtl-target');
  const [c, t] = [await card.boundingBox(), await page.locator('#rtl-target').boundingBox()];
  assert.ok(c.x + c.width <= t.x + 1, `the step opens to the left of its target (${c.x}+${c.width} vs ${t.x})`);
  assert.equal(await sl(page).locator('.r').getAttribute('dir'), 'rtl');
  // The ESM build imports from the app's origin (CORS), as docs/sdk.md shows.
  assert.equal(await page.evaluate(async (api) => typeof (await import(`${api}/sdk/v1/spotlight.mjs`)).createSpotlight, server.base), 'function');
  assert.deepEqual(await page.evaluate(() => window.__errors), []);
  await page.close();
});

test('bad input: flapping targets, a route change every 50 ms, dialogs toggled mid-step, a pushState loop', async () => {
  const admin = await createTenant(server, [plain.origin]);
  plain.configure({ api: server.base, key: admin.pk });
  const tour = await admin.publish('tours', {
    name: 'Stress', pages: [{ match: 'exact', pattern: '/' }],
    steps: [
      { kind: 'tooltip', title: 'Flapping', target: { selectors: ['#start-here'] }, backdrop: false },
      { kind: 'highlight', title: 'Second', target: { selectors: ['#open-dialog'] } },
    ],
  });
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  const configs = configRequests(page);
  await page.goto(`${plain.origin}/`);
  await assertStep(page, 'Flapping', '#start-here');
  await page.evaluate(async () => {
    const main = document.querySelector('main');
    const btn = document.getElementById('start-here');
    const d = document.getElementById('feedback');
    for (let i = 0; i < 40; i++) {
      if (i % 2) main.append(btn); else btn.remove();
      history.pushState({}, '', i % 3 ? '/?tab=' + i : '/');
      if (i % 5 === 0) d.showModal(); else if (d.open) d.close();
      await new Promise((r) => setTimeout(r, 50));
    }
    if (!btn.isConnected) main.append(btn);
    if (d.open) d.close();
    for (let i = 0; i < 500; i++) history.pushState({}, '', `/?loop=${i}`);
    history.pushState({}, '', '/');
  });
  await assertStep(page, 'Flapping', '#start-here');
  assert.equal(await sl(page).locator('.card[role="dialog"]').count(), 1, 'one step on screen, none orphaned');
  await sl(page).getByRole('button', { name: 'Next' }).click();
  await assertStep(page, 'Second', '#open-dialog');
  assert.ok(configs.length < 20, `config requests stay bounded (${configs.length})`);
  assert.deepEqual(await page.evaluate(() => window.__errors), []);
  const user = await eventually(async () => {
    const u = await admin.user('plain-user-1');
    return u.event_counts.step_viewed >= 2 && u;
  }, 15_000, 'the step views to reach the server');
  assert.equal(user.event_counts.step_viewed, 2, 'no duplicate step views');
  assert.equal(user.event_counts.tour_started, 1);
  assert.ok(user.progress[tour]);
  await page.close();
});
