// Announcements, checklists, launchers and surveys in real Chromium: shown from
// the lazily loaded chunk, answered and reported to the server; and an axe-core
// check of what the SDK draws.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { startServer, startHost, createTenant, hostPage, launch, startAll, eventually, sl } from './harness.mjs';

let server, host, browser;
const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

before(async () => {
  [server, host, browser] = await startAll([startServer(), startHost(), launch()]);
});
after(async () => {
  await browser?.close();
  await host?.stop();
  await server?.stop();
});

const APP = '<main><h1>App</h1><button id="invite">Invite a teammate</button><button id="other">Other</button></main>';

test('a banner and a slideout: shown, clicked and dismissed, each reported', async () => {
  const admin = await createTenant(server, [host.origin]);
  const banner = await admin.publish('content', {
    name: 'Launch', type: 'banner', position: 'top', title: 'New: exports', body: '<p>Try them</p>',
    buttons: [{ action: 'link', label: 'Read more', url: 'https://example.com/exports' }],
  });
  const slide = await admin.publish('content', {
    name: 'Tip', type: 'slideout', position: 'bottom-right', title: 'A tip', body: '<p>Shortcuts</p>',
  });
  const url = host.page('/content', hostPage({ api: server.base, key: admin.pk, userId: 'u-content', body: APP }));
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  await page.goto(url);
  const ban = sl(page).locator('.ban');
  await ban.getByText('New: exports').waitFor();
  assert.ok((await ban.boundingBox()).y < 5, 'the banner sits at the top');
  const so = sl(page).locator('.card.so');
  await so.getByText('A tip').waitFor();
  const box = await so.boundingBox();
  assert.ok(box.x + box.width > 1200 && box.y + box.height > 750, 'the slideout sits bottom right');
  const popup = page.waitForEvent('popup');
  await ban.getByRole('button', { name: 'Read more' }).click();
  await (await popup).close();
  await ban.waitFor({ state: 'detached' });
  await so.getByRole('button', { name: 'Dismiss' }).click();
  await so.waitFor({ state: 'detached' });
  const user = await eventually(async () => {
    const u = await admin.user('u-content');
    return u.event_counts.content_dismissed === 1 && u.event_counts.content_clicked === 1 && u;
  }, 15_000, 'content events');
  assert.equal(user.event_counts.content_viewed, 2);
  assert.ok(user.progress[banner] && user.progress[slide]);
  assert.deepEqual(await page.evaluate(() => window.__errors), []);
  await page.close();
});

test('a checklist ticks an item on a click, starts a tour from an item; a launcher opens its list', async () => {
  const admin = await createTenant(server, [host.origin]);
  const tour = await admin.publish('tours', {
    name: 'Invite tour', trigger: { type: 'manual' },
    steps: [{ kind: 'tooltip', title: 'Invite here', body: 'x', target: { selectors: ['#invite'] } }],
  });
  const checklist = await admin.publish('checklists', {
    name: 'Onboarding', title: 'Get started',
    items: [
      { id: 'invite', title: 'Invite a teammate', completed_by: { type: 'click', target: { selectors: ['#invite'] } } },
      { id: 'tour', title: 'Take the tour', completed_by: { type: 'tour', tour_id: tour }, action: { type: 'tour', tour_id: tour } },
    ],
  });
  await admin.publish('launchers', {
    name: 'Help', type: 'button', label: 'Help', position: 'bottom-left',
    items: [{ type: 'tour', tour_id: tour }, { type: 'link', label: 'Docs', url: 'https://example.com/docs' }],
  });
  const url = host.page('/checklist', hostPage({ api: server.base, key: admin.pk, userId: 'u-check', body: APP }));
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  await page.goto(url);
  const cl = sl(page).locator('.cl');
  const head = cl.getByRole('button', { name: /Get started/ });
  await head.waitFor();
  assert.match(await head.textContent(), /0\/2/);
  await head.click();
  assert.equal(await head.getAttribute('aria-expanded'), 'true');
  await page.locator('#invite').click();
  await eventually(async () => /1\/2/.test(await cl.getByRole('button', { name: /Get started/ }).textContent()), 5000, 'the item ticked');
  await cl.getByRole('button', { name: 'Take the tour' }).click();
  const card = sl(page).locator('.card');
  await card.getByText('Invite here').waitFor();
  await sl(page).getByRole('button', { name: 'Done', exact: true }).click();
  await card.waitFor({ state: 'detached' });
  await eventually(async () => /2\/2/.test(await cl.getByRole('button', { name: /Get started/ }).textContent()), 5000, 'the tour item ticked');

  const lb = sl(page).locator('.lb');
  await lb.click();
  const menu = sl(page).getByRole('menu');
  await menu.waitFor();
  assert.deepEqual(await menu.getByRole('menuitem').allTextContents(), ['Invite tour', 'Docs']);
  await menu.getByRole('menuitem', { name: 'Invite tour' }).click();
  await card.getByText('Invite here').waitFor();
  await page.keyboard.press('Escape');

  const user = await eventually(async () => {
    const u = await admin.user('u-check');
    return u.progress[checklist]?.items_completed?.length === 2 && u.event_counts.launcher_opened === 1 && u;
  }, 15_000, 'checklist and launcher events');
  assert.deepEqual([...user.progress[checklist].items_completed].sort(), ['invite', 'tour']);
  assert.deepEqual(await page.evaluate(() => window.__errors), []);
  await page.close();
});

test('surveys: NPS, choice and text answers are stored', async () => {
  const admin = await createTenant(server, [host.origin]);
  const tour = await admin.publish('tours', {
    name: 'Survey',
    steps: [
      { kind: 'survey', title: 'Quick question', survey: { type: 'nps', question: 'How likely are you to recommend us?' } },
      { kind: 'survey', survey: { type: 'multiple_choice', question: 'What do you use?', choices: ['Tours', 'Checklists', 'Surveys'] } },
      { kind: 'survey', survey: { type: 'text', question: 'Anything else?' } },
    ],
  });
  const url = host.page('/survey', hostPage({ api: server.base, key: admin.pk, userId: 'u-survey', body: APP }));
  const page = await browser.newPage();
  await page.goto(url);
  const card = sl(page).locator('.card');
  await card.getByText('How likely are you to recommend us?').waitFor();
  await card.getByRole('button', { name: '9 out of 10' }).click();
  await card.getByText('What do you use?').waitFor();
  await card.getByLabel('Tours').check();
  await card.getByLabel('Surveys').check();
  await card.getByRole('button', { name: 'Submit' }).click();
  await card.getByRole('textbox', { name: 'Anything else?' }).fill('More themes');
  await card.getByRole('button', { name: 'Submit' }).click();
  await card.waitFor({ state: 'detached' });
  const user = await eventually(async () => {
    const u = await admin.user('u-survey');
    return u.event_counts.survey_answered === 3 && u.progress[tour]?.completed && u;
  }, 15_000, 'survey answers');
  assert.ok(user);
  const s = await eventually(async () => {
    const r = await admin.send('GET', `/v1/admin/analytics/surveys/${tour}`);
    return JSON.stringify(r).includes('More themes') && r;
  }, 10_000, 'survey analytics');
  assert.match(JSON.stringify(s), /Checklists|Surveys/);
  await page.close();
});

test('axe-core finds no serious or critical violations in a step, a banner, a checklist and a launcher', async () => {
  const admin = await createTenant(server, [host.origin]);
  const tour = await admin.publish('tours', {
    name: 'A11y', steps: [
      // No backdrop, so the widgets (which a backdrop covers) can be opened beside the step.
      { kind: 'tooltip', title: 'Invite', body: '<p>Bring your team</p>', target: { selectors: ['#invite'] }, backdrop: false },
      { kind: 'modal', title: 'Done', body: '<p>Bye</p>' },
    ],
  });
  await admin.publish('content', { name: 'B', type: 'banner', title: 'Hello', body: '<p>News</p>' });
  await admin.publish('checklists', { name: 'C', title: 'Start', items: [{ title: 'One', completed_by: { type: 'event', event: 'one' } }] });
  await admin.publish('launchers', { name: 'L', type: 'button', label: 'Help', items: [{ type: 'tour', tour_id: tour }] });
  const url = host.page('/a11y', hostPage({ api: server.base, key: admin.pk, userId: 'u-a11y', body: APP }));
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  await page.goto(url);
  await sl(page).locator('.card').getByText('Bring your team').waitFor();
  await sl(page).locator('.ban').waitFor();
  await sl(page).locator('.cl').getByRole('button', { name: /Start/ }).click();
  await sl(page).locator('.lb').click();
  await page.addScriptTag({ content: axeSource });
  const check = async () => page.evaluate(async () => {
    const r = await window.axe.run(document.querySelector('spotlight-root'), { resultTypes: ['violations'] });
    return r.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
  });
  assert.deepEqual(await check(), []);
  await sl(page).getByRole('button', { name: 'Next' }).click();
  await sl(page).locator('.card.modal').waitFor();
  assert.deepEqual(await check(), []);
  await page.close();
});
