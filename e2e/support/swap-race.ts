/**
 * A process that swaps two names as fast as it can with renameat2(RENAME_EXCHANGE) — a container
 * exchanging a regular file and a FIFO under a path the daemon is reading (issue 10, item 3). It
 * runs on the host against the container's tree (/proc/<pid>/root/...), which is what the daemon
 * sees too; the busybox image has no renameat2. Bounded in time; reports how many swaps it made.
 */
import { spawn } from 'node:child_process';
import { repoRoot } from './paths.js';

const script = `
import koffi from 'koffi';
const lib = koffi.load('libc.so.6');
const renameat2 = lib.func('int renameat2(int olddirfd, const char *oldpath, int newdirfd, const char *newpath, unsigned int flags)');
const [a, b, ms] = [process.argv[1], process.argv[2], Number(process.argv[3])];
const end = Date.now() + ms;
let n = 0, failed = 0;
while (Date.now() < end) {
  for (let i = 0; i < 200; i++) if (renameat2(-100, a, -100, b, 2) === 0) n++; else failed++;
}
process.stdout.write(JSON.stringify({ swaps: n, failed }));
`;

export function swapRace(a: string, b: string, durationMs: number): Promise<{ swaps: number; failed: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', script, a, b, String(durationMs)], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.once('error', reject);
    child.once('exit', (code) => {
      if (code !== 0) reject(new Error(`swap-race exited ${code}: ${err}`));
      else resolve(JSON.parse(out) as { swaps: number; failed: number });
    });
  });
}
