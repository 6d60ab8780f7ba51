// The dashboard in Debian's Chromium against the real server (`spotlight demo`):
// keyboard-only sign-in, errors shown at the form, the tours list, sign-out,
// screenshots of every page at 1280×800 (test-results/) and axe-core checks.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';
import { startServer, launch, startAll } from '../../sdk/e2e/harness.mjs';

const shots = new URL('../test-results/', import.meta.url).pathname;
const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
let server, browser;

before(async () => {
  mkdirSync(shots, { recursive: true });
  // One attempt per delivery, so a dead endpoint dead-letters at once.
  [server, browser] = await startAll([startServer({ SPOTLIGHT_RELAY_MAX_ATTEMPTS: '1', SPOTLIGHT_RELAY_BACKOFF_BASE_MS: '50' }), launch()]);
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

test('keyboard-only sign-in and publish, the tours list, search and sign-out; screenshots and axe', async () => {
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

  // Keyboard only: open a tour and publish it to staging.
  const tabTo = async (name) => {
    for (let i = 0; i < 120; i++) {
      await page.keyboard.press('Tab');
      const text = await page.evaluate(() => document.activeElement?.textContent?.trim());
      if (text === name) return;
    }
    throw new Error(`Tab never reached ${name}`);
  };
  await tabTo('Reports feedback');
  await page.keyboard.press('Enter');
  await page.getByRole('heading', { name: 'Reports feedback' }).waitFor();
  await tabTo('Publish to staging');
  await page.keyboard.press('Enter');
  await page.getByRole('status').getByText('Published to staging.').waitFor();
  await page.goBack();
  await page.getByRole('heading', { name: 'Tours' }).waitFor();

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

test('author a three-step tour for /demo/, publish to staging, promote, see it run, roll back; the audit log lists it all', async () => {
  const { email, password } = server.demoLogin;
  const t0 = Date.now();
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  await page.goto(`${server.base}/app/`);
  await page.locator('#email').fill(email);
  await page.locator('#password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Tours' }).waitFor();
  await page.getByRole('button', { name: 'New tour' }).click();
  await page.getByRole('heading', { name: 'Untitled tour' }).waitFor();

  await page.getByLabel('Name', { exact: true }).fill('Settings tour');
  await page.getByRole('button', { name: 'Add page rule' }).click();
  await page.getByLabel('Pattern').fill('/demo/settings');
  // A step without a target is refused by the server; the error shows at the field.
  await page.getByRole('button', { name: 'Add step' }).click();
  await page.getByRole('button', { name: 'Save' }).click();
  await page.getByText('steps[1].target.selectors: must not be empty').waitFor();
  await page.screenshot({ path: `${shots}tour-editor-error.png` });
  const step = (i) => page.getByRole('group', { name: `Step ${i}` });
  await step(2).getByLabel('Title').fill('Your team');
  await step(2).getByLabel(/Target selectors/).fill('#team');
  await page.getByRole('button', { name: 'Add step' }).click();
  await step(3).getByLabel('Title').fill('Weekly digest');
  await step(3).getByLabel(/Target selectors/).fill('#digest');
  await step(1).getByLabel('Title').fill('Settings, quickly');
  await page.getByRole('button', { name: 'Save' }).click();
  await page.getByRole('status').getByText('Saved.').waitFor();
  await page.getByRole('button', { name: 'Publish to staging' }).click();
  await page.getByRole('status').getByText('Published to staging.').waitFor();
  await page.getByRole('button', { name: 'Promote to production' }).click();
  await page.getByRole('status').getByText('Promoted to production.').waitFor();
  await page.getByText('production v1').waitFor();
  await page.screenshot({ path: `${shots}tour-editor.png` });
  assert.deepEqual(await axe(page), [], 'tour editor');

  // An end user sees it in the demo app (a second browser context).
  const user = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const app = await user.newPage();
  await app.goto(`${server.base}/demo/settings`);
  const card = app.locator('spotlight-root').locator('.card');
  await card.getByText('Settings, quickly').waitFor();
  for (const title of ['Your team', 'Weekly digest']) {
    await app.keyboard.press('ArrowRight');
    await card.getByText(title, { exact: true }).waitFor();
  }
  await app.locator('spotlight-root').getByRole('button', { name: 'Done', exact: true }).click();
  await card.waitFor({ state: 'detached' });
  // The SDK sends its queue a second after the last event.
  await app.waitForFunction(() => Object.keys(localStorage).filter((k) => k.endsWith(':queue')).every((k) => localStorage.getItem(k) === '[]'), null, { timeout: 10_000 });
  const endUser = await app.evaluate(() => localStorage.getItem(Object.keys(localStorage).find((k) => k.endsWith(':anon'))));
  await user.close();

  // The analytics page shows the completion and the funnel.
  await page.locator('main a[href*="/app/analytics?tour="]').click();
  await page.getByRole('heading', { name: 'Analytics' }).waitFor();
  const completions = page.locator('.kpis div', { hasText: 'Completions' }).locator('dd');
  for (let i = 0; (await completions.textContent().catch(() => '')) !== '1'; i++) {
    assert.ok(i < 20, 'one completion shows up');
    await page.waitForTimeout(500);
    await page.reload();
    await page.getByRole('heading', { name: 'Analytics' }).waitFor();
  }
  const funnel = await page.locator('table.funnel tbody tr').allTextContents();
  assert.equal(funnel.length, 3);
  assert.match(funnel[0], /Settings, quickly/);
  assert.match(await page.locator('.kpis').textContent(), /Completion rate100\.0 %/);
  await page.locator('.chart canvas').waitFor();
  await page.screenshot({ path: `${shots}analytics.png` });
  assert.deepEqual(await axe(page), [], 'analytics page');
  // The end user's profile and progress.
  await page.getByRole('link', { name: 'End users' }).click();
  await page.getByRole('searchbox', { name: 'User id' }).fill(endUser);
  await page.keyboard.press('Enter');
  await page.getByRole('heading', { name: 'Progress' }).waitFor();
  assert.match(await page.locator('.profile').textContent(), /completed/);
  await page.screenshot({ path: `${shots}end-user.png` });
  assert.deepEqual(await axe(page), [], 'end-user page');
  await page.goBack();
  await page.goBack();
  await page.getByRole('heading', { name: 'Settings tour' }).waitFor();

  // Edit, publish v2 to production, then roll production back to v1.
  await step(1).getByLabel('Title').fill('Settings, v2');
  await page.getByRole('button', { name: 'Save' }).click();
  await page.getByRole('status').getByText('Saved.').waitFor();
  await page.getByRole('button', { name: 'Publish to staging' }).click();
  await page.getByRole('button', { name: 'Promote to production' }).click();
  await page.getByText('production v2').waitFor();
  await page.getByRole('button', { name: 'Roll back production to v1' }).click();
  await page.getByText('production v1').waitFor();

  await page.getByRole('link', { name: 'Audit log' }).click();
  await page.getByRole('heading', { name: 'Audit log' }).waitFor();
  await page.getByRole('combobox', { name: 'Filter by object kind' }).selectOption('tour');
  const actions = async () => (await page.locator('tbody tr td:nth-child(3)').allTextContents());
  await page.waitForFunction(() => document.querySelectorAll('tbody tr').length >= 7);
  const seen = await actions();
  for (const a of ['create', 'update', 'publish', 'promote', 'rollback']) assert.ok(seen.includes(`tour.${a}`) || seen.includes(a), `audit lists ${a}: ${seen}`);
  await page.screenshot({ path: `${shots}audit.png` });
  assert.deepEqual(await axe(page), [], 'audit page');
  console.log(`# flow took ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  await page.close();
});

test('a concurrent edit surfaces the 412 as reload-or-overwrite; a viewer gets no edit controls', async () => {
  const { email, password } = server.demoLogin;
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  await page.goto(`${server.base}/app/`);
  await page.locator('#email').fill(email);
  await page.locator('#password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('link', { name: 'Welcome to Acme' }).click();
  await page.getByRole('heading', { name: 'Welcome to Acme' }).waitFor();
  // Someone else saves first (through the API with the same session).
  const id = new URL(page.url()).pathname.split('/').pop();
  await page.evaluate(async (tourId) => {
    const me = await (await fetch('/v1/auth/me')).json();
    const t = await (await fetch(`/v1/admin/tours/${tourId}`)).json();
    t.document.name = 'Changed elsewhere';
    const r = await fetch(`/v1/admin/tours/${tourId}`, { method: 'PUT', headers: { 'content-type': 'application/json', 'x-csrf-token': me.csrf_token }, body: JSON.stringify(t.document) });
    if (!r.ok) throw new Error(`PUT ${r.status}`);
  }, id);
  await page.getByLabel('Name', { exact: true }).fill('Mine');
  await page.getByRole('button', { name: 'Save' }).click();
  await page.getByText('changed by someone else').waitFor();
  // The edit in progress survives a reload (kept locally).
  await page.reload();
  assert.equal(await page.getByLabel('Name', { exact: true }).inputValue(), 'Mine');
  await page.getByRole('button', { name: 'Save' }).click();
  await page.getByRole('button', { name: 'Overwrite with mine' }).click();
  await page.getByRole('status').getByText('Saved.').waitFor();

  // The owner invites a viewer, who joins through the link (choosing a
  // password) and sees tours read-only.
  const invited = await page.evaluate(async () => {
    const me = await (await fetch('/v1/auth/me')).json();
    const r = await fetch('/v1/admin/members', { method: 'POST', headers: { 'content-type': 'application/json', 'x-csrf-token': me.csrf_token }, body: JSON.stringify({ email: 'viewer@spotlight.local', role: 'viewer' }) });
    return r.json();
  });
  await page.getByRole('button', { name: 'Log out' }).click();
  await page.goto(new URL(invited.accept_url, server.base).href);
  await page.getByRole('heading', { name: 'Join your team on Spotlight' }).waitFor();
  await page.locator('#password').fill('viewer-password-123');
  await page.getByRole('button', { name: 'Accept invitation' }).click();
  await page.getByRole('heading', { name: 'Tours' }).waitFor();
  assert.equal(await page.getByRole('button', { name: 'New tour' }).count(), 0);
  await page.getByRole('link', { name: 'Mine' }).click();
  await page.getByRole('heading', { name: 'Mine' }).waitFor();
  assert.equal(await page.getByRole('button', { name: 'Save' }).count(), 0);
  assert.equal(await page.getByLabel('Name', { exact: true }).getAttribute('readonly'), '');
  await page.screenshot({ path: `${shots}tour-viewer.png` });
  await page.close();
});

test('settings: a key is created and its secret shown once, bad origins are refused at the field, the kill switch flips', async () => {
  const { email, password } = server.demoLogin;
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  page.on('dialog', (d) => d.accept());
  await page.goto(`${server.base}/app/`);
  await page.locator('#email').fill(email);
  await page.locator('#password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('link', { name: 'Settings', exact: true }).click();
  await page.getByRole('heading', { name: 'API keys' }).waitFor();
  await page.getByRole('textbox', { name: 'Key label' }).fill('mobile web');
  await page.getByRole('combobox', { name: 'Key environment' }).selectOption('staging');
  await page.getByRole('button', { name: 'Create key' }).click();
  const shown = page.locator('.secret code');
  await shown.waitFor();
  const secret = await shown.textContent();
  assert.match(secret, /^pk_/);
  await page.getByRole('button', { name: 'I have copied it' }).click();
  const row = page.getByRole('row', { name: /mobile web/ });
  await row.waitFor();
  assert.ok(!(await page.content()).includes(secret), 'the secret is gone from the page');
  // The new key works for the SDK at once.
  assert.equal((await page.request.get(`${server.base}/v1/sdk/ping`, { headers: { 'x-spotlight-key': secret } })).status(), 200);
  await row.getByRole('button', { name: 'Revoke' }).click();
  await page.getByRole('status').getByText('Key revoked.').waitFor();
  assert.equal((await page.request.get(`${server.base}/v1/sdk/ping`, { headers: { 'x-spotlight-key': secret } })).status(), 401);

  const origins = page.getByLabel(/One per line/);
  const before = await origins.inputValue();
  await origins.fill(`${before}\nftp://nope`);
  await page.getByRole('button', { name: 'Save origins' }).click();
  await page.locator('.settings form .error', { hasText: 'allowed_origins[' }).waitFor();
  assert.equal(await origins.getAttribute('aria-invalid'), 'true');
  await origins.fill(`${before}\nhttps://*.example.com`);
  await page.getByRole('button', { name: 'Save origins' }).click();
  await page.getByRole('status').getByText('Origins saved.').waitFor();

  // Identity verification being typed survives the page's reloads after other saves.
  await page.getByLabel('Method').selectOption('jwks');
  await page.getByLabel('JWKS URL').fill('ftp://keys.example.com');

  await page.getByRole('button', { name: 'Turn the kill switch on' }).click();
  await page.getByText('On: the SDK shows nothing for this tenant.').waitFor();
  await page.screenshot({ path: `${shots}settings.png`, fullPage: true });
  assert.deepEqual(await axe(page), [], 'settings page');
  await page.getByRole('button', { name: 'Turn the kill switch off' }).click();
  await page.getByText('Off: the SDK shows what is published.').waitFor();
  await page.getByRole('status').getByText('Kill switch off.').waitFor();
  assert.equal(await page.getByLabel('Method').inputValue(), 'jwks');
  assert.equal(await page.getByLabel('JWKS URL').inputValue(), 'ftp://keys.example.com');

  // A bad JWKS URL is refused with its field; HS256 in monitor mode is kept.
  await page.getByRole('button', { name: 'Save identity verification' }).click();
  await page.locator('.settings .error', { hasText: 'identity_verification' }).first().waitFor();
  await page.getByLabel('Method').selectOption('hs256');
  await page.getByLabel(/New secret/).fill('s'.repeat(40));
  await page.getByLabel('Mode').selectOption('monitor');
  await page.getByRole('button', { name: 'Save identity verification' }).click();
  await page.getByRole('status').getByText('Identity verification saved for production.').waitFor();
  assert.equal(await page.getByLabel(/New secret/).inputValue(), '', 'a saved secret is not kept in the form');
  await page.getByLabel('Who gets the in-page editor').selectOption('table');
  await page.getByLabel('User ids, one per line').fill('admin-1\nadmin-2');
  await page.getByRole('button', { name: 'Save admin detection' }).click();
  await page.getByRole('status').getByText('Admin detection saved.').waitFor();
  const saved = await page.evaluate(async () => (await fetch('/v1/admin/settings')).json());
  assert.equal(saved.identity_verification.production.mode, 'monitor');
  assert.equal(saved.identity_verification.production.hs256_secrets_configured, 1);
  assert.deepEqual(saved.admin_detection, { strategy: 'table', user_ids: ['admin-1', 'admin-2'] });
  assert.ok(!JSON.stringify(saved).includes('s'.repeat(40)), 'the secret is never shown back');
  // Retention: at most the server's time, refused at the field past it.
  const keepEvents = page.getByLabel(/Days raw events/);
  await keepEvents.fill('1000');
  await page.getByRole('button', { name: 'Save retention' }).click();
  await page.locator('.settings .error', { hasText: 'retention.events_days' }).waitFor();
  assert.equal(await keepEvents.getAttribute('aria-invalid'), 'true');
  await keepEvents.fill('30');
  await page.getByRole('button', { name: 'Save retention' }).click();
  await page.getByRole('status').getByText('Retention saved.').waitFor();
  const kept = await page.evaluate(async () => (await fetch('/v1/admin/settings')).json());
  assert.deepEqual(kept.retention, { events_days: 30, audit_days: null });
  await page.close();
});

test('announcements, checklists, launchers, themes and audiences: create, edit the document with errors at the field, publish', async () => {
  const { email, password } = server.demoLogin;
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  await page.goto(`${server.base}/app/`);
  await page.locator('#email').fill(email);
  await page.locator('#password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Tours' }).waitFor();
  for (const [title, noun] of [['Announcements', 'announcement'], ['Checklists', 'checklist'], ['Launchers', 'launcher'], ['Themes', 'theme'], ['Audiences', 'audience']]) {
    await page.getByRole('navigation', { name: 'Sections' }).getByRole('link', { name: title }).click();
    await page.getByRole('heading', { name: title }).waitFor();
    await page.getByRole('button', { name: `New ${noun}` }).click();
    await page.getByRole('heading', { name: `Untitled ${noun}` }).waitFor();
    await page.getByRole('button', { name: 'JSON', exact: true }).click();
    const json = page.getByLabel('Document (JSON)');
    // Broken JSON is caught at the field; an invalid document is refused by the server at the field.
    await json.fill('{ "name": ');
    await page.locator('.field.invalid').waitFor();
    const doc = await page.evaluate(async () => (await (await fetch(`/v1/admin${location.pathname.replace('/app', '')}`)).json()).document);
    await json.fill(JSON.stringify({ ...doc, name: '' }, null, 2));
    await page.getByRole('button', { name: 'Save' }).click();
    await page.locator('.field.invalid', { hasText: 'name' }).waitFor();
    await json.fill(JSON.stringify({ ...doc, name: `Demo ${noun}` }, null, 2));
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByRole('status').getByText('Saved.').waitFor();
    await page.getByRole('button', { name: 'Form', exact: true }).click();
    if (noun === 'theme') {
      await page.getByRole('group', { name: 'Theme preview' }).waitFor();
      await page.screenshot({ path: `${shots}theme-editor.png`, fullPage: true });
    }
    await page.getByRole('button', { name: 'Publish to staging' }).click();
    await page.getByRole('status').getByText('Published to staging.').waitFor();
  }
  await page.screenshot({ path: `${shots}audience-editor.png` });
  assert.deepEqual(await axe(page), [], 'document editor');
  await page.close();
});

test('webhooks: signed deliveries in the log, a dead endpoint dead-letters, replay and discard; members and roles', async () => {
  const received = [];
  const receiver = createServer((req, res) => {
    let body = '';
    req.on('data', (d) => { body += d; });
    req.on('end', () => { received.push({ signature: req.headers['spotlight-signature'], body }); res.writeHead(200); res.end('ok'); });
  });
  await new Promise((r) => receiver.listen(0, '127.0.0.1', r));
  const good = `http://127.0.0.1:${receiver.address().port}/hook`;
  const dead = 'http://127.0.0.1:9/nothing-listens-here';
  const { email, password } = server.demoLogin;
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  page.on('dialog', (d) => d.accept());
  await page.goto(`${server.base}/app/`);
  await page.locator('#email').fill(email);
  await page.locator('#password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('link', { name: 'Webhooks' }).click();
  await page.getByRole('heading', { name: 'Webhooks and dead letters' }).waitFor();
  for (const url of [good, dead]) {
    await page.getByRole('textbox', { name: 'Endpoint URL' }).fill(url);
    await page.getByRole('textbox', { name: /Events/ }).fill('checkout_done');
    await page.getByRole('button', { name: 'Add webhook' }).click();
    await page.locator('.secret code').waitFor();
    assert.ok((await page.locator('.secret code').textContent()).length >= 32);
    await page.getByRole('button', { name: 'I have copied it' }).click();
  }
  // An end-user event goes to both endpoints.
  const r = await fetch(`${server.base}/v1/sdk/events`, {
    method: 'POST', headers: { 'x-spotlight-key': server.demoKey, 'content-type': 'application/json' },
    body: JSON.stringify({ events: [{ event_id: randomUUID(), schema_version: 1, name: 'checkout_done', timestamp: Date.now(), user_id: 'u-hook' }] }),
  });
  assert.equal(r.status, 202);
  const start = Date.now();
  while (!received.some((x) => x.body.includes('checkout_done'))) {
    assert.ok(Date.now() - start < 15_000, 'the delivery arrives');
    await new Promise((res) => setTimeout(res, 100));
  }
  assert.match(received.find((x) => x.body.includes('checkout_done')).signature, /^t=\d+,v1=[0-9a-f]{64}$/);
  await page.getByRole('row', { name: new RegExp(good.replace(/[/.]/g, '.')) }).getByRole('button', { name: 'Delivery log' }).click();
  await page.getByRole('heading', { name: 'Delivery log' }).waitFor();
  await page.locator('td', { hasText: /^ok \(200\)$/ }).first().waitFor();
  // The dead endpoint's delivery is a dead letter after its single attempt.
  for (let i = 0; (await page.getByRole('button', { name: 'Discard' }).count()) === 0; i++) {
    assert.ok(i < 30, 'a dead letter shows up');
    await page.waitForTimeout(500);
    await page.reload();
    await page.getByRole('heading', { name: 'Webhooks and dead letters' }).waitFor();
  }
  assert.match(await page.locator('table').last().textContent(), /nothing-listens-here.*could not connect/);
  await page.screenshot({ path: `${shots}webhooks.png`, fullPage: true });
  assert.deepEqual(await axe(page), [], 'webhooks page');
  await page.getByRole('button', { name: 'Replay', exact: true }).first().click();
  await page.getByRole('status').getByText('Replayed.').waitFor();
  // Replayed to a dead endpoint, it fails again; discard it for good.
  for (let i = 0; (await page.getByRole('button', { name: 'Discard' }).count()) === 0; i++) {
    assert.ok(i < 30, 'the replay dead-letters again');
    await page.waitForTimeout(500);
    await page.reload();
    await page.getByRole('heading', { name: 'Webhooks and dead letters' }).waitFor();
  }
  await page.getByRole('button', { name: 'Discard' }).first().click();
  await page.getByText('None: every delivery got through.').waitFor();
  receiver.close();

  // Members: invite an editor (the link shown once), who joins from another
  // browser; then change the role, and remove them. A second invitation is
  // withdrawn.
  await page.getByRole('link', { name: 'Members' }).click();
  await page.getByRole('heading', { name: 'Members' }).waitFor();
  await page.getByRole('textbox', { name: 'E-mail of the new member' }).fill('editor@spotlight.local');
  await page.getByRole('button', { name: 'Invite' }).click();
  const link = await page.locator('.secret code').textContent();
  assert.match(link, /\/app\/accept#/);
  await page.getByRole('button', { name: 'Done' }).click();
  await page.getByRole('cell', { name: 'editor@spotlight.local' }).waitFor();
  const invitee = await browser.newContext();
  const joining = await invitee.newPage();
  await joining.goto(link);
  await joining.locator('#password').fill('editor-password-123');
  await joining.getByRole('button', { name: 'Accept invitation' }).click();
  await joining.getByRole('heading', { name: 'Tours' }).waitFor();
  await invitee.close();
  await page.getByRole('textbox', { name: 'E-mail of the new member' }).fill('later@spotlight.local');
  await page.getByRole('button', { name: 'Invite' }).click();
  await page.getByRole('button', { name: 'Done' }).click();
  await page.getByRole('button', { name: 'Withdraw' }).click();
  await page.getByRole('status').getByText('Invitation withdrawn.').waitFor();
  await page.reload();
  await page.getByRole('heading', { name: 'Members' }).waitFor();
  await page.getByRole('combobox', { name: 'Role of editor@spotlight.local' }).selectOption('viewer');
  await page.getByRole('status').getByText('Role changed.').waitFor();
  await page.screenshot({ path: `${shots}members.png` });
  assert.deepEqual(await axe(page), [], 'members page');
  await page.getByRole('row', { name: /editor@spotlight.local/ }).getByRole('button', { name: 'Remove' }).click();
  await page.getByRole('status').getByText('Member removed.').waitFor();
  await page.close();
});

test('survey results: answers from the demo app show as a distribution, NPS and free text', async () => {
  const user = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const app = await user.newPage();
  await app.goto(`${server.base}/demo/reports`);
  const card = app.locator('spotlight-root').locator('.card');
  await card.getByRole('button', { name: '9 out of 10' }).click();
  await card.getByRole('textbox').fill('More charts, please');
  await card.getByRole('button', { name: 'Submit' }).click();
  await card.waitFor({ state: 'detached' });
  await app.waitForFunction(() => Object.keys(localStorage).filter((k) => k.endsWith(':queue')).every((k) => localStorage.getItem(k) === '[]'), null, { timeout: 10_000 });
  await user.close();

  const { email, password } = server.demoLogin;
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  await page.goto(`${server.base}/app/`);
  await page.locator('#email').fill(email);
  await page.locator('#password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('link', { name: 'Analytics' }).click();
  await page.getByRole('combobox', { name: 'Tour' }).selectOption({ label: 'Reports feedback' });
  const answers = page.getByRole('heading', { name: 'Survey answers' });
  await answers.waitFor();
  const text = await page.locator('.survey').allTextContents();
  assert.match(text[0], /1 response · NPS 100 · average 9\.0/);
  assert.match(text[1], /More charts, please/);
  await page.screenshot({ path: `${shots}survey-results.png`, fullPage: true });
  assert.deepEqual(await axe(page), [], 'survey results');

  // An A/B test: a tour on /demo/projects with two arms, converting on project_created.
  await page.evaluate(async () => {
    const me = await (await fetch('/v1/auth/me')).json();
    const h = { 'content-type': 'application/json', 'x-csrf-token': me.csrf_token };
    const t = await (await fetch('/v1/admin/tours', { method: 'POST', headers: h, body: JSON.stringify({
      name: 'Projects A/B', pages: [{ match: 'exact', pattern: '/demo/projects' }],
      steps: [{ kind: 'modal', title: 'Projects live here', body: '<p>Create one.</p>' }],
      experiment: { goal_event: 'project_created', arms: [{ name: 'control', weight: 1 }, { name: 'b', weight: 1 }] },
    }) })).json();
    await fetch(`/v1/admin/tours/${t.id}/publish`, { method: 'POST', headers: h, body: JSON.stringify({ environment: 'production' }) });
  });
  const buyer = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const shop = await buyer.newPage();
  await shop.goto(`${server.base}/demo/projects`);
  const ab = shop.locator('spotlight-root').locator('.card');
  await ab.getByText('Projects live here').waitFor();
  await shop.keyboard.press('Escape');
  await shop.locator('#project-name').fill('From the A/B test');
  await shop.getByRole('button', { name: 'Create project' }).click();
  await shop.waitForTimeout(300);
  await shop.waitForFunction(() => Object.keys(localStorage).filter((k) => k.endsWith(':queue')).every((k) => localStorage.getItem(k) === '[]'), null, { timeout: 10_000 });
  await buyer.close();
  await page.reload();
  await page.getByRole('combobox', { name: 'Tour' }).selectOption({ label: 'Projects A/B' });
  const exp = page.getByRole('heading', { name: /Experiment: conversion on “project_created”/ });
  await exp.waitFor();
  const rows = await page.locator('table').last().locator('tbody tr').allTextContents();
  assert.equal(rows.length, 2);
  assert.ok(rows.some((r) => /^(control|b)11100\.0 %/.test(r)), `one arm exposed and converted: ${rows}`);
  await page.screenshot({ path: `${shots}experiment-results.png`, fullPage: true });

  // The overview counts what happened across the tests above.
  await page.getByRole('link', { name: 'Overview' }).click();
  await page.getByRole('heading', { name: 'Overview' }).waitFor();
  const kpi = async (name) => Number(await page.locator('.kpis div', { hasText: name }).locator('dd').first().textContent());
  assert.ok((await kpi('Tour starts')) >= 2, 'tour starts counted');
  assert.ok((await kpi('Active users')) >= 2, 'active users counted');
  await page.getByRole('row', { name: /Reports feedback/ }).waitFor();
  await page.locator('.chart canvas').waitFor();
  await page.screenshot({ path: `${shots}overview.png`, fullPage: true });
  assert.deepEqual(await axe(page), [], 'overview');
  await page.close();
});

test('structured editors: pick a target on the demo page, rich text, preview a draft, compare versions; audiences count who matches; surveys, experiments, identity monitor', async () => {
  const { email, password } = server.demoLogin;
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  const problems = [];
  page.on('pageerror', (e) => problems.push(e.message));
  await page.goto(`${server.base}/app/`);
  await page.locator('#email').fill(email);
  await page.locator('#password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Tours' }).waitFor();
  // `demo-admin` is an in-app admin (identified, as a signed-in user of the app would be; anonymous
  // users never are, nor unverified ones while a verification method is set, as an earlier test did).
  await page.evaluate(async () => {
    const me = await (await fetch('/v1/auth/me')).json();
    const r = await fetch('/v1/admin/settings', { method: 'PATCH', headers: { 'content-type': 'application/json', 'x-csrf-token': me.csrf_token }, body: JSON.stringify({
      identity_verification: { production: { mode: 'off', method: { type: 'none' } } },
      admin_detection: { strategy: 'composite', mode: 'any', strategies: [{ strategy: 'table', user_ids: ['demo-admin'] }, { strategy: 'jwt_role', claim: 'role', role: 'admin' }] },
    }) });
    if (!r.ok) throw new Error(`settings ${r.status}`);
  });
  // In the demo app (same browser), sign in as the demo admin: the app identifies its user
  // before the SDK has loaded, and the SDK applies that queued call once it starts.
  const demo = await context.newPage();
  await demo.goto(`${server.base}/demo/elsewhere`);
  await demo.getByRole('button', { name: /sign in as the demo admin/ }).click();
  await demo.getByRole('button', { name: /Signed in as the demo admin/ }).waitFor();
  await demo.locator('spotlight-root').getByRole('toolbar', { name: 'Spotlight editor' }).waitFor();
  await demo.close();

  // A tour: the target is picked on the demo page through the SDK's element picker.
  await page.getByRole('button', { name: 'New tour' }).click();
  await page.getByRole('heading', { name: 'Untitled tour' }).waitFor();
  await page.getByLabel('Name', { exact: true }).fill('Picked tour');
  await page.getByRole('button', { name: 'Add page rule' }).click();
  // A page of the demo app where nothing else is published (its SPA shows the home view).
  await page.getByLabel('Pattern').fill('/demo/elsewhere');
  const step = (i) => page.getByRole('group', { name: `Step ${i}` });
  await page.getByRole('button', { name: 'Add step' }).click();
  await step(2).getByLabel('Title', { exact: true }).fill('Name your team');
  await step(2).getByLabel('Page to pick on').fill(`${server.base}/demo/elsewhere`);
  const [popup] = await Promise.all([page.waitForEvent('popup'), step(2).getByRole('button', { name: 'Pick on page' }).click()]);
  await popup.locator('spotlight-root').getByRole('toolbar', { name: 'Spotlight editor' }).waitFor();
  // The editor's bar sits over the search box; it moves away when the pointer comes near.
  const box = await popup.locator('#search').boundingBox();
  await popup.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
  await popup.locator('#search').click();
  await step(2).getByText(/Picked on/).waitFor();
  assert.match(await step(2).getByLabel(/Target selectors/).inputValue(), /search/);
  // Rich text: bold, then the body is kept to the allowed tags.
  const body = step(2).getByRole('textbox', { name: 'Body' });
  await body.click();
  await page.keyboard.type('Call it ');
  await step(2).getByRole('button', { name: /Bold/ }).click();
  await page.keyboard.type('anything');
  await step(2).getByRole('button', { name: 'HTML' }).click();
  assert.match(await step(2).getByRole('textbox', { name: 'Body' }).inputValue(), /Call it <b>anything<\/b>/);
  await page.getByRole('button', { name: 'Save' }).click();
  await page.getByRole('status').getByText('Saved.').waitFor();
  const saved = await page.evaluate(async () => (await (await fetch(`/v1/admin${location.pathname.replace('/app', '')}`)).json()).document);
  assert.ok(saved.steps[1].target.selectors.some((s) => s.includes('search')), JSON.stringify(saved.steps[1]));
  assert.match(saved.steps[1].body, /<b>anything<\/b>/);
  await page.screenshot({ path: `${shots}tour-editor-picked.png`, fullPage: true });

  // Preview the unpublished draft on the page (admins only): the picked step shows on #search.
  const [preview] = await Promise.all([page.waitForEvent('popup'), page.getByRole('button', { name: 'Preview on page' }).click()]);
  await preview.waitForURL(/spotlight_preview=1/);
  await preview.locator('spotlight-root').locator('.card').getByText('Welcome', { exact: true }).waitFor();
  await preview.keyboard.press('ArrowRight');
  await preview.locator('spotlight-root').locator('.card').getByText('Name your team').waitFor();
  await preview.close();
  await popup.close();

  // Publish, change the draft, and compare v1 with it.
  await page.getByRole('button', { name: 'Publish to staging' }).click();
  await page.getByRole('status').getByText('Published to staging.').waitFor();
  await step(2).getByLabel('Title', { exact: true }).fill('Name your crew');
  await page.getByRole('button', { name: 'Compare v1 with the draft' }).click();
  const diff = page.locator('figure.diff');
  await diff.locator('.del', { hasText: 'Name your team' }).waitFor();
  await diff.locator('.ins', { hasText: 'Name your crew' }).waitFor();
  await page.screenshot({ path: `${shots}version-diff.png`, fullPage: true });
  assert.deepEqual(await axe(page), [], 'tour editor with a diff');

  // An announcement in its form; an error shows at its field.
  await page.getByRole('navigation', { name: 'Sections' }).getByRole('link', { name: 'Announcements' }).click();
  await page.getByRole('button', { name: 'New announcement' }).click();
  await page.getByRole('heading', { name: 'Untitled announcement' }).waitFor();
  await page.getByLabel('Type', { exact: true }).selectOption('modal');
  await page.getByLabel('Title', { exact: true }).fill('Dark mode is here');
  await page.getByRole('button', { name: 'Add button' }).click();
  await page.getByLabel('Action').selectOption('link');
  await page.getByLabel('URL', { exact: true }).fill('javascript:alert(1)');
  await page.getByRole('button', { name: 'Save' }).click();
  await page.locator('.field.invalid', { hasText: 'buttons[0]' }).waitFor();
  await page.getByLabel('Action').selectOption('start_tour');
  await page.getByRole('button', { name: 'Save' }).click();
  await page.getByRole('status').getByText('Saved.').waitFor();
  await page.screenshot({ path: `${shots}announcement-editor.png`, fullPage: true });
  assert.deepEqual(await axe(page), [], 'announcement editor');
  // The object's kill switch hides it everywhere at once.
  await page.getByRole('button', { name: 'Kill switch: hide everywhere now' }).click();
  await page.getByRole('status').getByText('Kill switch on: shown nowhere.').waitFor();
  await page.getByText('kill switch on', { exact: true }).waitFor();
  await page.getByRole('button', { name: 'Turn the kill switch off' }).click();
  await page.getByRole('status').getByText('Kill switch off.').waitFor();
  // A lost session: the save returns to the login; signing in again lands on the same
  // editor with the edit still there, and it saves.
  await page.getByLabel('Title', { exact: true }).fill('Dark mode is finally here');
  await page.context().clearCookies();
  await page.getByRole('button', { name: 'Save' }).click();
  await page.getByRole('heading', { name: 'Sign in to Spotlight' }).waitFor();
  await page.locator('#email').fill(email);
  await page.locator('#password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Untitled announcement' }).waitFor();
  assert.equal(await page.getByLabel('Title', { exact: true }).inputValue(), 'Dark mode is finally here');
  await page.getByRole('button', { name: 'Save' }).click();
  await page.getByRole('status').getByText('Saved.').waitFor();

  // An audience: a parse error inline, then a count of who matches.
  await page.getByRole('navigation', { name: 'Sections' }).getByRole('link', { name: 'Audiences' }).click();
  await page.getByRole('button', { name: 'New audience' }).click();
  await page.getByRole('heading', { name: 'Untitled audience' }).waitFor();
  const rule = page.getByLabel('Rule', { exact: true });
  await rule.fill('plan = ');
  await page.locator('.field.invalid', { hasText: /rule: .*line 1/ }).waitFor();
  await rule.fill('event("step_viewed") >= 0');
  await page.getByRole('status').getByText(/Matches \d+ of \d+ end users/).waitFor();
  const counted = await page.getByRole('status').filter({ hasText: 'Matches' }).textContent();
  const [, matched, of] = counted.match(/Matches (\d+) of (\d+)/);
  assert.ok(Number(of) >= 1 && matched === of, counted);
  await page.screenshot({ path: `${shots}audience-rule.png` });

  // Analytics over a custom date range.
  await page.getByRole('link', { name: 'Analytics' }).click();
  await page.getByRole('combobox', { name: 'Tour' }).selectOption({ label: 'Reports feedback' });
  await page.getByRole('combobox', { name: 'Date range' }).selectOption({ label: 'Custom dates…' });
  const today = new Date().toISOString().slice(0, 10);
  await page.getByLabel('From', { exact: true }).fill(today);
  await page.getByLabel('to', { exact: true }).fill(today);
  await page.locator('.kpis').waitFor();
  await page.locator('.chart canvas').waitFor();
  assert.deepEqual(await axe(page), [], 'analytics with a custom range');
  // Announcements and checklists have theirs.
  await page.getByRole('button', { name: 'Announcements', exact: true }).click();
  await page.getByRole('combobox', { name: 'Announcement' }).selectOption({ label: 'Demo banner' });
  await page.locator('.kpis', { hasText: 'Click rate' }).waitFor();
  assert.ok(Number(await page.locator('.kpis div', { hasText: 'Views' }).locator('dd').textContent()) >= 1, 'the demo banner was seen');
  await page.locator('.chart canvas').waitFor();
  await page.screenshot({ path: `${shots}announcement-analytics.png`, fullPage: true });
  await page.getByRole('button', { name: 'Checklists', exact: true }).click();
  await page.getByRole('combobox', { name: 'Checklist' }).selectOption({ label: 'Get started' });
  await page.getByRole('heading', { name: 'Items' }).waitFor();
  assert.equal(await page.locator('table tbody tr').count(), 3);
  assert.deepEqual(await axe(page), [], 'checklist analytics');

  // Surveys with responses; experiments; identity verification's monitor figures.
  await page.getByRole('link', { name: 'Surveys' }).click();
  await page.getByRole('heading', { name: 'Surveys' }).waitFor();
  await page.getByRole('heading', { name: 'Responses' }).waitFor();
  await page.screenshot({ path: `${shots}surveys.png`, fullPage: true });
  assert.deepEqual(await axe(page), [], 'surveys page');
  await page.getByRole('link', { name: 'Experiments' }).click();
  await page.getByRole('heading', { name: 'Experiments' }).waitFor();
  await page.screenshot({ path: `${shots}experiments.png`, fullPage: true });
  assert.deepEqual(await axe(page), [], 'experiments page');

  await page.getByRole('link', { name: 'Settings', exact: true }).click();
  await page.getByRole('heading', { name: 'Identity verification' }).waitFor();
  assert.equal(await page.getByLabel('Who gets the in-page editor').inputValue(), 'composite');
  await page.getByLabel('Method').selectOption('hs256');
  await page.getByLabel(/New secret/).fill('m'.repeat(40));
  await page.getByLabel('Mode').selectOption('monitor');
  await page.getByRole('button', { name: 'Save identity verification' }).click();
  await page.getByRole('status').getByText('Identity verification saved for production.').waitFor();
  // An unverified user id: served, and counted as one enforcing would refuse.
  const r = await fetch(`${server.base}/v1/sdk/config?user_id=someone&url=/demo/`, { headers: { 'x-spotlight-key': server.demoKey } });
  assert.equal(r.status, 200);
  await page.reload();
  const monitor = page.getByRole('group', { name: 'Monitor figures' });
  await monitor.waitFor();
  assert.match(await monitor.textContent(), /[1-9]\d* of [1-9]\d* SDK requests would be refused/);
  await page.screenshot({ path: `${shots}identity-monitor.png`, fullPage: true });
  assert.deepEqual(await axe(page), [], 'settings with monitor figures');
  // Back to off, so the other tests' anonymous users are not counted against.
  await page.getByLabel('Mode').selectOption('off');
  await page.getByRole('button', { name: 'Save identity verification' }).click();
  await page.getByRole('status').getByText('Identity verification saved for production.').waitFor();
  assert.deepEqual(problems, []);
  await context.close();
});

test('an end user\'s data: exported as one JSON file, erased once the id is typed; then gone', async () => {
  const visitor = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const app = await visitor.newPage();
  await app.goto(`${server.base}/demo/`);
  await app.waitForFunction(() => window.spotlight && !window.spotlight.q);
  await app.evaluate(() => window.spotlight.track('privacy_probe', { plan: 'pro' }));
  await app.waitForFunction(() => Object.keys(localStorage).filter((k) => k.endsWith(':queue')).every((k) => localStorage.getItem(k) === '[]'), null, { timeout: 10_000 });
  const endUser = await app.evaluate(() => localStorage.getItem(Object.keys(localStorage).find((k) => k.endsWith(':anon'))));
  await visitor.close();

  const { email, password } = server.demoLogin;
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 }, acceptDownloads: true });
  await page.goto(`${server.base}/app/`);
  await page.locator('#email').fill(email);
  await page.locator('#password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('link', { name: 'End users' }).click();
  await page.getByRole('searchbox', { name: 'User id' }).fill(endUser);
  await page.keyboard.press('Enter');
  await page.getByRole('heading', { name: 'Privacy' }).waitFor();
  // The export: one JSON document with the person's events.
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Export data' }).click()]);
  const exported = JSON.parse(readFileSync(await download.path(), 'utf8'));
  assert.equal(exported.user_id, endUser);
  assert.ok(exported.environments.production.events.some((e) => e.name === 'privacy_probe'), 'the tracked event is in the export');
  // Erase: only once the id is typed exactly.
  const erase = page.getByRole('button', { name: 'Erase user' });
  assert.equal(await erase.isDisabled(), true);
  await page.getByRole('textbox', { name: /to erase this person/ }).fill(endUser.slice(0, -1));
  assert.equal(await erase.isDisabled(), true, 'a near miss does not arm it');
  await page.getByRole('textbox', { name: /to erase this person/ }).fill(endUser);
  await erase.click();
  const done = page.getByRole('status');
  await done.getByText('was erased').waitFor();
  assert.match(await done.textContent(), /production\d+/);
  await page.screenshot({ path: `${shots}end-user-erased.png` });
  assert.deepEqual(await axe(page), [], 'erasure result');
  await page.keyboard.press('Escape');
  await page.getByRole('button', { name: 'Look up' }).click();
  await page.getByRole('alert').getByText(/No end user/).waitFor();
  await page.close();
});

test('a CSV of users is imported from the end-users page: counts, and the refused rows by line', async () => {
  const { email, password } = server.demoLogin;
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  await page.goto(`${server.base}/app/`);
  await page.locator('#email').fill(email);
  await page.locator('#password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('link', { name: 'End users' }).click();
  await page.getByRole('heading', { name: 'Import users' }).waitFor();
  const rows = ['user_id,plan,seats,beta'];
  for (let i = 1; i <= 2000; i++) rows.push(`imp-${i},${i % 3 ? 'team' : 'free'},${i % 50},${i % 2 === 0}`);
  rows.push('imp-7,team,1,true'); // a duplicate id
  rows.push('anon-nope,team,1,true'); // an id the SDK keeps for anonymous users
  rows.push('imp-x,team'); // too few fields
  await page.getByLabel('File to import').setInputFiles({ name: 'users.csv', mimeType: 'text/csv', buffer: Buffer.from(rows.join('\n') + '\n') });
  await page.getByRole('button', { name: 'Import into production' }).click();
  const report = page.getByRole('status');
  await report.locator('.kpis').waitFor();
  const kpis = await report.locator('.kpis').textContent();
  assert.match(kpis, /Rows2003/);
  assert.match(kpis, /Imported2000/);
  assert.match(kpis, /Refused3/);
  const refused = await report.locator('tbody tr').allTextContents();
  assert.equal(refused.length, 3);
  assert.match(refused[0], /^2002duplicate id/);
  assert.match(refused[2], /^2004invalid row/);
  await page.screenshot({ path: `${shots}users-import.png` });
  assert.deepEqual(await axe(page), [], 'import report');
  // The imported attributes are there.
  await page.getByRole('searchbox', { name: 'User id' }).fill('imp-10');
  await page.keyboard.press('Enter');
  await page.getByRole('heading', { name: 'Attributes' }).waitFor();
  assert.match(await page.locator('.profile').textContent(), /seats10/);
  await page.close();
});

test('accounts: a CSV of accounts is imported; an account shows its attributes, events and members, who link back to it', async () => {
  const { email, password } = server.demoLogin;
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  await page.goto(`${server.base}/app/`);
  await page.locator('#email').fill(email);
  await page.locator('#password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('link', { name: 'Accounts' }).click();
  await page.getByRole('heading', { name: 'Import accounts' }).waitFor();
  const csv = 'account_id,plan,seats,sso\nacme-co,team,40,false\nglobex,free,3,false\nacme-co,free,1,true\n';
  await page.getByLabel('File to import').setInputFiles({ name: 'accounts.csv', mimeType: 'text/csv', buffer: Buffer.from(csv) });
  await page.getByRole('button', { name: 'Import into production' }).click();
  const report = page.getByRole('status');
  await report.locator('.kpis').waitFor();
  assert.match(await report.locator('.kpis').textContent(), /Imported2.*Refused1/);
  assert.match(await report.locator('tbody').textContent(), /^4duplicate id/);
  // The list shows what was imported.
  await page.getByRole('link', { name: 'globex' }).waitFor();
  await page.screenshot({ path: `${shots}accounts-import.png` });

  // Someone of acme-co uses the app: the SDK names the account on every event.
  const visitor = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const app = await visitor.newPage();
  await app.goto(`${server.base}/demo/`);
  await app.waitForFunction(() => window.spotlight && !window.spotlight.q);
  await app.evaluate(() => { window.spotlight.group('acme-co', { region: 'eu' }); window.spotlight.track('teammate_invited'); });
  await app.waitForFunction(() => Object.keys(localStorage).filter((k) => k.endsWith(':queue')).every((k) => localStorage.getItem(k) === '[]'), null, { timeout: 10_000 });
  const endUser = await app.evaluate(() => localStorage.getItem(Object.keys(localStorage).find((k) => k.endsWith(':anon'))));
  await visitor.close();

  await page.reload();
  await page.getByRole('link', { name: 'acme-co' }).click();
  await page.getByRole('heading', { name: 'Account acme-co' }).waitFor();
  const profile = page.locator('.profile');
  await profile.getByRole('heading', { name: 'Members', exact: true }).waitFor();
  const text = await profile.textContent();
  assert.match(text, /seats40/, 'imported attributes, typed');
  assert.match(text, /teammate_invited1/, 'the member\'s event counts for the account');
  assert.ok(text.includes(endUser), 'the member is listed');
  await page.screenshot({ path: `${shots}account.png`, fullPage: true });
  assert.deepEqual(await axe(page), [], 'account page');
  // The member's page names the account, and links back.
  await profile.getByRole('link', { name: endUser }).click();
  await page.getByRole('heading', { name: 'Attributes' }).waitFor();
  await page.locator('.kpis').getByRole('link', { name: 'acme-co' }).click();
  await page.getByRole('heading', { name: 'Account acme-co' }).waitFor();
  // The account's own analytics, by day; an unknown account is named as such.
  await page.getByRole('link', { name: 'Analytics of this account' }).click();
  assert.equal(await page.getByRole('searchbox', { name: 'Account' }).inputValue(), 'acme-co');
  await page.locator('.kpis').waitFor();
  assert.equal(await page.getByRole('alert').count(), 0);
  await page.getByRole('searchbox', { name: 'Account' }).fill('nobody-co');
  await page.keyboard.press('Enter');
  await page.getByRole('alert').getByText(/no such account/).waitFor();
  await page.close();
});

/** Signs the demo owner in on a new 1280×800 page; page errors are collected. */
async function ownerPage() {
  const { email, password } = server.demoLogin;
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  const problems = [];
  page.on('pageerror', (e) => problems.push(e.message));
  await page.goto(`${server.base}/app/`);
  await page.locator('#email').fill(email);
  await page.locator('#password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Tours' }).waitFor();
  return { page, problems };
}

/** The owner invites `address` with `role`; they join in a browser of their own. */
async function inviteAndJoin(page, address, role, password) {
  await page.getByRole('link', { name: 'Members', exact: true }).click();
  await page.getByRole('textbox', { name: 'E-mail of the new member' }).fill(address);
  await page.getByRole('combobox', { name: 'Role of the new member' }).selectOption(role);
  await page.getByRole('button', { name: 'Invite' }).click();
  const link = await page.locator('.secret code').textContent();
  await page.getByRole('button', { name: 'Done' }).click();
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const member = await context.newPage();
  await member.goto(link);
  await member.locator('#password').fill(password);
  await member.getByRole('button', { name: 'Accept invitation' }).click();
  await member.getByRole('heading', { name: 'Tours' }).waitFor();
  return { context, member };
}

/** RFC 6238 code for a base32 secret at `unixSecs` (what an authenticator app shows). */
async function totp(secretBase32, unixSecs) {
  const { createHmac } = await import('node:crypto');
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = '';
  for (const ch of secretBase32.replace(/=+$/, '')) bits += alphabet.indexOf(ch).toString(2).padStart(5, '0');
  const key = Buffer.from(bits.match(/.{8}/g).map((b) => parseInt(b, 2)));
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(unixSecs / 30)));
  const mac = createHmac('sha1', key).update(counter).digest();
  const at = mac[mac.length - 1] & 0xf;
  return String((mac.readUInt32BE(at) & 0x7fffffff) % 1_000_000).padStart(6, '0');
}

test('two-factor sign-in: a member turns it on with the QR code, signs in with a code; an owner requires it, is sent to enrol, and lifts it again', async () => {
  const { password } = server.demoLogin;
  const now = () => Date.now() / 1000;
  const { page, problems } = await ownerPage();
  // An admin joins by invitation, in a browser of their own.
  const { context: other, member } = await inviteAndJoin(page, 'mfa@spotlight.local', 'admin', 'mfa-password-12345');

  // Security: set up, scan (here: read the key), confirm with a code.
  await member.getByRole('link', { name: 'Security', exact: true }).click();
  await member.getByRole('heading', { name: 'Sign-in security' }).waitFor();
  await member.getByRole('button', { name: 'Set up two-factor sign-in' }).click();
  await member.getByRole('img', { name: 'QR code of your two-factor secret' }).waitFor();
  const secret = (await member.getByTestId('totp-secret').textContent()).trim();
  assert.match(secret, /^[A-Z2-7]{32}$/);
  await member.screenshot({ path: `${shots}two-factor-setup.png` });
  assert.deepEqual(await axe(member), [], 'two-factor setup');
  await member.getByLabel('Code from the app').fill('000000');
  await member.getByRole('button', { name: 'Turn on' }).click();
  await member.getByRole('alert').getByText(/wrong or already used code/).waitFor();
  await member.getByLabel('Code from the app').fill(await totp(secret, now()));
  await member.getByRole('button', { name: 'Turn on' }).click();
  await member.getByRole('list', { name: 'Recovery codes' }).waitFor();
  const codes = await member.getByRole('list', { name: 'Recovery codes' }).getByRole('listitem').allTextContents();
  assert.equal(codes.length, 10);
  await member.screenshot({ path: `${shots}two-factor-recovery-codes.png` });
  await member.getByRole('button', { name: 'I have saved them' }).click();
  await member.getByText(/On: signing in asks for a code/).waitFor();

  // Signing in again asks for the code after the password; the next step's
  // code (the one that turned it on was used) lets them in.
  await member.getByRole('button', { name: 'Log out' }).click();
  await member.locator('#email').fill('mfa@spotlight.local');
  await member.locator('#password').fill('mfa-password-12345');
  await member.getByRole('button', { name: 'Sign in' }).click();
  await member.getByLabel('Code from your authenticator app').waitFor();
  await member.screenshot({ path: `${shots}login-two-factor.png` });
  assert.deepEqual(await axe(member), [], 'login, second step');
  await member.getByLabel('Code from your authenticator app').fill(await totp(secret, now() + 30));
  await member.getByRole('button', { name: 'Verify' }).click();
  await member.getByRole('heading', { name: 'Tours' }).waitFor();
  // …and a recovery code works in its place.
  await member.getByRole('button', { name: 'Log out' }).click();
  await member.locator('#email').fill('mfa@spotlight.local');
  await member.locator('#password').fill('mfa-password-12345');
  await member.getByRole('button', { name: 'Sign in' }).click();
  await member.getByLabel('Code from your authenticator app').fill(codes[0]);
  await member.getByRole('button', { name: 'Verify' }).click();
  await member.getByRole('heading', { name: 'Tours' }).waitFor();
  await other.close();

  // The owner requires it for everyone; without it themselves, the owner is
  // sent to enrol before anything else.
  await page.getByRole('link', { name: 'Settings', exact: true }).click();
  await page.getByRole('checkbox', { name: 'Require two-factor sign-in for every member' }).click();
  await page.getByRole('status').getByText('Two-factor sign-in is now required.').waitFor();
  await page.reload();
  await page.getByRole('alert').getByText('This team requires two-factor sign-in.').waitFor();
  await page.screenshot({ path: `${shots}two-factor-required.png` });
  assert.equal((await page.request.get(`${server.base}/v1/admin/tours`)).status(), 403);
  await page.getByRole('button', { name: 'Set up two-factor sign-in' }).click();
  const ownerSecret = (await page.getByTestId('totp-secret').textContent()).trim();
  await page.getByLabel('Code from the app').fill(await totp(ownerSecret, now()));
  await page.getByRole('button', { name: 'Turn on' }).click();
  await page.getByRole('list', { name: 'Recovery codes' }).waitFor();
  const ownerCodes = await page.getByRole('list', { name: 'Recovery codes' }).getByRole('listitem').allTextContents();
  await page.getByRole('button', { name: 'I have saved them' }).click();
  await page.getByRole('link', { name: 'Settings', exact: true }).click();
  await page.getByRole('heading', { name: 'Settings' }).waitFor();
  // Lifted again, and the owner's own second factor turned off (with a
  // recovery code): the demo login is as it was.
  await page.getByRole('checkbox', { name: 'Require two-factor sign-in for every member' }).click();
  await page.getByRole('status').getByText('Two-factor sign-in is no longer required.').waitFor();
  await page.getByRole('link', { name: 'Security', exact: true }).click();
  await page.getByLabel('Password', { exact: true }).fill(password);
  await page.getByLabel(/^Current code from the app/).fill(ownerCodes[0]);
  await page.getByRole('button', { name: 'Turn off' }).click();
  await page.getByText('Off: your password alone signs you in.').waitFor();
  assert.deepEqual(problems, []);
  await page.close();
});

test('publish approvals: production needs approval; an editor\'s publish waits in the queue with its diff; the owner approves it, and the audit log shows it', async () => {
  const { page, problems } = await ownerPage();
  await page.getByRole('link', { name: 'Settings', exact: true }).click();
  await page.getByRole('checkbox', { name: 'Editors need approval to publish to production' }).check();
  await page.getByRole('button', { name: 'Save publishing rules' }).click();
  await page.getByRole('status').getByText('Publishing rules saved.').waitFor();

  // An editor joins and publishes a renamed tour to production: a request.
  const { context: other, member: writer } = await inviteAndJoin(page, 'writer@spotlight.local', 'editor', 'writer-password-123');
  // Whichever tour the earlier tests left first in the list.
  const tours = await (await page.request.get(`${server.base}/v1/admin/tours?status=published&limit=1`)).json();
  const { id: tourId, name: oldName } = tours.items[0];
  const newName = `${oldName}, 2027`;
  await writer.goto(`${server.base}/app/tours/${tourId}`);
  await writer.getByRole('heading', { name: oldName }).waitFor();
  await writer.getByLabel('Name', { exact: true }).fill(newName);
  await writer.getByRole('button', { name: 'Save' }).click();
  await writer.getByRole('status').getByText('Saved.').waitFor();
  await writer.getByRole('button', { name: 'Publish to production' }).click();
  await writer.getByRole('status').getByText(/Sent for approval/).waitFor();
  await writer.getByRole('link', { name: 'Approvals', exact: true }).click();
  await writer.getByText('Your request: another admin or owner decides it.').waitFor();
  assert.equal(await writer.getByRole('button', { name: 'Approve and publish' }).count(), 0);
  await other.close();

  // The owner sees it in the queue, with the change against production.
  await page.getByRole('link', { name: 'Approvals', exact: true }).click();
  const request = page.getByRole('article', { name: `${newName} to production` });
  await request.waitFor();
  const row = request.getByRole('row', { name: /name/ });
  // Live now (what production serves) → requested.
  assert.ok((await row.textContent()).endsWith(newName), await row.textContent());
  await page.screenshot({ path: `${shots}approvals.png`, fullPage: true });
  assert.deepEqual(await axe(page), [], 'approvals page');
  await request.getByRole('button', { name: 'Approve and publish' }).click();
  await page.getByRole('status').getByText(`Approved: ${newName} is live in production.`).waitFor();
  await page.getByText('Nothing waits for approval.').waitFor();
  await page.getByRole('cell', { name: /approved by demo@spotlight.local/ }).waitFor();

  // The audit log: the request by the editor, the approval by the owner.
  await page.getByRole('link', { name: 'Audit log', exact: true }).click();
  await page.getByRole('combobox', { name: 'Filter by object kind' }).selectOption('tour');
  await page.getByRole('cell', { name: 'tour.publish_approve' }).first().waitFor();
  await page.getByRole('cell', { name: 'tour.publish_request' }).first().waitFor();
  await page.screenshot({ path: `${shots}approval-audit.png` });
  const audit = await (await page.request.get(`${server.base}/v1/admin/audit?limit=20`)).json();
  const approval = audit.items.find((e) => e.action === 'tour.publish_approve');
  assert.equal(approval.actor, 'demo@spotlight.local');
  assert.equal(approval.after.requested_by, 'writer@spotlight.local');
  assert.ok(approval.changes.some((c) => c.path === 'document.name' && c.after === newName), JSON.stringify(approval.changes));
  const { before, after, ...shown } = approval;
  console.log(`# the approval in the audit log: ${JSON.stringify({ ...shown, after: { ...after, document: '…' }, changes: approval.changes.filter((c) => c.path.startsWith('document.')) })}`);

  // As it was: no approval needed.
  await page.getByRole('link', { name: 'Settings', exact: true }).click();
  await page.getByRole('checkbox', { name: 'Editors need approval to publish to production' }).uncheck();
  await page.getByRole('button', { name: 'Save publishing rules' }).click();
  await page.getByRole('status').getByText('Publishing rules saved.').waitFor();
  assert.deepEqual(problems, []);
  await page.close();
});

test('translations: XLIFF downloaded for French, translated, uploaded; the report names what was refused; the draft holds the French', async () => {
  const { page, problems } = await ownerPage();
  await page.getByRole('link', { name: 'Translations', exact: true }).click();
  await page.getByRole('heading', { name: 'Translations', exact: true }).waitFor();
  await page.getByLabel('Language').fill('fr');
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: 'Download' }).click()]);
  assert.equal(download.suggestedFilename(), 'spotlight-fr.xlf');
  const xliff = readFileSync(await download.path(), 'utf8');
  assert.match(xliff, /<xliff xmlns="urn:oasis:names:tc:xliff:document:2.0"/);
  // The translator fills the first unit, and leaves an id that does not exist.
  const first = xliff.match(/<file id="o([0-9a-f-]{36})"[\s\S]*?<unit id="([^"]+)">\s*<segment>\s*<source>([^<]*)<\/source>/);
  assert.ok(first, xliff.slice(0, 2000));
  const [, objectId, unitId, source] = first;
  const translated = xliff
    .replace(`<source>${source}</source>`, `<source>${source}</source><target>FR ${source}</target>`)
    .replace(`<unit id="${unitId}">`, `<unit id="steps.nowhere.title"><segment><source>x</source><target>y</target></segment></unit><unit id="${unitId}">`);
  await page.getByLabel('Translated file').setInputFiles({ name: 'spotlight-fr.xlf', mimeType: 'application/xliff+xml', buffer: Buffer.from(translated) });
  await page.getByRole('button', { name: 'Upload' }).click();
  await page.getByRole('status').getByText(/1 strings applied in fr; 1 refused/).waitFor();
  await page.getByRole('cell', { name: `${objectId}:steps.nowhere.title` }).waitFor();
  await page.screenshot({ path: `${shots}translations.png`, fullPage: true });
  assert.deepEqual(await axe(page), [], 'translations page');
  const kind = xliff.includes(`sl:object="${objectId}" sl:kind="tour"`) ? 'tours' : 'content';
  const o = await (await page.request.get(`${server.base}/v1/admin/${kind}/${objectId}`)).json();
  assert.match(JSON.stringify(o.document.locales.fr), new RegExp(`FR ${source.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
  assert.deepEqual(problems, []);
  await page.close();
});

/** The test OpenID provider (npm's oidc-provider, see crates/spotlight-server/tests/oidc). */
async function startProvider(redirectUri) {
  const { spawn } = await import('node:child_process');
  const dir = new URL('../../crates/spotlight-server/tests/oidc/', import.meta.url).pathname;
  const child = spawn(process.execPath, ['provider.mjs', redirectUri], { cwd: dir, stdio: ['pipe', 'pipe', 'ignore'] });
  const issuer = await new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d) => { out += d; if (out.includes('\n')) resolve(JSON.parse(out.split('\n')[0]).issuer); });
    child.on('exit', (code) => reject(new Error(`the OpenID provider exited with ${code}`)));
  });
  const control = async (body) => assert.equal((await fetch(`${issuer}/control`, { method: 'POST', body: JSON.stringify(body) })).status, 200);
  return { issuer, control, stop: () => child.kill() };
}

test('single sign-on: the owner sets up the provider; a person of the mapped group signs in by team ID and is an editor; one of no group is sent back with the reason', async () => {
  const { page, problems } = await ownerPage();
  const me = await (await page.request.get(`${server.base}/v1/auth/me`)).json();
  const team = me.tenant.id;
  const idp = await startProvider(`${server.base}/v1/auth/sso/${team}/callback`);
  try {
    await page.getByRole('link', { name: 'Settings', exact: true }).click();
    await page.getByRole('heading', { name: 'Single sign-on' }).waitFor();
    // A wrong issuer is refused at the field, nothing saved.
    await page.getByLabel(/^Issuer URL/).fill(`${idp.issuer}/nowhere`);
    await page.getByLabel('Client ID').fill('spotlight');
    await page.getByLabel(/^Client secret/).fill('spotlight-test-client-secret');
    await page.getByRole('button', { name: 'Save single sign-on' }).click();
    await page.locator('#sso-issuer-error').waitFor();
    assert.equal(await page.getByLabel(/^Issuer URL/).getAttribute('aria-invalid'), 'true');
    await page.getByLabel(/^Issuer URL/).fill(idp.issuer);
    await page.getByLabel(/^Scopes besides openid/).fill('email profile groups');
    await page.getByLabel(/^Groups claim/).fill('groups');
    await page.getByLabel(/^Group = role/).fill('spotlight-editors = editor\nspotlight-admins = admin');
    await page.getByRole('button', { name: 'Save single sign-on' }).click();
    await page.getByRole('status').getByText('Single sign-on saved.').waitFor();
    assert.equal(await page.getByTestId('sso-redirect-uri').textContent(), `${server.base}/v1/auth/sso/${team}/callback`);
    assert.equal(await page.getByLabel(/^Client secret/).inputValue(), '', 'the secret is never shown back');
    await page.getByRole('heading', { name: 'Single sign-on' }).scrollIntoViewIfNeeded();
    await page.screenshot({ path: `${shots}sso-settings.png` });
    assert.deepEqual(await axe(page), [], 'settings with single sign-on');

    // A person of the editors group, new to Spotlight, signs in by team ID.
    await idp.control({ users: { 'grace-sub': { email: 'grace@corp.test', email_verified: true, groups: ['spotlight-editors'] } }, next_user: 'grace-sub' });
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const person = await context.newPage();
    await person.goto(`${server.base}/app/`);
    await person.getByLabel('Team ID').fill(team);
    await person.screenshot({ path: `${shots}login-sso.png` });
    assert.deepEqual(await axe(person), [], 'login with single sign-on');
    await person.getByRole('button', { name: 'Continue with single sign-on' }).click();
    await person.getByRole('heading', { name: 'Tours' }).waitFor();
    const who = await (await person.request.get(`${server.base}/v1/auth/me`)).json();
    assert.equal(who.account.email, 'grace@corp.test');
    assert.equal(who.role, 'editor');
    // Out of the mapped groups: the next sign-in is refused with the reason
    // on the sign-in page (the team ID remembered), and the membership is gone.
    await person.getByRole('button', { name: 'Log out' }).click();
    await idp.control({ users: { 'grace-sub': { email: 'grace@corp.test', email_verified: true, groups: [] } }, next_user: 'grace-sub' });
    assert.equal(await person.getByLabel('Team ID').inputValue(), team);
    await person.getByRole('button', { name: 'Continue with single sign-on' }).click();
    await person.locator('#sso-error').getByText(/no longer grant you a role/).waitFor();
    await person.screenshot({ path: `${shots}login-sso-refused.png` });
    await context.close();
    await page.getByRole('link', { name: 'Members', exact: true }).click();
    await page.getByRole('heading', { name: 'Members' }).waitFor();
    assert.equal(await page.getByText('grace@corp.test').count(), 0);

    // Off again: the demo tenant is as it was.
    await page.getByRole('link', { name: 'Settings', exact: true }).click();
    page.once('dialog', (d) => d.accept());
    await page.getByRole('button', { name: 'Turn single sign-on off' }).click();
    await page.getByRole('status').getByText('Single sign-on is off.').waitFor();
    assert.deepEqual(problems, []);
  } finally {
    idp.stop();
    await page.close();
  }
});

test('invitations by mail: with SMTP set up, the link is mailed to the invitee and shown to nobody; they follow it and join', async () => {
  const { spawn } = await import('node:child_process');
  const { mkdtempSync, rmSync, existsSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  // A real SMTP server (Python's aiosmtpd, in the suite's venv) that keeps what it receives.
  const venv = process.env.SPOTLIGHT_VENV ?? `${process.env.HOME}/.cache/spotlight-venv`;
  const dir = mkdtempSync(join(tmpdir(), 'spotlight-mail-'));
  const mails = join(dir, 'mails.jsonl');
  const smtp = spawn(`${venv}/bin/python`, [new URL('../../crates/spotlight-server/tests/smtp/server.py', import.meta.url).pathname, mails], { stdio: ['pipe', 'pipe', 'ignore'] });
  const port = await new Promise((resolve, reject) => {
    let out = '';
    smtp.stdout.on('data', (d) => { out += d; if (out.includes('\n')) resolve(JSON.parse(out.split('\n')[0]).port); });
    smtp.on('exit', (code) => reject(new Error(`the SMTP server exited with ${code} (is aiosmtpd in ${venv}?)`)));
  });
  const mailing = await startServer({ SPOTLIGHT_SMTP_URL: `smtp://127.0.0.1:${port}`, SPOTLIGHT_MAIL_FROM: 'Spotlight <spotlight@spotlight.local>' });
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    await page.goto(`${mailing.base}/app/`);
    await page.locator('#email').fill(mailing.demoLogin.email);
    await page.locator('#password').fill(mailing.demoLogin.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('link', { name: 'Members', exact: true }).click();
    await page.getByRole('textbox', { name: 'E-mail of the new member' }).fill('mailed@spotlight.local');
    await page.getByRole('combobox', { name: 'Role of the new member' }).selectOption('editor');
    await page.getByRole('button', { name: 'Invite' }).click();
    await page.getByRole('status').getByText('Invitation mailed to mailed@spotlight.local.').waitFor();
    assert.equal(await page.locator('.secret code').count(), 0, 'the link is shown to nobody');
    await page.getByRole('cell', { name: 'mailed@spotlight.local' }).waitFor();
    await page.screenshot({ path: `${shots}members-invitation-mailed.png` });
    assert.deepEqual(await axe(page), [], 'members, invitation mailed');
    // The invitee finds the link in the mail and joins with a new password.
    let link;
    for (let i = 0; i < 100 && !link; i++) {
      if (existsSync(mails)) {
        const mail = readFileSync(mails, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l)).find((m) => m.to[0] === 'mailed@spotlight.local');
        link = mail?.data.replace(/=\r?\n/g, '').match(/http:\/\/\S+\/app\/accept#[A-Za-z0-9_-]+/)?.[0];
      }
      if (!link) await new Promise((r) => setTimeout(r, 100));
    }
    assert.ok(link?.startsWith(`${mailing.base}/app/accept#`), `a link to ${mailing.base} in the mail`);
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const member = await context.newPage();
    await member.goto(link);
    await member.locator('#password').fill('mailed-password-12345');
    await member.getByRole('button', { name: 'Accept invitation' }).click();
    await member.getByRole('heading', { name: 'Tours' }).waitFor();
    assert.equal((await (await member.request.get(`${mailing.base}/v1/auth/me`)).json()).role, 'editor');
    await context.close();
    await page.close();
  } finally {
    await mailing.stop();
    smtp.kill();
    rmSync(dir, { recursive: true, force: true });
  }
});
