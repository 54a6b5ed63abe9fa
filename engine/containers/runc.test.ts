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

/** runc 1.x state dirs as `runc create` leaves them, with plain directories standing in for cgroups. */
describe('Runc.deleteStopped', () => {
  let root: string;
  let log: string;
  let fakeRunc: string;
  beforeEach(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'runc-del-'));
    log = path.join(root, 'calls.log');
    // Records how it was called, so a test sees whether the real `runc delete` would have run.
    fakeRunc = path.join(root, 'fake-runc');
    fs.writeFileSync(fakeRunc, `#!/bin/sh\necho "$@" >> ${log}\n`, { mode: 0o755 });
  });
  afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

  function stateFor(id: string, opts: { pidns?: 'own' | 'shared'; initPid?: number } = {}): { dir: string; cgroups: string[] } {
    const dir = path.join(root, 'state', id);
    fs.mkdirSync(dir, { recursive: true });
    const cgroups = ['memory', 'pids', 'unified'].map((h) => path.join(root, 'cgroup', h, 'berth', id));
    for (const c of cgroups) fs.mkdirSync(c, { recursive: true });
    const namespaces = [{ type: 'NEWNS', path: '' }, opts.pidns === 'shared' ? { type: 'NEWPID', path: '/proc/1/ns/pid' } : { type: 'NEWPID', path: '' }];
    const state = { id, init_process_pid: opts.initPid ?? 0, cgroup_paths: { memory: cgroups[0], pids: cgroups[1], '': cgroups[2] }, config: { namespaces } };
    fs.writeFileSync(path.join(dir, 'state.json'), JSON.stringify(state));
    fs.writeFileSync(path.join(dir, 'exec.fifo'), '');
    return { dir, cgroups };
  }
  const calls = () => (fs.existsSync(log) ? fs.readFileSync(log, 'utf8') : '');

  it('removes the cgroups and the state dir itself when init is gone and had its own PID namespace', async () => {
    const { dir, cgroups } = stateFor('c1');
    await new Runc(fakeRunc, path.join(root, 'state')).deleteStopped('c1');
    expect(cgroups.filter((c) => fs.existsSync(c))).toEqual([]);
    expect(fs.existsSync(dir)).toBe(false);
    expect(calls()).toBe('');
  });

  it('leaves the work to `runc delete --force` when processes may outlive init (shared PID namespace)', async () => {
    stateFor('c2', { pidns: 'shared' });
    await new Runc(fakeRunc, path.join(root, 'state')).deleteStopped('c2');
    expect(calls()).toContain('delete --force c2');
  });

  it('leaves it to runc when init still runs, or a cgroup cannot be removed', async () => {
    stateFor('c3', { initPid: process.pid });
    await new Runc(fakeRunc, path.join(root, 'state')).deleteStopped('c3');
    expect(calls()).toContain('delete --force c3');

    const { cgroups } = stateFor('c4');
    fs.writeFileSync(path.join(cgroups[0]!, 'busy'), ''); // ENOTEMPTY, as a cgroup with a child would be
    await new Runc(fakeRunc, path.join(root, 'state')).deleteStopped('c4');
    expect(calls()).toContain('delete --force c4');
  });

  it('does nothing for a container runc no longer knows', async () => {
    await new Runc(fakeRunc, path.join(root, 'state')).deleteStopped('gone');
    expect(calls()).toBe('');
  });
});
