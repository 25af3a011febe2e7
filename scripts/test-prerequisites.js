#!/usr/bin/env node
// The first step of `npm test`: the suites need, beyond Postgres and Redis, Debian's nginx (the
// load balancer of `npm run stack` and its test), chromium (the web page tests) and Ceph's S3
// gateway with a monitor and an OSD behind it (the S3 storage tests start one). Installs what
// is missing when it can (root with apt-get), otherwise stops with the one command to run.
// Idempotent: with everything present it only looks.
'use strict';

const { existsSync, rmSync, writeFileSync } = require('node:fs');
const { spawnSync } = require('node:child_process');

/** Debian package → the file whose presence means it is installed. */
const PACKAGES = {
  nginx: '/usr/sbin/nginx',
  chromium: '/usr/bin/chromium',
  radosgw: '/usr/bin/radosgw',
  'ceph-mon': '/usr/bin/ceph-mon',
  'ceph-osd': '/usr/bin/ceph-osd',
  // ceph, ceph-authtool, monmaptool: the tools that set a cluster up.
  'ceph-common': '/usr/bin/ceph-authtool',
};

const missing = Object.keys(PACKAGES).filter((name) => !existsSync(PACKAGES[name]));
if (missing.length === 0) process.exit(0);

const installCommand = `apt-get install -y --no-install-recommends ${missing.join(' ')}`;
const isRoot = process.getuid?.() === 0;
const hasApt = existsSync('/usr/bin/apt-get');
if (!isRoot || !hasApt) {
  const how = hasApt ? `sudo ${installCommand}` : `install ${missing.join(' ')} with your system's package manager`;
  console.error(`[test-prerequisites] the tests need ${missing.join(' and ')}, which ${missing.length > 1 ? 'are' : 'is'} not installed. Run: ${how}`);
  process.exit(1);
}

/** Runs a command with apt's output hidden unless it fails; returns whether it succeeded. */
function run(command, args) {
  const result = spawnSync(command, args, { env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' }, encoding: 'utf8' });
  if (result.status !== 0) process.stderr.write(result.stdout + result.stderr);
  return result.status === 0;
}

console.log(`[test-prerequisites] installing ${missing.join(' ')} (Debian packages the tests need)`);
// Keep the packages from starting system services (nginx on port 80, Ceph daemons): the tests run their own.
const policy = '/usr/sbin/policy-rc.d';
const addedPolicy = !existsSync(policy);
if (addedPolicy) writeFileSync(policy, '#!/bin/sh\nexit 101\n', { mode: 0o755 });
try {
  const args = ['install', '-y', '--no-install-recommends', ...missing];
  // A machine's package lists may be stale or absent: update once and try again.
  const installed = run('apt-get', args) || (run('apt-get', ['update']) && run('apt-get', args));
  if (!installed) {
    console.error(`[test-prerequisites] could not install ${missing.join(' ')}; run: ${installCommand}`);
    process.exit(1);
  }
} finally {
  if (addedPolicy) rmSync(policy, { force: true });
}
