// Time to the first imagined frame in headless Chromium: serves dist/ on 127.0.0.1, opens the
// Dream tab (running) in a fresh browser context, and records, from navigation start, when
// the simulator's first frame is painted, when the model is ready, and when its first dreamed
// frame is scored. Then the same page again in the same context: the weights now come from
// the browser's cache. Prints a table and, with --json FILE, writes the figures.
//
//   trunk build --release && node tests/e2e/first_frame.mjs [--runs 3] [--json out.json]

import { writeFileSync } from 'node:fs';
import { chromium } from 'playwright-core';
import { CHROMIUM, CHROMIUM_ARGS, DIST, serve } from './serve.mjs';

const args = process.argv.slice(2);
const option = (name, fallback) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : fallback;
};
const RUNS = Number(option('--runs', '3'));
const JSON_OUT = option('--json');

const at = (page, condition) =>
  page
    .waitForFunction(new Function(`return (${condition}) && performance.now()`), null, { timeout: 300_000, polling: 10 })
    .then((handle) => handle.jsonValue());

const PAINTED = `(() => {
  const c = document.querySelector('[data-testid="world-canvas"]');
  if (!c) return false;
  const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
  return d.some((v, i) => v !== d[i % 4]);
})()`;
const READY = `document.querySelector('[data-testid="model-status"]')?.textContent.startsWith('Dreaming on')`;
const DREAMED = `(document.querySelector('[data-testid="psnr-plot"] polyline.psnr')?.getAttribute('points') ?? '').trim().length > 0`;

async function visit(page, url) {
  await page.goto(url);
  const world = await at(page, PAINTED);
  const ready = await at(page, READY);
  const dreamed = await at(page, DREAMED);
  return { world, ready, dreamed };
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function main() {
  const server = await serve(DIST);
  const url = `http://127.0.0.1:${server.address().port}/?seed=1`;
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  const cold = [];
  const warm = [];
  try {
    for (let i = 0; i < RUNS; i++) {
      const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
      const page = await context.newPage();
      cold.push(await visit(page, url));
      warm.push(await visit(page, url));
      await context.close();
    }
  } finally {
    await browser.close();
    server.close();
  }
  const summary = (runs) => Object.fromEntries(['world', 'ready', 'dreamed'].map((k) => [k, median(runs.map((r) => r[k]))]));
  const result = {
    chromium: browser.version(),
    runs: RUNS,
    cold: summary(cold),
    warm: summary(warm),
    all: { cold, warm },
  };
  const row = (name, s) =>
    `| ${name} | ${s.world.toFixed(0)} | ${s.ready.toFixed(0)} | ${s.dreamed.toFixed(0)} | ${(s.dreamed / s.world).toFixed(1)}x |`;
  console.log('| visit | first simulator frame (ms) | model ready (ms) | first imagined frame (ms) | imagined / simulator |');
  console.log('|---|---:|---:|---:|---:|');
  console.log(row('first (nothing cached)', result.cold));
  console.log(row('again (weights cached)', result.warm));
  if (JSON_OUT) writeFileSync(JSON_OUT, JSON.stringify(result, null, 2));
}

await main();
