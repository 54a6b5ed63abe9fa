import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// The launcher as the payload ships it (bundled from this source), running a small CommonJS program.
let dir: string;
let launcher: string;
const program = (body: string) => {
  const f = path.join(dir, `p${Math.random().toString(36).slice(2)}.cjs`);
  fs.writeFileSync(f, `#!/usr/bin/env node\n${body}\n`);
  return f;
};
const run = (file: string, args: string[]) => execFileSync(process.execPath, [launcher, file, ...args], { env: { ...process.env, BERTH_CODE_CACHE_DIR: '' }, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
/** Runs the program with a cache folder; returns the launcher's report (stderr). */
function launchReport(file: string, cacheDir: string): string {
  const r = spawnSync(process.execPath, [launcher, file], { env: { ...process.env, BERTH_CODE_CACHE_DIR: cacheDir }, encoding: 'utf8' });
  expect(r.status, r.stderr).toBe(0);
  return r.stderr;
}

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-launch-'));
  launcher = path.join(dir, 'launch.mjs');
  await build({ entryPoints: [path.join(import.meta.dirname, 'launch.ts')], bundle: true, platform: 'node', format: 'esm', target: 'node20', outfile: launcher, logLevel: 'warning' });
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('launch (the guest programs with V8 code cache)', () => {
  it('runs a CommonJS bundle with its arguments, require and module in place', () => {
    const f = program(`const os = require('node:os'); module.exports = 1; console.log(JSON.stringify({ argv: process.argv.slice(2), file: __filename === process.argv[1], typ: typeof os.cpus, exp: module.exports }));`);
    expect(JSON.parse(run(f, ['--flag', 'x']))).toEqual({ argv: ['--flag', 'x'], file: true, typ: 'function', exp: 1 });
  });

  it('writes a cache when the program is ready and uses it on the next start; another bundle never takes it', () => {
    const cache = path.join(dir, 'cache');
    const f = program(`function work(n) { return n * 2; } console.log(work(21)); process.emit('berth:ready');`);
    const first = launchReport(f, cache);
    expect(first).toMatch(/code cache miss/);
    const files = fs.readdirSync(cache);
    expect(files).toHaveLength(1);
    expect(files[0]).toMatch(new RegExp(`^${path.basename(f)}-[0-9a-f]{16}\\.v8cache$`));
    expect(launchReport(f, cache)).toMatch(/code cache hit/);
    // Same length, other text: a new key (V8 itself would only compare the length).
    fs.writeFileSync(f, fs.readFileSync(f, 'utf8').replace('n * 2', 'n + n'));
    expect(launchReport(f, cache)).toMatch(/code cache miss/);
    // The old bundle's cache was replaced, not kept beside the new one.
    expect(fs.readdirSync(cache)).toHaveLength(1);
  });

  it('starts without a cache folder', () => {
    const f = program(`console.log('ok')`);
    const r = execFileSync(process.execPath, [launcher, f], { env: { ...process.env, BERTH_CODE_CACHE_DIR: '' }, encoding: 'utf8' });
    expect(r).toBe('ok\n');
  });
});
