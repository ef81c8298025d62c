// Writes the report section of docs/BENCHMARKS.md from the raw outputs scripts/bench.sh
// leaves in its folder: one table, each figure with the machine it ran on and its ratio to the
// comparison measured in the same run.
//
//   node scripts/bench_report.mjs target/bench docs/BENCHMARKS.md

import { execSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { gzipSync } from 'node:zlib';
import { join } from 'node:path';

const [dir, doc] = process.argv.slice(2);
if (!dir || !doc) {
  console.error('usage: node scripts/bench_report.mjs RAW_DIR docs/BENCHMARKS.md');
  process.exit(2);
}
const read = (name) => readFileSync(join(dir, name), 'utf8');
const fail = (what) => {
  throw new Error(`bench_report: ${what}`);
};
const number = (text, pattern, what) => {
  const m = text.match(pattern) ?? fail(`no ${what} in the output (${pattern})`);
  return Number(m[1].replace(/,/g, ''));
};
const fmt = (x, digits = 0) => x.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
const ratio = (x) => `${x >= 10 ? fmt(x, 0) : fmt(x, 2)}x`;

const cpu = `${cpus()[0]?.model ?? 'unknown CPU'}, ${cpus().length} cores, no GPU`;
const runtime = read('runtime.md');
const adapter = runtime.match(/Adapter for the WGSL rows: ([^(]+\([^)]*\)[^(]*\([^)]*\))/)?.[1]?.trim() ?? 'unknown adapter';
const browser = read('browser.txt');
const browserAdapter = browser.match(/WebGPU adapter (.+?) \(peak/)?.[1] ?? 'unknown adapter';
const first = JSON.parse(read('first_frame.json'));
const machine = {
  cpu: `this machine (${cpu})`,
  vulkan: `this machine, ${adapter}`,
  // The flags (tests/e2e/serve.mjs, shaders/webdriver.json) pick SwiftShader; Chromium does
  // not tell pages the adapter's name.
  chromium: `headless Chromium ${first.chromium} on this machine, WebGPU on SwiftShader ${browserAdapter.trim()}`,
};

const rows = [];
const row = (figure, value, comparison, r, where) => rows.push(`| ${figure} | ${value} | ${comparison} | ${r} | ${where} |`);

// Dataset generation, one core.
const plain = number(read('dataset-plain.txt'), /: ([\d.]+) frames\/s/, 'frames/s');
const questions = number(read('dataset-questions.txt'), /: ([\d.]+) frames\/s/, 'frames/s');
row('dataset generation, 64x64 frames/s on one core (simulate + render)', fmt(plain), 'target 2,000', ratio(plain / 2000), machine.cpu);
row('the same with questions (look-ahead, counterfactual re-simulation)', fmt(questions), `without questions ${fmt(plain)}`, ratio(questions / plain), machine.cpu);

// Training step.
const burn = number(read('burn.txt'), /median ([\d.]+) ms/, 'burn median');
const torch = JSON.parse(read('torch.json'));
const torchMs = torch.results[0].median_ms;
row(`training step, teacher, batch 32, 2 threads: burn flex (ms)`, fmt(burn), `PyTorch ${torch.torch} CPU ${fmt(torchMs)} ms`, `${ratio(burn / torchMs)} the time`, machine.cpu);

// Runtime, native.
const runner = (name) => {
  const line = runtime.split('\n').find((l) => l.startsWith(`| ${name} |`)) ?? fail(`no "${name}" row in runtime.md`);
  const cells = line.split('|').slice(2, -1).map((c) => Number(c.trim().replace(/,/g, '')));
  return { t1: cells[0], t64: cells[1], t1024: cells[2], t4096: cells[3], dream: cells[5], plan: cells[6] };
};
const [ours, cpuPath, flex, bwgpu] = ['ours, WGSL', 'ours, CPU path', 'burn flex (CPU)', 'burn wgpu'].map(runner);
row('planning, CEM 1000x10x12, WGSL kernels (ms)', fmt(ours.plan), `burn wgpu ${fmt(bwgpu.plan)} ms`, `${ratio(bwgpu.plan / ours.plan)} faster`, machine.vulkan);
row('the same, CPU path (ms)', fmt(cpuPath.plan), `WGSL ${fmt(ours.plan)} ms; burn flex ${fmt(flex.plan)} ms`, `WGSL ${ratio(cpuPath.plan / ours.plan)} as fast`, machine.cpu);
row('transitions/s at batch 4096, WGSL kernels', fmt(ours.t4096), `burn wgpu ${fmt(bwgpu.t4096)}; CPU path ${fmt(cpuPath.t4096)}`, `${ratio(ours.t4096 / bwgpu.t4096)} burn wgpu, ${ratio(ours.t4096 / cpuPath.t4096)} CPU path`, machine.vulkan);
row('dream frame, batch 1, WGSL kernels (ms)', fmt(ours.dream, 1), `burn wgpu ${fmt(bwgpu.dream, 1)} ms; CPU path ${fmt(cpuPath.dream, 1)} ms`, `${ratio(bwgpu.dream / ours.dream)} faster than burn wgpu`, machine.vulkan);

// Runtime, in the browser.
const cell = (label) => {
  const line = browser.split('\n').find((l) => l.includes(`| ${label} |`)) ?? fail(`no "${label}" row in browser.txt`);
  return line.split('|').slice(2, 4).map((c) => Number(c.trim().replace(/,/g, '')));
};
const [bPlanG, bPlanC] = cell('plan, 1000x10x12 (ms)');
const [bT4096G, bT4096C] = cell('transitions/s, batch 4096');
row('in the browser: planning, CPU path in wasm32 (ms)', fmt(bPlanC), `WGSL on WebGPU ${fmt(bPlanG)} ms`, `CPU path ${ratio(bPlanG / bPlanC)} faster`, machine.chromium);
row('in the browser: transitions/s at batch 4096, WGSL on WebGPU', fmt(bT4096G), `CPU path ${fmt(bT4096C)}`, ratio(bT4096G / bT4096C), machine.chromium);

// The page.
const dist = 'dist';
const files = readdirSync(dist);
const size = (f) => readFileSync(join(dist, f)).length;
const gz = (f) => gzipSync(readFileSync(join(dist, f)), { level: 9 }).length;
const pageWasm = files.find((f) => /^app-.*_bg\.wasm$/.test(f)) ?? fail('no page wasm in dist/');
const weights = join('weights', 'student.safetensors');
const total = gz(pageWasm) + gz('worker_bg.wasm') + size(weights);
row('page weight: page wasm, gzip (bytes)', fmt(gz(pageWasm)), `raw ${fmt(size(pageWasm))}`, ratio(gz(pageWasm) / size(pageWasm)), 'trunk build --release');
row('page weight: worker wasm, gzip (bytes)', fmt(gz('worker_bg.wasm')), `raw ${fmt(size('worker_bg.wasm'))}`, ratio(gz('worker_bg.wasm') / size('worker_bg.wasm')), 'trunk build --release');
row('page weight: weights (bytes)', fmt(size(weights)), `gzip ${fmt(gz(weights))}`, ratio(gz(weights) / size(weights)), 'trunk build --release');
row('page weight: all a first visit downloads before it dreams (wasm gzip + weights, bytes)', fmt(total), `the page wasm alone ${fmt(gz(pageWasm))}`, ratio(total / gz(pageWasm)), 'trunk build --release');
row(`time to the first imagined frame, nothing cached (ms, median of ${first.runs})`, fmt(first.cold.dreamed), `first simulator frame ${fmt(first.cold.world)} ms`, ratio(first.cold.dreamed / first.cold.world), machine.chromium);
row('the same, weights in the browser cache (ms)', fmt(first.warm.dreamed), `nothing cached ${fmt(first.cold.dreamed)} ms`, ratio(first.warm.dreamed / first.cold.dreamed), machine.chromium);

const when = new Date().toISOString().slice(0, 16).replace('T', ' ');
let revision = 'unknown';
try {
  revision = execSync('git rev-parse --short HEAD', { encoding: 'utf8' }).trim();
} catch {}
const section = [
  `Measured ${when} UTC at revision ${revision} by \`bash scripts/bench.sh\` (raw outputs in \`target/bench/\`).`,
  'This machine is shared and noisy: read the ratios, each measured in the same run as its comparison.',
  '',
  '| figure | value | compared with | ratio | where |',
  '|---|---:|---|---:|---|',
  ...rows,
  '',
].join('\n');

const START = '<!-- report:start -->';
const END = '<!-- report:end -->';
const text = readFileSync(doc, 'utf8');
const a = text.indexOf(START);
const b = text.indexOf(END);
if (a < 0 || b < a) fail(`${doc} has no ${START} ... ${END} section`);
writeFileSync(doc, `${text.slice(0, a + START.length)}\n${section}${text.slice(b)}`);
console.log(section);
console.log(`wrote the report into ${doc}`);
