/**
 * The container lifecycle against fakes of everything it drives (testing/fakes.ts): create,
 * start, exit, restart policies and their backoff, stop/kill between runs, --rm, pause,
 * remove during a start, and live-restore replay of records against what exists.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ConflictError, NotModifiedError } from '../errdefs.js';
import { parseCreateBody } from './create-request.js';
import { ContainerService } from './service.js';
import { RuntimeStartError } from './monitor.js';
import { fakeEngine, Gate, type FakeEngine } from './testing/fakes.js';
import type { EngineEvent } from '../events/bus.js';
import type { RestartPolicy } from '../api/types.js';
import type { ContainerLifecycleBackend } from './backend.js';

let e: FakeEngine;
let svc: ContainerService;
let events: EngineEvent[];

/** Gives asynchronous work (exit delivery, record writes) time to finish, where nothing is expected to change. */
async function settle(): Promise<void> {
  await new Promise((r) => setTimeout(r, 50));
}

/** Waits until an expectation holds (exits are delivered and handled asynchronously). */
const eventually = (fn: () => void) => vi.waitFor(fn, { timeout: 3000, interval: 5 });

/** Waits until the restart policy scheduled its timer. */
const scheduled = () => eventually(() => expect(e.clock.pending()).toHaveLength(1));

async function create(opts: { restart?: RestartPolicy; autoRemove?: boolean; name?: string } = {}): Promise<string> {
  const body = parseCreateBody({ Image: 'busybox', Cmd: ['sh'], HostConfig: { ...(opts.restart ? { RestartPolicy: opts.restart } : {}), ...(opts.autoRemove ? { AutoRemove: true } : {}) } });
  return (await svc.create(body, opts.name ?? null)).Id;
}

const status = (id: string) => svc.store.get(id).status;
const actions = (id: string) => events.filter((ev) => ev.Actor.ID === id).map((ev) => ev.Action);

beforeEach(async () => {
  e = fakeEngine();
  svc = new ContainerService(e.deps);
  events = [];
  e.events.subscribe((ev) => events.push(ev));
  await svc.init();
  svc.watchExits();
});

afterEach(async () => {
  await svc.shutdown();
  await e.cleanup();
});

describe('container lifecycle (fake runtime)', () => {
  it('create → start → exit: networking joins at each step, the exit releases everything', async () => {
    const id = await create();
    expect(status(id)).toBe('created');
    await svc.start(id);
    expect(status(id)).toBe('running');
    const c = svc.store.get(id);
    expect(c.record.state.pid).toBeGreaterThan(0);
    expect(e.networking.calls.map((x) => x[0])).toEqual(['prepare', 'launching', 'created']);
    expect(e.runtime.calls.map((x) => x[0])).toEqual(['create', 'start']);
    expect(e.filesystems.isMounted(id)).toBe(true);
    await expect(svc.start(id)).rejects.toBeInstanceOf(NotModifiedError);

    e.runtime.exit(id, 3);
    await eventually(() => expect(c.record.state).toMatchObject({ status: 'exited', exitCode: 3, pid: 0 }));
    expect(e.networking.holding.has(id)).toBe(false);
    expect(e.filesystems.isMounted(id)).toBe(false);
    expect(e.runtime.calls.map((x) => x[0])).toContain('release');
    expect(e.volumes.calls).toContainEqual(['exited', id]);
    // Recorded, so the exit file is gone: a restart will not replay it.
    await eventually(() => expect(e.runtime.exitOf(id)).toBeUndefined());
    expect(actions(id)).toEqual(['create', 'start', 'die']);
    // A second report of the same exit is stale and changes nothing.
    e.runtime.exit(id, 99);
    await eventually(() => expect(c.record.state.exitCode).toBe(3));
    expect(actions(id)).toEqual(['create', 'start', 'die']);
  });

  it('a failed start records Docker exit code and message, keeps the status, and gives everything back', async () => {
    const id = await create();
    e.runtime.failCreate = new RuntimeStartError('exec: "nope": executable file not found in $PATH');
    await expect(svc.start(id)).rejects.toThrow(/OCI runtime create failed: exec: "nope": executable file not found/);
    const c = svc.store.get(id);
    expect(c.record.state).toMatchObject({ status: 'created', exitCode: 127, pid: 0 });
    expect(c.record.state.error).toContain('executable file not found');
    expect(e.runtime.calls.map((x) => x[0])).toEqual(['create', 'destroy']);
    expect(e.networking.holding.has(id)).toBe(false);
    expect(e.filesystems.isMounted(id)).toBe(false);
    // It can be started once the cause is gone.
    await svc.start(id);
    expect(status(id)).toBe('running');
  });

  it('restart policy always: restarts after each exit with a doubling backoff, reset by a long run', async () => {
    const id = await create({ restart: { Name: 'always', MaximumRetryCount: 0 } });
    await svc.start(id);
    const c = svc.store.get(id);
    e.runtime.exit(id, 0);
    await eventually(() => expect(e.clock.pending()).toEqual([100]));
    expect(status(id)).toBe('restarting');
    expect(c.record.restartCount).toBe(1);
    e.clock.fire();
    await eventually(() => expect(status(id)).toBe('running'));
    e.runtime.exit(id, 1);
    await eventually(() => expect(e.clock.pending()).toEqual([200]));
    e.clock.fire();
    await eventually(() => expect(status(id)).toBe('running'));
    e.runtime.exit(id, 1);
    await eventually(() => expect(e.clock.pending()).toEqual([400]));
    e.clock.fire();
    await eventually(() => expect(status(id)).toBe('running'));
    // A run of ten seconds or more resets the backoff.
    c.record.state.startedAt = new Date(Date.now() - 11_000).toISOString();
    e.runtime.exit(id, 1);
    await eventually(() => expect(e.clock.pending()).toEqual([100]));
    expect(c.record.restartCount).toBe(4);
    expect(actions(id).filter((a) => a === 'start')).toHaveLength(4);
  });

  it('restart policy on-failure:2 restarts non-zero exits twice, never a zero exit', async () => {
    const id = await create({ restart: { Name: 'on-failure', MaximumRetryCount: 2 } });
    await svc.start(id);
    for (let i = 0; i < 2; i++) {
      e.runtime.exit(id, 1);
      await scheduled();
      expect(status(id)).toBe('restarting');
      e.clock.fire();
      await eventually(() => expect(status(id)).toBe('running'));
    }
    e.runtime.exit(id, 1);
    await eventually(() => expect(status(id)).toBe('exited'));
    expect(e.clock.pending()).toEqual([]);
    expect(svc.store.get(id).record.restartCount).toBe(2);

    const ok = await create({ restart: { Name: 'on-failure', MaximumRetryCount: 0 } });
    await svc.start(ok);
    e.runtime.exit(ok, 0);
    await eventually(() => expect(status(ok)).toBe('exited'));
  });

  it('unless-stopped: a stop is manual and ends the policy; a daemon start does not restart it', async () => {
    const id = await create({ restart: { Name: 'unless-stopped', MaximumRetryCount: 0 } });
    await svc.start(id);
    await svc.stop(id, { timeout: 5 });
    expect(status(id)).toBe('exited');
    expect(svc.store.get(id).record.state.exitCode).toBe(143);
    expect(svc.store.get(id).record.hasBeenManuallyStopped).toBe(true);
    expect(e.clock.pending()).toEqual([]);
    expect(actions(id)).toEqual(['create', 'start', 'kill', 'die', 'stop']);
    svc.startPolicyContainers();
    await eventually(() => expect(status(id)).toBe('exited'));
  });

  it('stop and kill between two runs of a policy end the loop without a signal', async () => {
    for (const verb of ['stop', 'kill'] as const) {
      const id = await create({ restart: { Name: 'always', MaximumRetryCount: 0 } });
      await svc.start(id);
      e.runtime.exit(id, 2);
      await scheduled();
      expect(status(id)).toBe('restarting');
      const signals = e.runtime.calls.filter((x) => x[0] === 'signal').length;
      if (verb === 'stop') await svc.stop(id);
      else await svc.kill(id, undefined);
      expect(status(id)).toBe('exited');
      expect(svc.store.get(id).record.hasBeenManuallyStopped).toBe(true);
      expect(e.runtime.calls.filter((x) => x[0] === 'signal')).toHaveLength(signals);
      // The timer is gone: firing the clock starts nothing.
      expect(e.clock.pending()).toEqual([]);
      e.clock.fire();
      await eventually(() => expect(status(id)).toBe('exited'));
    }
  });

  it('a policy start that fails ends the loop, then tries again by the policy', async () => {
    const id = await create({ restart: { Name: 'on-failure', MaximumRetryCount: 2 } });
    await svc.start(id);
    e.runtime.exit(id, 1);
    await scheduled();
    e.runtime.failCreate = new RuntimeStartError('permission denied');
    e.clock.fire();
    const c = svc.store.get(id);
    await eventually(() => expect(c.record.state.exitCode).toBe(126));
    // on-failure with a retry left: scheduled again.
    await scheduled();
    expect(status(id)).toBe('restarting');
    e.clock.fire();
    await eventually(() => expect(status(id)).toBe('running'));
  });

  it('--rm: the exit removes the container; docker restart of it keeps it', async () => {
    const id = await create({ autoRemove: true });
    await svc.start(id);
    await svc.restart(id, { timeout: 5 });
    expect(status(id)).toBe('running');
    e.runtime.exit(id, 0);
    await eventually(() => expect(svc.store.find(id)).toBeUndefined());
    expect(e.runtime.calls).toContainEqual(['destroy', id]);
    expect(e.volumes.calls).toContainEqual(['removed', id, true]);
    await eventually(() => expect(actions(id).slice(-2)).toEqual(['die', 'destroy']));
  });

  it('pause and unpause; a signal to a paused container resumes it; remove refuses running and paused ones', async () => {
    const id = await create({ name: 'p1' });
    await svc.start(id);
    await svc.pause(id);
    expect(status(id)).toBe('paused');
    await expect(svc.pause(id)).rejects.toThrow('is already paused');
    await expect(svc.remove('p1', { force: false, volumes: false })).rejects.toThrow('cannot remove container "p1": container is paused and must be unpaused first');
    await svc.unpause(id);
    await expect(svc.remove('p1', { force: false, volumes: false })).rejects.toThrow('cannot remove container "p1": container is running: stop the container before removing or force remove');
    await svc.pause(id);
    e.runtime.fatalSignals.clear();
    await svc.kill(id, 'HUP');
    expect(status(id)).toBe('running');
    expect(e.runtime.calls.slice(-2)).toEqual([
      ['signal', id, 1],
      ['resume', id],
    ]);
    await expect(svc.unpause(id)).rejects.toBeInstanceOf(ConflictError);
  });

  it('rm -f during a start: the remove waits for the start, then the exit path gives the network back (issue 10 item 4)', async () => {
    const id = await create();
    e.runtime.createGate = new Gate();
    const starting = svc.start(id);
    await eventually(() => expect(e.networking.holding.has(id)).toBe(true));
    expect(status(id)).toBe('created');
    const removing = svc.remove(id, { force: true, volumes: false });
    await settle();
    e.runtime.createGate.open();
    await starting;
    await removing;
    expect(svc.store.find(id)).toBeUndefined();
    expect(e.networking.calls.filter((x) => x[0] === 'released')).toHaveLength(1);
    expect(e.networking.holding.size).toBe(0);
    expect(e.filesystems.isMounted(id)).toBe(false);
    expect(actions(id)).toEqual(['create', 'start', 'kill', 'die', 'destroy']);
  });

  it('rm -f racing an exit that a restart policy handles: one owner, no record written into a removed directory', async () => {
    // Before: the policy decision and its record write ran outside the lock, so `rm -f` could move
    // the directory away mid-write ("exit handling failed … ENOENT rename config.v2.json").
    const warnings: string[] = [];
    const warn = vi.spyOn(e.deps.log, 'warn').mockImplementation((msg: string, f?: Record<string, unknown>) => void warnings.push(`${msg}: ${String(f?.err ?? '')}`));
    const racing = svc;
    const ids: string[] = [];
    for (let round = 0; round < 20; round++) {
      const body = parseCreateBody({ Image: 'busybox', Cmd: ['sh'], HostConfig: { RestartPolicy: { Name: round % 2 ? 'always' : 'on-failure', MaximumRetryCount: 0 } } });
      const id = (await racing.create(body, null)).Id;
      ids.push(id);
      await racing.start(id);
      // The exit and the removal arrive together; the removal may be first, second, or mid-exit.
      e.runtime.exit(id, 1);
      if (round % 4 === 1) await new Promise((r) => setImmediate(r));
      await racing.remove(id, { force: true, volumes: false });
      expect(racing.store.find(id)).toBeUndefined();
    }
    await settle();
    expect(warnings).toEqual([]);
    for (const id of ids) {
      expect(fs.existsSync(path.join(e.store.dir(id)))).toBe(false);
      expect(actions(id).filter((a) => a === 'destroy')).toHaveLength(1);
    }
    // No restart was left scheduled for a removed container.
    expect(e.clock.pending()).toEqual([]);
    expect(e.networking.holding.size).toBe(0);
    warn.mockRestore();
  });

  it('update applies changed resources to a running container and returns dockerd warnings', async () => {
    const id = await create();
    await svc.start(id);
    const warnings = await svc.update(id, { CpuShares: 512, KernelMemory: 64 * 1024 * 1024 });
    expect(warnings).toEqual(['Specifying a kernel memory limit is deprecated and will be removed in a future release.']);
    expect(e.runtime.calls.at(-1)).toEqual(['update', id, { cpu: { shares: 512 } }]);
    expect(svc.store.get(id).record.hostConfig.CpuShares).toBe(512);
    expect(await svc.update(id, { RestartPolicy: { Name: 'always', MaximumRetryCount: 0 } })).toEqual([]);
  });
});

describe('the narrow backend a builder drives (fake runtime)', () => {
  it('create, wait for the next exit, start, see the exit code, remove', async () => {
    const b: ContainerLifecycleBackend = svc;
    const { Id } = await b.create(parseCreateBody({ Image: 'busybox', Cmd: ['sh', '-c', 'exit 7'] }), null);
    const waited = b.wait(Id, 'next-exit');
    await b.start(Id);
    e.runtime.exit(Id, 7);
    expect(await waited).toEqual({ StatusCode: 7, Error: null });
    const removed = b.wait(Id, 'removed');
    await b.remove(Id, { force: false, volumes: true });
    expect((await removed).StatusCode).toBe(7);
    expect(svc.store.find(Id)).toBeUndefined();
  });
});

describe('live restore (fake runtime)', () => {
  /** Stops the daemon (without stopping containers) and starts a new one over the same records. */
  async function restartDaemon(prepare: () => void = () => undefined): Promise<void> {
    await svc.shutdown();
    const next = fakeEngine(e.dir);
    // What exists on the host survives the daemon: monitors, exit files, mounts.
    next.runtime.alive.clear();
    for (const p of e.runtime.alive) next.runtime.alive.add(p);
    for (const [k, v] of e.runtime.exits) next.runtime.exits.set(k, v);
    for (const m of e.filesystems.mounted) next.filesystems.mounted.add(m);
    e = next;
    prepare();
    svc = new ContainerService(e.deps);
    events = [];
    e.events.subscribe((ev) => events.push(ev));
    await svc.init();
    svc.watchExits();
    await settle();
  }

  it('replays each record against what exists, whatever its recorded status', async () => {
    const alive = await create({ name: 'alive' });
    const exitedMeanwhile = await create({ name: 'exited-meanwhile' });
    const monitorGone = await create({ name: 'monitor-gone' });
    const cutShort = await create({ name: 'cut-short' });
    const mountedStopped = await create({ name: 'mounted-stopped' });
    for (const id of [alive, exitedMeanwhile, monitorGone]) await svc.start(id);
    const monitorOf = (id: string) => svc.store.get(id).record.monitor!.pid;
    const gonePid = monitorOf(monitorGone);
    const exitedPid = monitorOf(exitedMeanwhile);
    await restartDaemon(() => {
      e.runtime.alive.delete(gonePid);
      e.runtime.alive.delete(exitedPid);
      e.runtime.exits.set(exitedMeanwhile, { code: 42, at: Date.now() - 1000 });
      // A daemon killed during `docker run`: the record says created, a monitor and runc state exist.
      e.runtime.leftoverOf.set(cutShort, { monitor: true, state: true, bundle: true });
      e.filesystems.mounted.add(cutShort);
      e.filesystems.mounted.add(mountedStopped);
    });
    expect(status(alive)).toBe('running');
    await eventually(() => expect(svc.store.get(exitedMeanwhile).record.state).toMatchObject({ status: 'exited', exitCode: 42 }));
    expect(svc.store.get(monitorGone).record.state).toMatchObject({ status: 'exited', exitCode: 255 });
    expect(status(cutShort)).toBe('created');
    expect(e.runtime.calls).toContainEqual(['destroy', cutShort]);
    expect(e.filesystems.isMounted(cutShort)).toBe(false);
    expect(e.filesystems.isMounted(mountedStopped)).toBe(false);
    // Released through the exit path: networking and the mount of the dead ones.
    expect(e.networking.calls).toContainEqual(['released', exitedMeanwhile]);
    expect(e.networking.calls).toContainEqual(['released', monitorGone]);
    expect(e.filesystems.isMounted(exitedMeanwhile)).toBe(false);
    // The restored one is still monitored: its exit after the restart is seen.
    e.runtime.exit(alive, 7);
    await eventually(() => expect(svc.store.get(alive).record.state).toMatchObject({ status: 'exited', exitCode: 7 }));
  });

  it('a --rm container that exited while the daemon was down is removed; a restarting one is started again', async () => {
    const rm = await create({ autoRemove: true });
    await svc.start(rm);
    const policy = await create({ restart: { Name: 'always', MaximumRetryCount: 0 } });
    await svc.start(policy);
    e.runtime.exit(policy, 1);
    await scheduled();
    expect(status(policy)).toBe('restarting');
    const rmMonitor = svc.store.get(rm).record.monitor!.pid;
    await restartDaemon(() => {
      e.runtime.alive.delete(rmMonitor);
      e.runtime.exits.set(rm, { code: 3, at: Date.now() });
    });
    await eventually(() => expect(svc.store.find(rm)).toBeUndefined());
    svc.startPolicyContainers();
    await eventually(() => expect(status(policy)).toBe('running'));
  });

  it('a removal cut short by the crash is finished', async () => {
    const id = await create();
    const c = svc.store.get(id);
    c.record.state.status = 'removing';
    await e.store.save(c);
    await restartDaemon();
    expect(svc.store.find(id)).toBeUndefined();
    expect(e.runtime.calls).toContainEqual(['destroy', id]);
  });
});
