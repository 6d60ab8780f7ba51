// Resilience and navigation: single-page apps (history API, no reload),
// multi-page tours resuming on the next page, the last good config used when the
// API is unreachable, and the kill switch removing everything at once.
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

const NAV = `<nav><a id="to-settings" href="/spa/settings">Settings</a><button id="save">Save</button></nav>
<script>document.getElementById('to-settings').addEventListener('click',function(e){e.preventDefault();history.pushState({},'','/spa/settings')});</script>`;

test('single-page app: a page rule is re-evaluated on pushState and popstate, without a reload', async () => {
  const admin = await createTenant(server, [host.origin]);
  await admin.publish('tours', {
    name: 'Settings tour', pages: [{ match: 'glob', pattern: '/spa/settings' }],
    frequency: { type: 'every_session' },
    steps: [{ kind: 'tooltip', title: 'Save here', body: 'x', target: { selectors: ['#save'] } }],
  });
  const html = hostPage({ api: server.base, key: admin.pk, userId: 'u-spa', body: NAV });
  const url = host.page('/spa', html);
  host.page('/spa/settings', html);
  const page = await browser.newPage();
  let loads = 0;
  page.on('load', () => { loads++; });
  await page.goto(url);
  await page.waitForFunction(() => window.spotlight && !window.spotlight.q);
  await page.waitForTimeout(500);
  assert.equal(await sl(page).locator('.card').count(), 0, 'nothing on /spa');
  await page.locator('#to-settings').click();
  await sl(page).locator('.card').getByText('Save here').waitFor();
  await page.goBack();
  await sl(page).locator('.card').waitFor({ state: 'detached' });
  assert.equal(loads, 1, 'no reload');
  assert.deepEqual(await page.evaluate(() => window.__errors), []);
  await page.close();
});

test('a multi-page tour continues on the next page', async () => {
  const admin = await createTenant(server, [host.origin]);
  const tourId = await admin.publish('tours', {
    name: 'Two pages', pages: [{ match: 'exact', pattern: '/mp/one' }],
    steps: [
      { kind: 'tooltip', title: 'On page one', body: 'x', target: { selectors: ['#save'] } },
      { kind: 'tooltip', title: 'On page two', body: 'y', target: { selectors: ['#save'] }, page_url: '/mp/two' },
    ],
  });
  const html = hostPage({ api: server.base, key: admin.pk, userId: 'u-mp', body: '<button id="save">Save</button>' });
  const url = host.page('/mp/one', html);
  host.page('/mp/two', html);
  const page = await browser.newPage();
  // Events are held back until page two shows: the server cannot know the
  // progress yet, so the tour must resume from what the SDK carried over.
  await page.route(`${server.base}/v1/sdk/events*`, (route) => route.abort('connectionrefused'));
  await page.goto(url);
  await sl(page).locator('.card').getByText('On page one').waitFor();
  await Promise.all([page.waitForURL('**/mp/two'), sl(page).getByRole('button', { name: 'Next' }).click()]);
  await sl(page).locator('.card').getByText('On page two').waitFor();
  await page.unroute(`${server.base}/v1/sdk/events*`);
  await sl(page).getByRole('button', { name: 'Done' }).click();
  await eventually(async () => (await admin.user('u-mp')).progress[tourId]?.completed, 15_000, 'completion');
  await page.close();
});

test('the API down: the last good config keeps working; events wait and are sent later', async () => {
  const admin = await createTenant(server, [host.origin]);
  await admin.publish('tours', {
    name: 'Offline', frequency: { type: 'every_session' },
    steps: [{ kind: 'tooltip', title: 'Works offline', body: 'x', target: { selectors: ['#save'] } }],
  });
  const url = host.page('/offline', hostPage({ api: server.base, key: admin.pk, userId: 'u-off', body: '<button id="save">Save</button>' }));
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(url);
  await sl(page).locator('.card').getByText('Works offline').waitFor();
  await page.close();
  // The API goes away (config and events); the script itself stays cached.
  await context.route(`${server.base}/v1/**`, (route) => route.abort('connectionrefused'));
  const again = await context.newPage();
  await again.goto(url);
  await sl(again).locator('.card').getByText('Works offline').waitFor();
  await sl(again).getByRole('button', { name: 'Done' }).click();
  await again.waitForTimeout(1500);
  const queued = await again.evaluate(() => Object.keys(localStorage).filter((k) => k.endsWith(':queue')).map((k) => JSON.parse(localStorage.getItem(k)).length)[0]);
  assert.ok(queued >= 2, `events kept while offline (${queued})`);
  // Back online: the next page load sends them.
  await context.unroute(`${server.base}/v1/**`);
  await again.reload();
  await eventually(async () => (await admin.user('u-off')).event_counts.tour_completed === 1, 15_000, 'the offline events to arrive');
  assert.deepEqual(await again.evaluate(() => window.__errors), []);
  await context.close();
});

test('the kill switch removes everything the SDK shows', async () => {
  const admin = await createTenant(server, [host.origin]);
  await admin.publish('tours', {
    name: 'Killed', frequency: { type: 'every_session' },
    steps: [{ kind: 'tooltip', title: 'Soon gone', body: 'x', target: { selectors: ['#save'] } }],
  });
  await admin.publish('content', { name: 'Banner', type: 'banner', title: 'Also gone', body: 'x' });
  const html = hostPage({ api: server.base, key: admin.pk, userId: 'u-kill', body: NAV });
  const url = host.page('/spa', html);
  const page = await browser.newPage();
  await page.goto(url);
  await sl(page).locator('.card').getByText('Soon gone').waitFor();
  await sl(page).locator('.ban').waitFor();
  await admin.settings({ kill_switch: true });
  // The next config the SDK asks for (here on navigation) is the empty, disabled one.
  await page.evaluate(() => history.pushState({}, '', '/spa/other'));
  await eventually(async () => (await page.locator('spotlight-root').count()) === 0, 5000, 'the SDK root to go');
  assert.deepEqual(await page.evaluate(() => window.__errors), []);
  await page.close();
});

test('opt-out: what is shown goes, queued and later events are never sent, it outlives a reload; opt-in resumes', async () => {
  const admin = await createTenant(server, [host.origin]);
  await admin.publish('tours', {
    name: 'Privacy', frequency: { type: 'every_session' },
    steps: [{ kind: 'tooltip', title: 'Hello there', body: 'x', target: { selectors: ['#save'] } }],
  });
  const url = host.page('/optout', hostPage({ api: server.base, key: admin.pk, userId: 'u-opt', body: '<button id="save">Save</button>' }));
  const context = await browser.newContext();
  const page = await context.newPage();
  const sdkCalls = [];
  page.on('request', (r) => { if (r.url().includes('/v1/sdk/')) sdkCalls.push(new URL(r.url()).pathname); });
  await page.goto(url);
  await sl(page).locator('.card').getByText('Hello there').waitFor();
  await eventually(async () => (await admin.user('u-opt')).event_counts.tour_started === 1, 15_000, 'the start to arrive');
  // Queued but not yet sent when the user opts out: dropped.
  await page.evaluate(() => { window.spotlight.track('before_optout'); window.spotlight.optOut(); });
  await sl(page).locator('.card').waitFor({ state: 'detached' });
  sdkCalls.length = 0;
  await page.evaluate(() => { window.spotlight.track('while_out'); history.pushState({}, '', '/optout?again'); });
  await page.reload();
  await page.waitForFunction(() => window.spotlight && !window.spotlight.q);
  await page.evaluate(() => window.spotlight.track('after_reload'));
  await page.waitForTimeout(2500);
  assert.deepEqual(sdkCalls, [], 'no config asked for and no event sent while opted out');
  assert.equal(await sl(page).locator('.card').count(), 0);
  assert.ok(await page.evaluate(() => Object.keys(localStorage).some((k) => k.endsWith(':optout'))), 'remembered on the device');
  let counts = (await admin.user('u-opt')).event_counts;
  assert.equal(counts.before_optout, undefined);
  assert.equal(counts.while_out, undefined);
  assert.equal(counts.after_reload, undefined);
  // Back in: content and events resume.
  await page.evaluate(() => { window.spotlight.optIn(); window.spotlight.track('back_in'); });
  await sl(page).locator('.card').getByText('Hello there').waitFor();
  await eventually(async () => (await admin.user('u-opt')).event_counts.back_in === 1, 15_000, 'events after opting in');
  counts = (await admin.user('u-opt')).event_counts;
  assert.equal(counts.while_out, undefined);
  assert.deepEqual(await page.evaluate(() => window.__errors), []);
  await context.close();
});

test('accounts: init names the user\'s company, account rules decide, group() switches it', async () => {
  const admin = await createTenant(server, [host.origin]);
  await admin.publish('tours', {
    name: 'Team plan', frequency: { type: 'every_session' }, audience: 'account.plan = "team"',
    steps: [{ kind: 'tooltip', title: 'For teams', body: 'x', target: { selectors: ['#save'] } }],
  });
  const url = host.page('/acct', hostPage({
    api: server.base, key: admin.pk, userId: 'u-acct', body: '<button id="save">Save</button>',
    init: { account: { id: 'acct-free', attributes: { plan: 'free' } } },
  }));
  const page = await browser.newPage();
  const asked = [];
  const sent = [];
  page.on('request', (r) => {
    if (r.url().includes('/v1/sdk/config')) asked.push(new URL(r.url()).searchParams);
    if (r.url().includes('/v1/sdk/events') && r.method() === 'POST') sent.push(...JSON.parse(r.postData()).events);
  });
  await page.goto(url);
  await page.waitForFunction(() => window.spotlight && !window.spotlight.q);
  await eventually(async () => asked.length > 0, 10_000, 'a config request');
  assert.equal(asked[0].get('account_id'), 'acct-free');
  assert.deepEqual(JSON.parse(asked[0].get('account_attributes')), { plan: 'free' });
  await page.waitForTimeout(500);
  assert.equal(await sl(page).locator('.card').count(), 0, 'a free account sees nothing');
  // The user switches to their team workspace.
  await page.evaluate(() => window.spotlight.group('acct-team', { plan: 'team' }));
  await sl(page).locator('.card').getByText('For teams').waitFor();
  assert.equal(asked.at(-1).get('account_id'), 'acct-team');
  // What the user does from now on is the team account's.
  await page.evaluate(() => window.spotlight.track('invited'));
  await eventually(async () => sent.some((e) => e.name === 'invited'), 10_000, 'the tracked event sent');
  assert.equal(sent.find((e) => e.name === 'tour_started')?.account_id, 'acct-team');
  assert.equal(sent.find((e) => e.name === 'invited').account_id, 'acct-team');
  assert.deepEqual(await page.evaluate(() => window.__errors), []);
  await page.close();
});
