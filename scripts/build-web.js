#!/usr/bin/env node
// Bundles the web page (apps/web/src) into dist/web: page.js (the page and the client SDK, with
// @noble/hashes) beside index.html and styles.css, which the API serves at `/`. The page targets
// the DOM, so it has its own tsconfig; esbuild does not type-check, so tsc does that first.
// Plain CommonJS, like stack.js.
'use strict';

const { spawnSync } = require('node:child_process');
const { copyFileSync, mkdirSync, rmSync } = require('node:fs');
const { join } = require('node:path');

const root = join(__dirname, '..');
const source = join(root, 'apps/web/src');
const out = join(root, 'dist/web');

function typeCheck() {
  const tsc = require.resolve('typescript/bin/tsc');
  const result = spawnSync(process.execPath, [tsc, '-p', join(root, 'apps/web/tsconfig.json')], { stdio: 'inherit' });
  if (result.status !== 0) throw new Error('the web page does not type-check (see above).');
}

async function bundle() {
  const esbuild = require('esbuild');
  await esbuild.build({
    entryPoints: [join(source, 'page.ts')],
    outfile: join(out, 'page.js'),
    bundle: true,
    // A browser bundle: an import of a node: module anywhere in it fails the build.
    platform: 'browser',
    format: 'iife',
    target: ['es2022'],
    minify: true,
    sourcemap: true,
    logLevel: 'warning',
  });
}

async function main() {
  typeCheck();
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  await bundle();
  for (const name of ['index.html', 'styles.css']) copyFileSync(join(source, name), join(out, name));
  console.log(`Web page built into ${out}`);
}

main().catch((error) => {
  console.error(`build-web: ${error.message}`);
  process.exit(1);
});
