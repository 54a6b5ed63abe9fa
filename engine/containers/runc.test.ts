import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Runc } from './runc.js';

/** Real FIFOs laid out as runc 1.x keeps them (<root>/<id>/exec.fifo), with a stand-in for `runc init`. */
describe('Runc.start through the exec FIFO', () => {
  let root: string;
  beforeEach(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'runc-fifo-'));
  });
  afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

  function fifoFor(id: string): string {
    fs.mkdirSync(path.join(root, id));
    const fifo = path.join(root, id, 'exec.fifo');
    execFileSync('mkfifo', [fifo]);
    return fifo;
  }

  it('releases the waiting init (it reads the byte init writes) and removes the FIFO', async () => {
    const fifo = fifoFor('c1');
    // Like runc init: blocks opening the FIFO for writing, writes "0", then goes on.
    const init = spawn('sh', ['-c', `printf 0 > ${fifo}; echo released`], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    init.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise((r) => init.stdout.once('end', r));
    await new Runc('/bin/false', root).start('c1', init.pid!);
    await exited;
    expect(out).toBe('released\n');
    expect(fs.existsSync(fifo)).toBe(false);
  });

  it('fails with a clear error, instead of hanging, when init died before the start', async () => {
    const fifo = fifoFor('c2');
    const dead = spawn('true');
    await new Promise((r) => dead.once('exit', r));
    const started = Date.now();
    await expect(new Runc('/bin/false', root).start('c2', dead.pid!)).rejects.toThrow(/init process exited before it was started/);
    expect(Date.now() - started).toBeLessThan(2000);
    expect(fs.existsSync(fifo)).toBe(true);
  });

  it('falls back to `runc start` when the FIFO is not there', async () => {
    // /bin/false stands in for a runc that fails: the error says which command ran.
    await expect(new Runc('/bin/false', root).start('c3', process.pid)).rejects.toThrow();
  });
});
