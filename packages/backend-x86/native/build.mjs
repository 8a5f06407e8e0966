#!/usr/bin/env node
// Builds the DPDK addon (native/build/Release/flextoe_dpdk.node) when this host can: the
// package's `install` script, so `npm ci` builds it where libdpdk-dev is installed and skips it,
// with a message, where it is not. It never fails the install: without the addon only the
// `dpdk` port driver is unavailable, and choosing it says which package to install.
//
//   node native/build.mjs            build if possible (install script)
//   node native/build.mjs --require  build or exit 1 (for CI and developers who want DPDK)
import { spawnSync } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const required = process.argv.includes('--require');
const say = (msg) => console.log(`@flextoe/backend-x86: ${msg}`);

function skip(why) {
  say(`DPDK addon not built: ${why}. The dpdk port driver stays unavailable (tap and virtual work).`);
  say(
    'To build it: apt-get install libdpdk-dev pkg-config build-essential, then npm rebuild @flextoe/backend-x86',
  );
  process.exit(required ? 1 : 0);
}

if (process.env.FLEXTOE_SKIP_DPDK_ADDON) skip('FLEXTOE_SKIP_DPDK_ADDON is set');
if (process.platform !== 'linux') skip(`DPDK is built for Linux, this is ${process.platform}`);
const pc = spawnSync('pkg-config', ['--modversion', 'libdpdk'], { encoding: 'utf8' });
if (pc.error) skip('pkg-config is not installed');
if (pc.status !== 0) skip('libdpdk not found by pkg-config (Debian/Ubuntu package: libdpdk-dev)');
say(`building the DPDK addon against libdpdk ${pc.stdout.trim()}`);

// node-gyp: npm's own copy when run by npm, else one that resolves from here.
const require = createRequire(import.meta.url);
let gyp = process.env.npm_config_node_gyp;
if (!gyp || !existsSync(gyp)) {
  try {
    gyp = require.resolve('node-gyp/bin/node-gyp.js');
  } catch {
    const npmGyp = resolve(
      dirname(process.execPath),
      '../lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js',
    );
    if (existsSync(npmGyp)) gyp = npmGyp;
    else skip('node-gyp not found (it ships with npm; run this through npm)');
  }
}
// Use the headers of the running node when they are installed beside it, so the build needs no
// download from nodejs.org (CI reaches only the npm registry and apt).
const args = [gyp, 'rebuild', '--loglevel=warn'];
const nodeDir = resolve(dirname(process.execPath), '..');
if (existsSync(join(nodeDir, 'include', 'node', 'node_api.h'))) args.push(`--nodedir=${nodeDir}`);
const r = spawnSync(process.execPath, args, { cwd: here, stdio: 'inherit' });
if (r.status !== 0) {
  rmSync(join(here, 'build'), { recursive: true, force: true });
  skip(`node-gyp failed (exit ${r.status ?? r.signal})`);
}
say('DPDK addon built: native/build/Release/flextoe_dpdk.node');
