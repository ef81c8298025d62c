// End-to-end smoke test of the built page: serves dist/ on 127.0.0.1, drives it in headless
// Chromium through playwright-core, and saves screenshots to tests/e2e/out/.
//
//   trunk build --release && node tests/e2e/smoke.mjs
//
// Environment: DIST_DIR (default dist/), CHROMIUM (default /usr/bin/chromium),
// E2E_ONLY=<regex> runs only the checks it matches; E2E_CONSOLE=1 prints the pages' console; UPDATE_SCREENSHOT=1 also rewrites docs/screenshot.png (1280x800) for the README.

import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

import { CHROMIUM, CHROMIUM_ARGS, DIST, ROOT, serve } from './serve.mjs';

const OUT = join(ROOT, 'tests', 'e2e', 'out');

const byTestId = (id) => `[data-testid="${id}"]`;

/** A cheap fingerprint of a canvas's pixels, and how many distinct colours it holds. */
async function canvasInfo(page, id) {
  return page.$eval(byTestId(id), (canvas) => {
    const { data } = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height);
    let hash = 2166136261;
    const colours = new Set();
    for (let i = 0; i < data.length; i += 4) {
      const rgba = (data[i] << 24) | (data[i + 1] << 16) | (data[i + 2] << 8) | data[i + 3];
      colours.add(rgba);
      hash = Math.imul(hash ^ rgba, 16777619) >>> 0;
    }
    return { hash, colours: colours.size };
  });
}

const frameCount = async (page) => Number(await page.textContent(byTestId('frame-counter')));

/** Waits (briefly) until the element with `id` reads `text`; the DOM follows state a tick late. */
async function expectText(page, id, text) {
  try {
    await page.waitForFunction(
      ([selector, wanted]) => document.querySelector(selector)?.textContent === wanted,
      [byTestId(id), text],
      { timeout: 5_000 },
    );
  } catch {
    assert.equal(await page.textContent(byTestId(id)), text, `${id} never read ${JSON.stringify(text)}`);
  }
}

/** Opens `query` and waits until the app has mounted and painted its first frame. */
async function open(page, base, query) {
  await page.goto(`${base}/${query}`);
  await page.waitForSelector(byTestId('world-canvas'), { timeout: 60_000 });
  await page.waitForFunction(
    (selector) => {
      const canvas = document.querySelector(selector);
      const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
      return data.some((value, i) => value !== data[i % 4]);
    },
    byTestId('world-canvas'),
    { timeout: 30_000 },
  );
}

const checks = [];
const check = (name, run) => checks.push({ name, run });

check('the page mounts and both canvases show the scene', async ({ page, base }) => {
  await open(page, base, '?seed=7&paused=1');
  assert.equal(await page.title(), 'World-model playground');
  assert.ok(!(await page.isVisible(byTestId('boot'))), 'the loading message is still shown');
  const world = await canvasInfo(page, 'world-canvas');
  const model = await canvasInfo(page, 'model-canvas');
  assert.ok(world.colours > 10, `world canvas looks blank (${world.colours} colours)`);
  assert.ok(model.colours > 10, `model canvas looks blank (${model.colours} colours)`);
  assert.equal(await frameCount(page), 0);
});

check('a URL with ?seed=7 shows seed 7 in the seed box', async ({ page, base }) => {
  await open(page, base, '?seed=7&paused=1');
  assert.equal(await page.inputValue(byTestId('seed-input')), '7');
  assert.equal(await page.inputValue(byTestId('speed-select')), '1');
});

check('holding a key and stepping moves the agent', async ({ page, base }) => {
  await open(page, base, '?seed=7&paused=1');
  const before = await canvasInfo(page, 'world-canvas');
  await page.keyboard.down('ArrowRight');
  for (let i = 0; i < 6; i++) await page.click(byTestId('step-button'));
  await page.keyboard.up('ArrowRight');
  await expectText(page, 'frame-counter', '6');
  const after = await canvasInfo(page, 'world-canvas');
  assert.notEqual(after.hash, before.hash, 'the picture did not change after driving east');
  await page.screenshot({ path: join(OUT, 'after-steps.png') });
});

check('the period key steps and a held pointer steers', async ({ page, base }) => {
  await open(page, base, '?seed=7&paused=1');
  const box = await page.locator(byTestId('world-canvas')).boundingBox();
  const before = await canvasInfo(page, 'world-canvas');
  await page.mouse.move(box.x + box.width * 0.15, box.y + box.height * 0.15);
  await page.mouse.down();
  await expectText(page, 'steering', 'toward the pointer');
  for (let i = 0; i < 5; i++) await page.keyboard.press('Period');
  await page.mouse.up();
  await expectText(page, 'frame-counter', '5');
  await expectText(page, 'steering', 'stay');
  assert.notEqual((await canvasInfo(page, 'world-canvas')).hash, before.hash);
});

check('play runs frames, pause stops them, the address follows, nothing moves on the page', async ({ page, base }) => {
  await open(page, base, '?seed=3&paused=1&speed=4');
  const layout = async () =>
    page.$$eval('canvas, .transport, .log, .readout', (els) =>
      els.map((el) => JSON.stringify(el.getBoundingClientRect())).join(),
    );
  const layoutBefore = await layout();
  await page.click(byTestId('play-pause'));
  await page.waitForFunction((s) => Number(document.querySelector(s).textContent) >= 10, byTestId('frame-counter'));
  assert.ok(!page.url().includes('paused'), `still paused in the address: ${page.url()}`);
  assert.equal(await layout(), layoutBefore, 'the layout moved while the simulation ran');
  await page.click(byTestId('play-pause'));
  const stopped = await frameCount(page);
  await page.waitForTimeout(400);
  assert.equal(await frameCount(page), stopped, 'frames ran while paused');
  assert.match(page.url(), /\?seed=3&speed=4&paused=1$/);
});

check('a seed typed in the box builds its scene and goes into the address', async ({ page, base }) => {
  await open(page, base, '?seed=7&paused=1');
  await page.click(byTestId('step-button'));
  const before = await canvasInfo(page, 'world-canvas');
  await page.fill(byTestId('seed-input'), '12');
  await page.press(byTestId('seed-input'), 'Enter');
  await page.waitForFunction(() => location.search === '?seed=12&paused=1');
  await expectText(page, 'frame-counter', '0');
  assert.notEqual((await canvasInfo(page, 'world-canvas')).hash, before.hash);
  // The address now reproduces the scene.
  const shown = await canvasInfo(page, 'world-canvas');
  await open(page, base, '?seed=12&paused=1');
  assert.equal(await page.inputValue(byTestId('seed-input')), '12');
  assert.equal((await canvasInfo(page, 'world-canvas')).hash, shown.hash);
});

check('bad values in the address fall back with a visible notice', async ({ page, base }) => {
  await open(page, base, '?seed=%3Cimg%20src%3Dx%3E&speed=9&paused=1');
  const notices = await page.textContent(byTestId('url-notices'));
  assert.match(notices, /seed: "<img src=x>" is not a whole number/);
  assert.match(notices, /speed: 9 is not one of the speeds/);
  assert.equal(await page.locator(`${byTestId('url-notices')} img`).count(), 0, 'a notice was rendered as markup');
  assert.equal(await page.inputValue(byTestId('seed-input')), '1');
  assert.equal(await page.inputValue(byTestId('speed-select')), '4');
  assert.match(page.url(), /\?seed=1&speed=4&paused=1$/, 'the address should show what is on screen');
  await page.screenshot({ path: join(OUT, 'notices.png') });
});

check('a prompt in the address or the box makes its scene; a bad one is explained', async ({ page, base }) => {
  await open(page, base, '?seed=3&prompt=two+red+balls&paused=1');
  await expectText(page, 'scene-words', 'seen from above, two red balls');
  assert.equal(await page.inputValue(byTestId('prompt-input')), 'two red balls');
  assert.match(page.url(), /\?seed=3&prompt=two\+red\+balls&paused=1$/);
  const shown = await canvasInfo(page, 'world-canvas');

  // A sentence the world cannot read: explained next to the box, kept there, nothing moves.
  const canvasBox = JSON.stringify(await page.locator(byTestId('world-canvas')).boundingBox());
  await page.fill(byTestId('prompt-input'), 'a red dragon');
  await page.press(byTestId('prompt-input'), 'Enter');
  await page.waitForFunction((s) => document.querySelector(s).textContent.includes('dragon'), byTestId('prompt-problem'));
  assert.equal(await page.inputValue(byTestId('prompt-input')), 'a red dragon');
  assert.equal(JSON.stringify(await page.locator(byTestId('world-canvas')).boundingBox()), canvasBox, 'the error moved the world');
  assert.equal((await canvasInfo(page, 'world-canvas')).hash, shown.hash);

  await page.fill(byTestId('prompt-input'), 'seen from the side, a yellow box to the left of a blue ball');
  await page.press(byTestId('prompt-input'), 'Enter');
  await expectText(page, 'scene-words', 'seen from the side, a yellow box and a blue ball to the right of the yellow box');
  assert.match(page.url(), /\?seed=3&prompt=seen\+from\+the\+side,\+a\+yellow\+box/);
  await page.screenshot({ path: join(OUT, 'prompt.png') });

  await open(page, base, '?seed=3&prompt=a+red+dragon%3Cb%3E&paused=1');
  const notices = await page.textContent(byTestId('url-notices'));
  assert.match(notices, /prompt: .*"dragon.*showing the scene of seed 3/);
  assert.equal(await page.locator(`${byTestId('url-notices')} b`).count(), 0, 'a notice was rendered as markup');
  assert.match(page.url(), /\?seed=3&paused=1$/, 'the address should show what is on screen');
});

check('the page fits a phone screen', async ({ browser, base }) => {
  const phone = await browser.newPage({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 2 });
  try {
    await open(phone, base, '?seed=1&paused=1');
    const overflow = await phone.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 0, `the page is ${overflow}px wider than the phone`);
    const canvas = await phone.locator(byTestId('world-canvas')).boundingBox();
    assert.ok(canvas.width > 300 && canvas.width <= 384, `world canvas is ${canvas.width}px wide`);
    await phone.screenshot({ path: join(OUT, 'phone.png'), fullPage: true });
    // Every demo fits too.
    for (const demo of ['ask', 'plan', 'explain']) {
      await phone.goto(`${base}/?demo=${demo}&seed=1`);
      await phone.waitForSelector(byTestId(`${demo}-demo`), { timeout: 60_000 });
      const wider = await phone.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      assert.ok(wider <= 0, `the ${demo} page is ${wider}px wider than the phone`);
    }
  } finally {
    await phone.close();
  }
});

/** Waits until the model status starts with `verb` ("Dreaming on"). */
async function waitReady(page, verb = 'Dreaming on') {
  await page.waitForFunction(
    ([s, v]) => document.querySelector(s)?.textContent.startsWith(v),
    [byTestId('model-status'), verb],
    { timeout: 180_000 },
  );
}

/** The number of dreamed frames scored so far on the Dream tab. */
const scored = (page) =>
  page.$eval(`${byTestId('psnr-plot')} polyline.psnr`, (l) => (l.getAttribute('points') ?? '').trim().split(/\s+/).filter(Boolean).length).catch(() => 0);

/** Waits until the Dream tab has scored `n` dreamed frames (exactly `n` with `exactly`). */
async function waitScored(page, n, { exactly = false, timeout = 120_000 } = {}) {
  await page.waitForFunction(
    ([s, n, exactly]) => {
      const count = (document.querySelector(s)?.getAttribute('points') ?? '').trim().split(/\s+/).filter(Boolean).length;
      return exactly ? count === n : count >= n;
    },
    [`${byTestId('psnr-plot')} polyline.psnr`, n, exactly],
    { timeout },
  );
}

check('the model loads and dreams 30 frames beside the simulator', async ({ page, base }) => {
  await open(page, base, '?seed=1&paused=1');
  await waitReady(page);
  const start = await canvasInfo(page, 'dream-canvas');
  assert.ok(start.colours > 1, 'the dream canvas is blank before the first step');
  await page.keyboard.down('ArrowRight');
  for (let i = 0; i < 30; i++) await page.keyboard.press('Period');
  await page.keyboard.up('ArrowRight');
  await expectText(page, 'frame-counter', '30');
  // Every step is dreamed (in batches when the model falls behind), then scored.
  await page.waitForFunction(
    (s) => document.querySelectorAll(s).length === 1 && !document.querySelector(s).textContent.includes('no step'),
    byTestId('psnr-latest'),
    { timeout: 120_000 },
  );
  await waitScored(page, 30, { exactly: true });
  const dreamed = await canvasInfo(page, 'dream-canvas');
  assert.ok(dreamed.colours > 1, 'the dreamed frame is blank');
  assert.notEqual(dreamed.hash, start.hash, 'the dream did not change in 30 steps');
  const psnr = await page.textContent(byTestId('psnr-latest'));
  assert.match(psnr, /^(\d+\.\d dB|identical)(, objects \d+\.\d px off)?$/);
  assert.equal(await page.locator(byTestId('model-error')).count(), 0);
  // The shipped model's evaluation, beside its baselines.
  const results = await page.textContent(byTestId('results-panel'));
  for (const what of ['Dream PSNR, 1 step ahead', 'Answers, counterfactual questions', 'Planning: tasks reached']) {
    assert.ok(results.includes(what), `the results panel lacks "${what}"`);
  }
  // Chromium here has only SwiftShader: the model runs on the CPU path and says why.
  assert.match(await page.textContent(byTestId('cpu-banner')), /software/);
  // The dream's controls go into the address.
  await page.$eval(byTestId('temperature'), (el) => {
    el.value = '0.3';
    el.dispatchEvent(new Event('input', { bubbles: true }));
  });
  await page.selectOption(byTestId('resync'), '15');
  await page.waitForFunction(() => location.search.includes('temperature=0.3') && location.search.includes('resync=15'));
  await page.screenshot({ path: join(OUT, 'dream.png') });
});

/** Runs `run(base, server)` against a server of its own that answers weights requests through
 * `fault` (see `serve`). */
async function withServer(fault, run) {
  const server = await serve(DIST, fault);
  try {
    await run(`http://127.0.0.1:${server.address().port}`, server);
  } finally {
    server.close();
  }
}

check('a weights download the server fails is retried with back-off, then the model runs', async ({ page, allow }) => {
  allow(/status of 500/);
  const fault = (n, response) => {
    if (n > 2) return false;
    response.writeHead(500, { 'content-type': 'text/plain' });
    response.end('drill: a server error');
    return true;
  };
  await withServer(fault, async (base, server) => {
    await page.goto(`${base}/?seed=1&paused=1`);
    await page.waitForFunction((s) => document.querySelector(s)?.textContent.includes('trying again'), byTestId('model-status'), {
      timeout: 60_000,
      polling: 20,
    });
    assert.match(await page.textContent(byTestId('model-status')), /HTTP 500.*; trying again in \d\.\d s \(attempt [23] of 4\)/);
    await waitReady(page);
    // The student fails twice and then downloads; the manifest's other nets download once each.
    const manifest = JSON.parse(readFileSync(join(DIST, 'weights', 'manifest.json'), 'utf8'));
    const expected = { [manifest.weights_file]: 3 };
    for (const net of Object.values(manifest.nets ?? {})) expected[net.file] = 1;
    assert.deepEqual(server.weightsByFile, expected, 'two failures and one download of the student, one of each net');
  });
});

check('a download that keeps dropping ends in a clear error, is never cached, and the world runs on', async ({ page, allow }) => {
  allow(/net::ERR_/);
  const fault = (n, response, file) => {
    const bytes = readFileSync(file);
    response.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': bytes.length });
    response.write(bytes.subarray(0, bytes.length >> 1), () => response.socket.destroy());
    return true;
  };
  await withServer(fault, async (base, server) => {
    await open(page, base, '?seed=7&paused=1');
    await page.waitForFunction((s) => document.querySelector(s)?.textContent.startsWith('The model could not start'), byTestId('model-status'), {
      timeout: 60_000,
    });
    const status = await page.textContent(byTestId('model-status'));
    assert.match(status, /weights\/student\.safetensors.*gave up after 4 attempts.*reload the page/, status);
    assert.equal(server.weightsRequests, 4);
    const cached = await page.evaluate(async () => (await (await caches.open('world-model-weights')).keys()).map((r) => r.url));
    assert.ok(!cached.some((url) => url.includes('.safetensors')), `a partial download was cached: ${cached}`);
    // The live simulator still runs.
    await page.click(byTestId('step-button'));
    await expectText(page, 'frame-counter', '1');
  });
});

/** Every file under `dir`. */
function* walk(dir) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) yield* walk(path);
    else yield path;
  }
}

/** Names that look like URLs but are never fetched: XML namespaces. */
const NAMESPACES = ['http://www.w3.org/2000/svg', 'http://www.w3.org/1999/xhtml', 'http://www.w3.org/1999/xlink', 'http://www.w3.org/1998/Math/MathML'];

check('the built site names no other origin, and its Content-Security-Policy blocks what it should', async ({ page, base, allow }) => {
  const html = readFileSync(join(DIST, 'index.html'), 'utf8');
  const csp = html.match(/<meta http-equiv="Content-Security-Policy" content="([^"]+)"/)?.[1];
  assert.ok(csp, 'index.html has no Content-Security-Policy');
  assert.match(csp, /script-src 'self' 'wasm-unsafe-eval' 'sha256-[A-Za-z0-9+/=]+'(;|$)/);
  assert.doesNotMatch(csp, /unsafe-inline|(?<!wasm-)unsafe-eval|\*|https?:/);
  assert.match(readFileSync(join(DIST, '_headers'), 'utf8'), /Content-Security-Policy: .*frame-ancestors 'none'/);
  // Every address in the built files (JS comments and XML namespaces aside) is relative.
  const foreign = [];
  for (const file of walk(DIST)) {
    const text = readFileSync(file, 'latin1');
    const lines = file.endsWith('.js') ? text.split('\n').filter((l) => !/^\s*(\/\/|\*)/.test(l)) : [text];
    for (const line of lines) {
      for (const [url] of line.matchAll(/(https?:)?\/\/[a-z0-9.-]+\.[a-z]{2,}[^\s"'<>)\\]*/gi)) {
        const full = url.replace(/^\/\//, 'http://');
        if (!NAMESPACES.some((ns) => full.startsWith(ns))) foreign.push(`${file.slice(DIST.length + 1)}: ${url}`);
      }
    }
  }
  assert.deepEqual(foreign, [], 'the built site names other origins');
  // In the page: an injected inline script does not run, a fetch to another origin is refused.
  allow(/Content Security Policy/);
  await page.addInitScript(() => {
    window.__violations = [];
    document.addEventListener('securitypolicyviolation', (e) => window.__violations.push(`${e.effectiveDirective} ${e.blockedURI}`));
  });
  await open(page, base, '?seed=1&paused=1');
  const tried = await page.evaluate(async () => {
    const script = document.createElement('script');
    script.textContent = 'window.__injected = true';
    document.body.append(script);
    try {
      await fetch('https://example.com/steal');
    } catch {}
    await new Promise((r) => setTimeout(r, 100));
    return { injected: window.__injected === true, violations: window.__violations };
  });
  assert.equal(tried.injected, false, 'an injected inline script ran');
  assert.ok(tried.violations.some((v) => v.startsWith('script-src-elem inline')), JSON.stringify(tried.violations));
  assert.ok(tried.violations.some((v) => v.startsWith('connect-src https://example.com')), JSON.stringify(tried.violations));
  // The page itself, its worker and its model run under the policy: no other violation (each
  // drill is reported twice: the <meta> policy and the header one both hold).
  await waitReady(page);
  const drills = /^(script-src-elem inline|connect-src https:\/\/example\.com\/steal)$/;
  const others = (await page.evaluate(() => window.__violations)).filter((v) => !drills.test(v));
  assert.deepEqual(others, [], 'the page broke its own policy');
});

/** The model's answers to the Ask tab's five questions (one of each type) for seed 1: the
 * replies with their probabilities. */
async function fiveAnswers(page, base) {
  await page.goto(`${base}/?demo=ask&seed=1`);
  await waitReady(page, 'Answering on');
  const answers = [];
  for (let i = 0; i < 5; i++) {
    const row = page.locator(byTestId('question')).nth(i);
    await row.locator('button').click();
    await row.locator(byTestId('reply')).waitFor({ timeout: 60_000 });
    answers.push(`${await row.locator(byTestId('reply')).textContent()}${await row.locator(byTestId('reply-p')).textContent()}`);
  }
  return answers;
}

check('without a WebGPU adapter the model runs on the CPU path, says so, and gives the same answers', async ({ page, base }) => {
  const withWebGpu = await fiveAnswers(page, base);
  const plain = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS.filter((a) => !/webgpu|vulkan/i.test(a)) });
  try {
    const other = await plain.newPage({ viewport: { width: 1280, height: 800 } });
    const errors = [];
    other.on('pageerror', (e) => errors.push(e.message));
    const withoutWebGpu = await fiveAnswers(other, base);
    // Without the flags, Chromium here has the WebGPU API but grants no adapter: the common case.
    assert.equal(await other.evaluate(async () => String(await navigator.gpu?.requestAdapter())), 'null', 'this browser still has a WebGPU adapter');
    assert.match(await other.textContent(byTestId('cpu-banner')), /^Not on a GPU: .+/);
    assert.match(await other.textContent(byTestId('model-status')), /^Answering on the CPU/);
    assert.deepEqual(withoutWebGpu, withWebGpu);
    assert.deepEqual(errors, []);
  } finally {
    await plain.close();
  }
});

check('on WebGPU, a GPU process crash during a plan and a dream: the model starts again and both go on', async ({ page, browser, base, allow }) => {
  // The crash is a real one (the DevTools protocol's Browser.crashGpuProcess): every WebGPU
  // device in the browser is lost, the worker's included.
  allow(/GPU|device|lost|Instance|WebGL/i);
  const crash = async () => (await browser.newBrowserCDPSession()).send('Browser.crashGpuProcess');

  await page.goto(`${base}/?demo=plan&seed=5&rollouts=16&horizon=4&backend=webgpu`);
  await waitReady(page, 'Planning on the GPU');
  await page.click(byTestId('run-plan'));
  await page.waitForFunction((s) => document.querySelector(s)?.textContent.startsWith('move 2 '), byTestId('plan-progress'), { timeout: 120_000 });
  await crash();
  await page.waitForFunction((s) => document.querySelector(s)?.textContent === '1', byTestId('model-episodes'), { timeout: 300_000 });
  assert.match(await page.textContent(byTestId('plan-status')), /^(Done|Missed)/);
  assert.match(await page.textContent(byTestId('model-notice')), /GPU device was lost; the model was started again \(GPU/);

  await page.goto(`${base}/?seed=1&backend=webgpu`);
  await waitReady(page, 'Dreaming on the GPU');
  await waitScored(page, 3);
  await crash();
  await page.waitForFunction((s) => document.querySelector(s)?.textContent.includes('GPU device was lost'), byTestId('model-notice'), { timeout: 120_000 });
  const after = await scored(page);
  // A device made while the GPU process restarts can hang its readbacks: the runtime gives it
  // 90 s (READBACK_TIMEOUT_MS) before it starts the model again.
  await waitScored(page, Math.min(after + 5, 240), { timeout: 300_000 });
  assert.match(await page.textContent(byTestId('model-status')), /^Dreaming on the GPU/);
});

check('a link with dream settings opens with them', async ({ page, base }) => {
  await open(page, base, '?seed=2&paused=1&temperature=0&resync=5');
  assert.equal(await page.inputValue(byTestId('temperature')), '0');
  assert.equal(await page.inputValue(byTestId('resync')), '5');
  // The model draws the scene's first frame from its words, and the dream goes on from it.
  await page.waitForFunction((s) => !document.querySelector(s).disabled, byTestId('draw-from-words'), {
    timeout: 180_000,
  });
  const before = await canvasInfo(page, 'dream-canvas');
  await page.click(byTestId('draw-from-words'));
  await page.waitForFunction(
    (s) => document.querySelector(s)?.textContent.includes('drew the first frame'),
    byTestId('model-notice'),
    { timeout: 60_000 },
  );
  const drawn = await canvasInfo(page, 'dream-canvas');
  assert.ok(drawn.colours > 1, 'the drawn frame is blank');
  assert.notEqual(drawn.hash, before.hash, 'the dream canvas still shows the true first frame');
});

/** Opens a demo page that has no live world (Ask, Plan) and waits for the model. Main-thread
 * tasks over 50 ms are recorded once it is ready (see `longTasks`). */
async function openDemo(page, base, query, verb) {
  await page.addInitScript(() => {
    window.__longTasks = [];
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) window.__longTasks.push(e.duration);
    }).observe({ type: 'longtask', buffered: true });
  });
  await page.goto(`${base}/${query}`);
  await waitReady(page, verb);
  // From here on: the tasks of the page at work, not of its loading.
  await page.evaluate(() => {
    window.__longTasks = [];
  });
}

/** Prints the main thread's long tasks so far (over 50 ms): how many, and the longest. */
async function longTasks(page, what) {
  const tasks = await page.evaluate(() => window.__longTasks ?? []);
  const longest = tasks.length ? Math.max(...tasks) : 0;
  console.log(`     ${what}: ${tasks.length} main-thread tasks over 50 ms, longest ${longest.toFixed(0)} ms`);
}

check('the tabs switch demos and the address follows', async ({ page, base }) => {
  await open(page, base, '?seed=4&paused=1');
  await page.click(byTestId('tab-ask'));
  await page.waitForSelector(byTestId('ask-demo'));
  await page.waitForFunction(() => location.search === '?demo=ask&seed=4&paused=1');
  await page.click(byTestId('tab-plan'));
  await page.waitForSelector(byTestId('plan-demo'));
  await page.waitForFunction(() => location.search.startsWith('?demo=plan&seed=4'));
  await page.click(byTestId('tab-explain'));
  await page.waitForSelector(byTestId('explain-demo'));
  await page.waitForFunction(() => location.search.startsWith('?demo=explain&seed=4'));
  await page.click(byTestId('tab-dream'));
  await page.waitForSelector(byTestId('dream-demo'));
  await page.waitForFunction(() => location.search === '?seed=4&paused=1');
});

check('ask: one question of each type, answered beside the simulator, captions and properties', async ({ page, base }) => {
  await openDemo(page, base, '?demo=ask&seed=1', 'Answering on');
  // The model runs in its worker, not in the page.
  assert.match(await page.textContent(byTestId('model-status')), /in a background worker\.$/);
  const clip = await canvasInfo(page, 'clip-canvas');
  assert.ok(clip.colours > 1, 'the clip canvas is blank');
  const kinds = await page.$$eval(byTestId('question'), (rows) => rows.slice(0, 5).map((r) => r.dataset.kind));
  assert.deepEqual(kinds, ['descriptive', 'explanatory', 'predictive', 'counterfactual', 'property']);
  for (let i = 0; i < 5; i++) {
    await page.locator(byTestId('question')).nth(i).locator('button').click();
    await page.waitForFunction(
      ([s, n]) => document.querySelectorAll(s)[n]?.querySelector('[data-testid="reply"], [data-testid="reply-error"]'),
      [byTestId('question'), i],
      { timeout: 60_000 },
    );
    const row = page.locator(byTestId('question')).nth(i);
    assert.equal(await row.locator(byTestId('reply-error')).count(), 0, `question ${i} failed`);
    assert.match(await row.locator(byTestId('reply')).textContent(), /\S/);
    assert.match(await row.locator(byTestId('reply-p')).textContent(), /^ \((\d+% ?)+\)$/);
    assert.match(await row.locator(byTestId('truth')).textContent(), /\S/);
    const truth = await row.locator(byTestId('truth')).textContent();
    const reply = await row.locator(byTestId('reply')).textContent();
    assert.equal((await row.locator(byTestId('verdict')).textContent()).includes('right'), truth === reply);
  }
  // A typed question: answered by the simulator at once, by the model after it.
  await page.fill(byTestId('question-input'), 'how many collisions are there ?');
  await page.press(byTestId('question-input'), 'Enter');
  await page.waitForFunction((s) => document.querySelector(s)?.querySelector('[data-testid="reply"]'), byTestId('question'), {
    timeout: 60_000,
  });
  assert.equal(await page.locator(byTestId('question')).first().locator(byTestId('question-text')).textContent(), 'how many collisions are there?');
  await page.fill(byTestId('question-input'), 'how many zebras are there');
  await page.press(byTestId('question-input'), 'Enter');
  await page.waitForFunction((s) => document.querySelector(s)?.textContent.includes('zebras'), byTestId('question-problem'));
  // The clip plays; the model captions it every 10 frames.
  await page.click(byTestId('play-clip'));
  await page.waitForFunction((s) => document.querySelector(s)?.textContent.includes('after 10 frames'), byTestId('caption-model'), {
    timeout: 60_000,
  });
  assert.notEqual((await canvasInfo(page, 'clip-canvas')).hash, clip.hash, 'the clip does not play');
  await page.waitForFunction((s) => document.querySelector(s)?.textContent.includes('after 41 frames'), byTestId('caption-model'), {
    timeout: 60_000,
  });
  // Hidden properties, read off the motion.
  await page.click(byTestId('read-properties'));
  await page.waitForFunction(
    (s) => [...document.querySelectorAll(s)].every((el) => /^\d+%$/.test(el.textContent)),
    byTestId('property-p'),
    { timeout: 60_000 },
  );
  await longTasks(page, 'ask (6 answers, 5 captions, 9 property questions, after loading)');
  await page.screenshot({ path: join(OUT, 'ask.png'), fullPage: true });
});

check('plan: one episode planned by the model, one of random moves, settings in the address', async ({ page, base }) => {
  await openDemo(page, base, '?demo=plan&seed=5&rollouts=64&horizon=8', 'Planning on');
  assert.equal(await page.inputValue(byTestId('horizon')), '8');
  assert.equal(await page.textContent(`${byTestId('rollouts')} + output`), '64');
  assert.ok((await canvasInfo(page, 'plan-canvas')).colours > 1, 'the task canvas is blank');
  const goal = await page.textContent(byTestId('goal'));
  await page.fill(byTestId('goal-input'), 'push the dragon into the green zone');
  await page.press(byTestId('goal-input'), 'Enter');
  await page.waitForFunction((s) => document.querySelector(s)?.textContent.includes('dragon'), byTestId('plan-problem'));
  assert.equal(await page.textContent(byTestId('goal')), goal);
  await page.click(byTestId('run-plan'));
  await page.waitForFunction((s) => document.querySelectorAll(s).length > 1, `${byTestId('fan')} polyline`, { timeout: 60_000 });
  await page.screenshot({ path: join(OUT, 'plan.png') });
  await page.waitForFunction((s) => document.querySelector(s)?.textContent === '1', byTestId('model-episodes'), {
    timeout: 180_000,
  });
  assert.match(await page.textContent(byTestId('plan-status')), /^(Done|Missed)/);
  await longTasks(page, 'plan (one episode at 64 futures x horizon 8, after loading)');
  await page.click(byTestId('run-random'));
  await page.waitForFunction((s) => document.querySelector(s)?.textContent === '1', byTestId('random-episodes'), {
    timeout: 60_000,
  });
  // Slider changes go into the address.
  await page.$eval(byTestId('horizon'), (el) => {
    el.value = '10';
    el.dispatchEvent(new Event('input', { bubbles: true }));
  });
  await page.waitForFunction(() => location.search.includes('horizon=10') && location.search.includes('rollouts=64'));
});

check('explain: one step of the dream opened up, stage by stage', async ({ page, base }) => {
  await openDemo(page, base, '?demo=explain&seed=3', 'Explaining on');
  assert.ok((await canvasInfo(page, 'explain-frame')).colours > 1, 'no frame before the first step');
  await page.click(byTestId('explain-step'));
  await expectText(page, 'explain-steps', '1 steps');
  for (const id of ['explain-stage-2', 'explain-change', 'explain-likeliest', 'explain-state', 'explain-next-frame', 'explain-truth']) {
    assert.ok((await canvasInfo(page, id)).colours > 1, `${id} is blank after a step`);
  }
  assert.match(await page.textContent(byTestId('explain-tracked')), /agent at \(/);
  // Clicking a pixel asks what the model says of it.
  const box = await page.locator(byTestId('explain-change')).boundingBox();
  await page.mouse.click(box.x + 1, box.y + 1);
  await page.waitForFunction((s) => document.querySelector(s)?.textContent.startsWith('pixel (0, 0)'), byTestId('explain-pixel'));
  await page.click(byTestId('explain-step'));
  await expectText(page, 'explain-steps', '2 steps');
  await page.screenshot({ path: join(OUT, 'explain.png'), fullPage: true });
});

check('a lesson link hides the controls it names', async ({ page, base }) => {
  await page.goto(`${base}/?demo=plan&seed=5&hide=tabs,rollouts`);
  await page.waitForSelector(byTestId('plan-demo'));
  assert.equal(await page.locator(byTestId('tabs')).count(), 0);
  assert.equal(await page.locator(byTestId('rollouts')).count(), 0);
  assert.equal(await page.locator(byTestId('horizon')).count(), 1);
  await page.goto(`${base}/?seed=2&paused=1&hide=temperature,seed,nonsense`);
  await page.waitForSelector(byTestId('dream-demo'));
  assert.equal(await page.locator(byTestId('temperature')).count(), 0);
  assert.equal(await page.locator(byTestId('seed-input')).count(), 0);
  assert.equal(await page.locator(byTestId('resync')).count(), 1);
  const notices = await page.textContent(byTestId('url-notices'));
  assert.ok(notices.includes('nonsense cannot be hidden'), notices);
});

check('a lively scene at 1280x800 for the README', async ({ page, base }) => {
  await open(page, base, '?seed=1&paused=1');
  // Drive north-west into the cyan ball, west through the balls, then south-west, stepping
  // with the period key.
  const drive = async (keys, frames) => {
    for (const key of keys) await page.keyboard.down(key);
    for (let i = 0; i < frames; i++) await page.keyboard.press('Period');
    for (const key of keys) await page.keyboard.up(key);
  };
  await drive(['ArrowUp', 'ArrowLeft'], 4);
  await drive(['ArrowLeft'], 16);
  await drive(['ArrowDown', 'ArrowLeft'], 8);
  await expectText(page, 'frame-counter', '28');
  const lines = await page.locator(`${byTestId('caption-log')} .log-line`).count();
  assert.ok(lines > 0, 'driving through the scene for 4 s logged no events');
  // The model's dream of the same drive, every step dreamed.
  await waitScored(page, 28, { exactly: true, timeout: 180_000 });
  await page.mouse.move(0, 0);
  await page.screenshot({ path: join(OUT, 'desktop.png') });
  if (process.env.UPDATE_SCREENSHOT === '1') {
    await page.screenshot({ path: join(ROOT, 'docs', 'screenshot.png') });
  }
});

async function main() {
  const index = join(DIST, 'index.html');
  assert.ok(existsSync(index), `no ${index}: run trunk build --release first`);
  assert.ok(
    !readFileSync(index, 'utf8').includes('.well-known/trunk/ws'),
    `${index} was written by trunk serve (it expects trunk's live-reload server): run trunk build --release first`,
  );
  mkdirSync(OUT, { recursive: true });
  // E2E_ONLY=<regex> runs only the checks whose names match.
  const only = process.env.E2E_ONLY ? new RegExp(process.env.E2E_ONLY) : null;
  const selected = checks.filter(({ name }) => !only || only.test(name));
  const server = await serve(DIST);
  const base = `http://127.0.0.1:${server.address().port}`;
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  let failed = 0;
  try {
    for (const { name, run } of selected) {
      const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
      const problems = [];
      const allowed = [];
      const allow = (pattern) => allowed.push(pattern);
      page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
      page.on('console', (message) => {
        const text = message.text();
        if (process.env.E2E_CONSOLE) console.log(`     [${new Date().toISOString().slice(11, 19)} ${message.type()}] ${text}`);
        if (message.type() === 'error' && !allowed.some((p) => p.test(text))) problems.push(`console error: ${text}`);
      });
      try {
        await run({ page, browser, base, allow });
        assert.deepEqual(problems, [], 'the page reported errors');
        console.log(`ok   ${name}`);
      } catch (error) {
        failed += 1;
        console.log(`FAIL ${name}\n     ${String(error.stack ?? error).split('\n').join('\n     ')}`);
        await page.screenshot({ path: join(OUT, `failed-${checks.findIndex((c) => c.name === name)}.png`) }).catch(() => {});
      } finally {
        await page.close();
      }
    }
  } finally {
    await browser.close();
    server.close();
  }
  console.log(`e2e: ${selected.length - failed} of ${selected.length} checks passed; screenshots in ${OUT}`);
  process.exit(failed === 0 ? 0 : 1);
}

await main();
