#!/usr/bin/env node
// Bundles the Uppy test page (page.ts, @uppy/core and @uppy/tus) into the directory given, beside
// index.html, as scripts/build-web.js bundles the product's page: tsc type-checks it (DOM
// types, its own tsconfig), then esbuild makes one browser script of it. Plain CommonJS.
'use strict';

const { spawnSync } = require('node:child_process');
const { copyFileSync, mkdirSync } = require('node:fs');
const { join } = require('node:path');

async function main(out) {
  if (!out) throw new Error('usage: build.js <output directory>');
  const tsc = require.resolve('typescript/bin/tsc');
  const checked = spawnSync(process.execPath, [tsc, '-p', join(__dirname, 'tsconfig.json')], { encoding: 'utf8' });
  if (checked.status !== 0) throw new Error(`the Uppy test page does not type-check:\n${checked.stdout}${checked.stderr}`);
  mkdirSync(out, { recursive: true });
  await require('esbuild').build({
    entryPoints: [join(__dirname, 'page.ts')],
    outfile: join(out, 'page.js'),
    bundle: true,
    platform: 'browser',
    format: 'iife',
    target: ['es2022'],
    logLevel: 'warning',
  });
  copyFileSync(join(__dirname, 'index.html'), join(out, 'index.html'));
}

main(process.argv[2]).catch((error) => {
  console.error(`uppy-page/build: ${error.message}`);
  process.exit(1);
});
