// Targets where page structure makes tours hard: inside open shadow roots and
// same-origin iframes, under transformed and fixed parents, appearing late;
// and the triggers that start tours (a click on an element, a tracked event).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, startHost, createTenant, hostPage, launch, startAll, sl } from './harness.mjs';

let server, host, browser;

before(async () => {
  [server, host, browser] = await startAll([startServer(), startHost(), launch()]);
});
after(async () => {
  await browser?.close();
  await host?.stop();
  await server?.stop();
});

const HARD = `
<div style="transform: translateX(40px) scale(1.1); margin: 40px"><button id="moved">Transformed</button></div>
<div style="position: fixed; bottom: 20px; right: 20px; z-index: 50"><button id="fixed">Fixed</button></div>
<div id="shadow-host"></div>
<iframe id="frame" src="/frame" style="width: 300px; height: 120px"></iframe>
<div id="late-slot"></div>
<script>
document.getElementById('shadow-host').attachShadow({ mode: 'open' }).innerHTML = '<button id="in-shadow">In shadow</button>';
setTimeout(function () { document.getElementById('late-slot').innerHTML = '<button id="late">Late</button>'; }, 700);
</script>`;

function holeOf(d) {
  // The second subpath of the overlay: the hole's bounding box.
  const nums = d.split('M')[2].match(/-?\d+(\.\d+)?/g).map(Number);
  const xs = nums.filter((_, i) => i % 2 === 0);
  const ys = nums.filter((_, i) => i % 2 === 1);
  return { x0: Math.min(...xs), y0: Math.min(...ys), x1: Math.max(...xs), y1: Math.max(...ys) };
}

test('transformed, fixed, shadow-root, iframe and late targets are all highlighted where they are', async () => {
  const admin = await createTenant(server, [host.origin]);
  const step = (title, target) => ({ kind: 'highlight', title, body: 'x', target, wait_for_target_ms: 3000 });
  await admin.publish('tours', {
    name: 'Hard targets',
    steps: [
      step('T1', { selectors: ['#moved'] }),
      step('T2', { selectors: ['#fixed'] }),
      step('T3', { selectors: ['#in-shadow'] }),
      step('T4', { selectors: ['#in-frame'], frame: '#frame' }),
      step('T5', { selectors: ['#late'] }),
    ],
  });
  host.page('/frame', '<!doctype html><body style="margin:0"><button id="in-frame" style="margin:30px">In frame</button></body>');
  const url = host.page('/hard', hostPage({ api: server.base, key: admin.pk, userId: 'u-hard', body: HARD }));
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  await page.goto(url);
  const targets = {
    T1: page.locator('#moved'), T2: page.locator('#fixed'), T3: page.locator('#in-shadow'),
    T4: page.frameLocator('#frame').locator('#in-frame'), T5: page.locator('#late'),
  };
  for (const [title, target] of Object.entries(targets)) {
    await sl(page).locator('.card').getByText(title, { exact: true }).waitFor();
    await page.waitForTimeout(400); // let a smooth scroll settle
    const box = await target.boundingBox();
    const hole = holeOf(await sl(page).locator('svg.ov path').getAttribute('d'));
    assert.ok(hole.x0 <= box.x + 1 && hole.y0 <= box.y + 1 && hole.x1 >= box.x + box.width - 1 && hole.y1 >= box.y + box.height - 1,
      `${title}: hole ${JSON.stringify(hole)} around ${JSON.stringify(box)}`);
    await page.keyboard.press('ArrowRight');
  }
  assert.deepEqual(await page.evaluate(() => window.__errors), []);
  await page.close();
});

test('tours start on a click of an element and on a tracked event; a modal step traps focus', async () => {
  const admin = await createTenant(server, [host.origin]);
  await admin.publish('tours', {
    name: 'On click', trigger: { type: 'click', target: { selectors: ['#help'] } }, frequency: { type: 'every_session' },
    steps: [{ kind: 'tooltip', title: 'Clicked', body: 'x', target: { selectors: ['#help'] } }],
  });
  await admin.publish('tours', {
    name: 'On event', trigger: { type: 'event', event: 'report_exported' }, frequency: { type: 'every_session' },
    steps: [{ kind: 'modal', title: 'Exported', body: '<p>Nice. <a href="https://example.com">Docs</a></p>' }],
  });
  const url = host.page('/triggers', hostPage({ api: server.base, key: admin.pk, userId: 'u-trig', body: '<button id="help">Help</button><button id="after">After</button>' }));
  const page = await browser.newPage();
  await page.goto(url);
  await page.waitForFunction(() => window.spotlight && !window.spotlight.q);
  await page.waitForResponse((r) => r.url().includes('/v1/sdk/config')).catch(() => {});
  await page.waitForTimeout(300);
  assert.equal(await sl(page).locator('.card').count(), 0, 'neither starts on page load');
  await page.locator('#help').click();
  await sl(page).locator('.card').getByText('Clicked').waitFor();
  await page.keyboard.press('Escape');
  await page.evaluate(() => window.spotlight.track('report_exported'));
  const modal = sl(page).locator('.card.modal');
  await modal.getByText('Exported').waitFor();
  // Tab cycles inside the modal.
  const inside = async () => page.evaluate(() => {
    const h = document.querySelector('spotlight-root');
    return document.activeElement === h && !!h.shadowRoot.activeElement?.closest('.card');
  });
  for (let i = 0; i < 6; i++) {
    await page.keyboard.press('Tab');
    assert.ok(await inside(), `focus stays in the modal after ${i + 1} tabs`);
  }
  await page.keyboard.press('Shift+Tab');
  assert.ok(await inside());
  assert.deepEqual(await page.evaluate(() => window.__errors), []);
  await page.close();
});

test('a step follows its target when the page resizes or the DOM moves it', async () => {
  const admin = await createTenant(server, [host.origin]);
  await admin.publish('tours', {
    name: 'Follow', steps: [{ kind: 'tooltip', title: 'Follow me', body: 'x', target: { selectors: ['#mover'] } }],
  });
  const url = host.page('/follow', hostPage({ api: server.base, key: admin.pk, userId: 'u-follow',
    body: '<div id="spacer" style="height:100px"></div><button id="mover" style="margin-left:100px">Mover</button>' }));
  const page = await browser.newPage({ viewport: { width: 1000, height: 700 } });
  await page.goto(url);
  const card = sl(page).locator('.card');
  await card.getByText('Follow me').waitFor();
  const gap = async () => {
    const [t, c] = [await page.locator('#mover').boundingBox(), await card.boundingBox()];
    return { dy: Math.round(c.y - (t.y + t.height)), tx: t.x + t.width / 2, cx: c.x, cw: c.width };
  };
  const before = await gap();
  // The DOM moves the target: the step moves with it.
  await page.evaluate(() => { document.getElementById('spacer').style.height = '300px'; document.getElementById('mover').style.marginLeft = '500px'; });
  await page.waitForTimeout(200);
  const moved = await gap();
  assert.equal(moved.dy, before.dy, 'still the same distance below its target');
  assert.ok(moved.cx <= moved.tx && moved.tx <= moved.cx + moved.cw, 'still beside it horizontally');
  // A narrower window: the step stays inside the viewport (shift).
  await page.setViewportSize({ width: 560, height: 700 });
  await page.waitForTimeout(200);
  const narrow = await card.boundingBox();
  assert.ok(narrow.x >= 0 && narrow.x + narrow.width <= 560, `inside the viewport: ${narrow.x}+${narrow.width}`);
  await page.close();
});
