// The SDK and the host page leave each other alone: hostile host CSS cannot
// reach or hide the steps, the SDK's styles do not leak out, rich text is
// sanitised by the SDK itself (the XSS corpus injected past the server), and it
// works under a strict CSP.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, startHost, createTenant, hostPage, launch, startAll, eventually, sl, xssCorpus } from './harness.mjs';

let server, host, browser;

before(async () => {
  [server, host, browser] = await startAll([startServer(), startHost(), launch()]);
});
after(async () => {
  await browser?.close();
  await host?.stop();
  await server?.stop();
});

const HOSTILE = `<style>
* { all: unset !important; }
div { display: none !important; }
spotlight-root, [data-spotlight] { display: none !important; opacity: 0 !important; }
.cover { display: block !important; position: fixed !important; inset: 0 !important; z-index: 2147483647 !important; background: rgba(255,0,0,.1) !important; pointer-events: none !important; }
button { font-family: serif !important; color: red !important; }
</style>`;

const STYLE_PROPS = ['display', 'position', 'fontFamily', 'color', 'backgroundColor', 'zIndex', 'margin', 'padding', 'fontSize', 'lineHeight'];

test('hostile host CSS neither hides nor restyles a step, and the SDK leaks no style out', async () => {
  const admin = await createTenant(server, [host.origin]);
  await admin.publish('tours', {
    name: 'Hostile',
    steps: [{ kind: 'tooltip', title: 'Still here', body: '<p>Readable</p>', target: { selectors: ['#b'] } }],
  });
  const body = `<section><button id="b">Target</button><p id="probe">probe text</p></section><section class="cover"></section>`;
  const url = host.page('/hostile', hostPage({ api: server.base, key: admin.pk, userId: 'u-hostile', head: HOSTILE, body,
    script: `window.__before=null;document.addEventListener('DOMContentLoaded',function(){var s=getComputedStyle(document.getElementById('probe')),b=getComputedStyle(document.getElementById('b'));window.__before=${JSON.stringify(STYLE_PROPS)}.map(function(p){return s[p]+'|'+b[p]})});` }));
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  await page.goto(url);
  const card = sl(page).locator('.card');
  await card.getByText('Still here').waitFor();
  const style = await card.evaluate((c) => {
    const s = getComputedStyle(c);
    const r = c.getBoundingClientRect();
    const hit = document.elementFromPoint(r.x + r.width / 2, r.y + r.height / 2);
    return { display: s.display, position: s.position, font: s.fontFamily, bg: s.backgroundColor, w: r.width, h: r.height, hit: hit?.tagName };
  });
  assert.equal(style.display, 'block');
  assert.equal(style.position, 'fixed');
  assert.match(style.font, /system-ui/);
  assert.equal(style.bg, 'rgb(255, 255, 255)');
  assert.ok(style.w > 100 && style.h > 40, `a real box: ${style.w}x${style.h}`);
  // Above the page's topmost layer (z-index 2147483647): the click lands on the SDK.
  assert.equal(style.hit, 'SPOTLIGHT-ROOT');
  // Buttons inside keep the SDK's look, not the page's `button` rule.
  const next = await sl(page).getByRole('button', { name: 'Done' }).evaluate((b) => getComputedStyle(b).fontFamily);
  assert.match(next, /system-ui/);
  // Nothing leaked out: the page's own elements look exactly as before the SDK drew.
  const after = await page.evaluate((props) => {
    const s = getComputedStyle(document.getElementById('probe'));
    const b = getComputedStyle(document.getElementById('b'));
    return props.map((p) => `${s[p]}|${b[p]}`);
  }, STYLE_PROPS);
  assert.deepEqual(after, await page.evaluate(() => window.__before));
  assert.deepEqual(await page.evaluate(() => window.__errors), []);
  await page.close();
});

test('the XSS corpus as step bodies, injected past the server: the SDK sanitises, no script runs', async () => {
  const admin = await createTenant(server, [host.origin]);
  const corpus = xssCorpus();
  const steps = [];
  for (let i = 0; i < corpus.length; i += 4) steps.push({ kind: 'modal', title: `Payload ${i}`, body: '<p>safe</p>' });
  const tourId = await admin.publish('tours', { name: 'XSS', steps });
  const url = host.page('/xss', hostPage({ api: server.base, key: admin.pk, userId: 'u-xss',
    script: 'window.__xss=0;window.alert=window.confirm=window.prompt=function(){window.__xss++};' }));
  const page = await browser.newPage();
  page.on('dialog', (d) => { d.dismiss(); throw new Error(`a dialog opened: ${d.message()}`); });
  // Replace the server's sanitised bodies with the raw payloads.
  await page.route(`${server.base}/v1/sdk/config*`, async (route) => {
    const r = await route.fetch();
    const cfg = await r.json();
    const t = cfg.tours.find((x) => x.id === tourId);
    t.document.steps.forEach((s, i) => { s.body = corpus.slice(i * 4, i * 4 + 4).join('\n'); });
    await route.fulfill({ response: r, json: cfg });
  });
  await page.goto(url);
  const card = sl(page).locator('.card');
  for (let i = 0; i < steps.length; i++) {
    await card.getByText(`Payload ${i * 4}`, { exact: true }).waitFor();
    const bad = await card.evaluate((c) => {
      const out = [];
      for (const el of c.querySelectorAll('.b *')) {
        if (!['P', 'B', 'I', 'EM', 'STRONG', 'A', 'UL', 'OL', 'LI', 'BR', 'CODE', 'IMG'].includes(el.tagName)) out.push(el.tagName);
        for (const a of el.attributes) {
          if (!['href', 'target', 'rel', 'src', 'alt'].includes(a.name)) out.push(`${el.tagName}[${a.name}]`);
          if (a.name === 'href' && !/^(https?:|mailto:)/i.test(a.value)) out.push(`href=${a.value}`);
          if (a.name === 'src' && !/^https:/i.test(a.value)) out.push(`src=${a.value}`);
        }
      }
      return out;
    });
    assert.deepEqual(bad, [], `step ${i}`);
    await page.keyboard.press('ArrowRight');
  }
  await card.waitFor({ state: 'detached' });
  await page.waitForTimeout(300);
  assert.equal(await page.evaluate(() => window.__xss), 0, 'no payload ran');
  assert.deepEqual(await page.evaluate(() => window.__errors), []);
  await page.close();
});

test('works under a strict CSP (no inline styles, no eval)', async () => {
  const admin = await createTenant(server, [host.origin]);
  await admin.publish('tours', {
    name: 'CSP',
    steps: [{ kind: 'highlight', title: 'Under CSP', body: '<p>fine</p>', target: { selectors: ['#b'] } }],
  });
  const csp = `default-src 'self'; script-src 'nonce-e2e' ${server.base}; connect-src ${server.base}; img-src https:; style-src 'self'; base-uri 'none'; object-src 'none'`;
  const html = hostPage({ api: server.base, key: admin.pk, userId: 'u-csp', body: '<button id="b">Target</button>',
    script: "document.addEventListener('securitypolicyviolation',function(e){window.__errors.push('csp: '+e.violatedDirective+' '+e.blockedURI)});" })
    .replaceAll('<script>', '<script nonce="e2e">').replaceAll('<script async', '<script nonce="e2e" async');
  const url = host.page('/csp', html, { 'content-security-policy': csp });
  const page = await browser.newPage();
  await page.goto(url);
  const card = sl(page).locator('.card');
  await card.getByText('Under CSP').waitFor();
  assert.equal(await card.evaluate((c) => getComputedStyle(c).position), 'fixed', 'the stylesheet applied');
  await sl(page).getByRole('button', { name: 'Done' }).click();
  await card.waitFor({ state: 'detached' });
  const user = await eventually(async () => (await admin.user('u-csp')).event_counts.tour_completed === 1, 15_000, 'events sent under the CSP');
  assert.ok(user);
  assert.deepEqual(await page.evaluate(() => window.__errors), []);
  await page.close();
});

test('a bad config: unknown step kind, broken selector, 1 MB body, invalid theme colours — skipped or defaulted, warned under debug', async () => {
  const admin = await createTenant(server, [host.origin]);
  const tourId = await admin.publish('tours', {
    name: 'Bad', steps: [{ kind: 'modal', title: 'Placeholder', body: 'x' }],
  });
  const url = host.page('/bad', hostPage({ api: server.base, key: admin.pk, userId: 'u-bad', body: '<button id="b">B</button>' }));
  const page = await browser.newPage();
  const warnings = [];
  page.on('console', (m) => { if (m.type() === 'warning') warnings.push(m.text()); });
  await page.route(`${server.base}/v1/sdk/config*`, async (route) => {
    const r = await route.fetch();
    const cfg = await r.json();
    const t = cfg.tours.find((x) => x.id === tourId);
    t.document.theme_id = 'evil';
    t.document.steps = [
      { id: 's0', kind: 'carousel', title: 'Unknown kind' },
      { id: 's1', kind: 'tooltip', title: 'Broken selector', target: { selectors: ['div[[[', '##'] }, wait_for_target_ms: 200 },
      { id: 's2', kind: 'tooltip', title: 'Big body', body: `<p>${'x'.repeat(1024 * 1024)}</p>`, target: { selectors: ['#b'] } },
    ];
    cfg.themes.evil = { name: 'Evil', tokens: { primary: 'red; background: url(https://evil.test/x)', background: 'javascript:alert(1)', radius_px: 9999, font_family: 'x;}body{display:none' } };
    await route.fulfill({ response: r, json: cfg });
  });
  await page.goto(url);
  const card = sl(page).locator('.card');
  await card.getByText('Big body').waitFor();
  const seen = await card.evaluate((c) => ({
    text: c.querySelector('.b').textContent.length,
    bg: getComputedStyle(c).backgroundColor,
    primary: getComputedStyle(c.querySelector('button.p')).backgroundColor,
    radius: getComputedStyle(c).borderTopLeftRadius,
  }));
  assert.ok(seen.text <= 64 * 1024, `the body is cut to 64 KiB (${seen.text})`);
  assert.equal(seen.bg, 'rgb(255, 255, 255)', 'invalid background ignored');
  assert.equal(seen.primary, 'rgb(59, 91, 219)', 'invalid primary ignored');
  assert.equal(seen.radius, '8px', 'out-of-range radius ignored');
  assert.equal(await page.locator('body').evaluate((b) => getComputedStyle(b).display), 'block', 'the host page is untouched');
  const all = warnings.join('\n');
  for (const w of ['unknown kind carousel', 'target not found', 'primary', 'background', 'radius_px', 'font_family']) {
    assert.ok(all.includes(w), `a debug warning mentions ${w}:\n${all}`);
  }
  assert.deepEqual(await page.evaluate(() => window.__errors), []);
  await page.close();
});
