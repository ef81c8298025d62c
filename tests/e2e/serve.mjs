// The built site served as a static host would serve it, and the browser that opens it: shared
// by the end-to-end checks (smoke.mjs) and the first-frame benchmark (first_frame.mjs).

import { createReadStream, existsSync, readFileSync, statSync } from 'node:fs';
import { createServer } from 'node:http';
import { basename, dirname, extname, join, normalize, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const DIST = resolve(process.env.DIST_DIR ?? join(ROOT, 'dist'));
export const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';

// Headless flags that work on a machine without a GPU or outside network (see the toolchain
// notes); playwright adds --headless itself.
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--enable-unsafe-webgpu',
  '--enable-features=Vulkan',
  '--use-vulkan=swiftshader',
  '--use-webgpu-adapter=swiftshader',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

const CONTENT_TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.wasm': 'application/wasm',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.json': 'application/json',
};

/** The headers `dir/_headers` (the static hosts' format, written by scripts/csp.mjs) sets for
 * every path. */
function siteHeaders(dir) {
  const file = join(dir, '_headers');
  if (!existsSync(file)) return {};
  const headers = {};
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const match = line.match(/^\s+([A-Za-z-]+):\s*(.+)$/);
    if (match) headers[match[1].toLowerCase()] = match[2];
  }
  return headers;
}

/** Serves `dir` on 127.0.0.1 at a free port, with the site's headers; unknown paths get
 * index.html. `fault(n, response, file)` may answer the n-th request for the weights file
 * files (counted over all of them; return true when it did): for drills of a failing server or network. */
export function serve(dir, fault) {
  const site = siteHeaders(dir);
  let weightsRequests = 0;
  const byFile = {};
  const server = createServer((request, response) => {
    const path = decodeURIComponent(new URL(request.url, 'http://localhost').pathname);
    let file = normalize(join(dir, path));
    if (!file.startsWith(dir + sep) || !existsSync(file) || statSync(file).isDirectory()) {
      file = join(dir, 'index.html');
    }
    if (file.endsWith('.safetensors')) {
      weightsRequests += 1;
      server.weightsRequests = weightsRequests;
      const name = basename(file);
      byFile[name] = (byFile[name] ?? 0) + 1;
      if (fault?.(weightsRequests, response, file)) return;
    }
    response.writeHead(200, {
      ...site,
      'content-type': CONTENT_TYPES[extname(file)] ?? 'application/octet-stream',
      'content-length': statSync(file).size,
      'cache-control': 'no-store',
    });
    createReadStream(file).pipe(response);
  });
  server.weightsRequests = 0;
  // Requests per weights file name, e.g. { 'student.safetensors': 3 }.
  server.weightsByFile = byFile;
  return new Promise((done) => server.listen(0, '127.0.0.1', () => done(server)));
}

