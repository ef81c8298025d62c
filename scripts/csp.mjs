// Trunk post-build hook: gives the built page its Content-Security-Policy.
//
// The policy allows scripts and wasm from the page's own origin only ('self' and
// 'wasm-unsafe-eval'), plus trunk's one inline start-up script by its sha256 (a static site
// cannot hand out nonces); fetches, workers, styles and images from the same origin; nothing
// else. It goes into index.html as a <meta> tag (which every host serves) and into `_headers`
// (the header file static hosts such as Netlify and Cloudflare Pages read), where it also
// covers the worker's scripts and adds the directives a <meta> tag cannot carry.
//
// Run by trunk (see Trunk.toml) with TRUNK_STAGING_DIR set; `node scripts/csp.mjs DIR` runs it
// on a built folder by hand.

import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const dir = process.argv[2] ?? process.env.TRUNK_STAGING_DIR;
if (!dir) {
  console.error('csp.mjs: no folder: run it from trunk (TRUNK_STAGING_DIR) or pass the folder');
  process.exit(2);
}
const indexPath = join(dir, 'index.html');
let html = readFileSync(indexPath, 'utf8');

const PLACEHOLDER = '__CONTENT_SECURITY_POLICY__';
if (!html.includes(PLACEHOLDER)) {
  console.error(`csp.mjs: ${indexPath} has no ${PLACEHOLDER} placeholder to fill`);
  process.exit(1);
}

// Every inline script, hashed exactly as the browser will (its text between the tags).
const hashes = [...html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/g)]
  .filter(([, attributes]) => !/\bsrc\s*=/.test(attributes))
  .map(([, , body]) => `'sha256-${createHash('sha256').update(body, 'utf8').digest('base64')}'`);

const shared = [
  "default-src 'self'",
  `script-src 'self' 'wasm-unsafe-eval' ${hashes.join(' ')}`.trim(),
  "worker-src 'self'",
  "connect-src 'self'",
  "style-src 'self'",
  "img-src 'self' data: blob:",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
];
const meta = shared.join('; ');
// Directives only a header can carry.
const header = [...shared, "frame-ancestors 'none'"].join('; ');

html = html.replace(PLACEHOLDER, meta);
writeFileSync(indexPath, html);
writeFileSync(
  join(dir, '_headers'),
  [
    '/*',
    `  Content-Security-Policy: ${header}`,
    '  X-Content-Type-Options: nosniff',
    '  Referrer-Policy: no-referrer',
    '  Cross-Origin-Opener-Policy: same-origin',
    '',
  ].join('\n'),
);
console.log(`csp.mjs: ${hashes.length} inline script(s) allowed by hash; policy in index.html and _headers`);
