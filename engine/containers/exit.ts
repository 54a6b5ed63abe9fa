/**
 * A container's process exited (its monitor wrote the exit file, or the monitor is gone):
 * everything it held is given back at once — runtime state, networking, volumes, the mount —
 * the exit is recorded, `die` is published, and then the restart policy or --rm applies.
 */
import { messageOf } from '../errdefs.js';
import { parseTimeMs } from '../system/time.js';
import type { Container } from './container.js';
import type { Lifecycle } from './lifecycle.js';
import { shouldRestart } from './restart-policy.js';
import { startLocked } from './start.js';

/** Called when a monitor reports the exit (or when the monitor vanished: `monitorLost`). */
export async function handleExit(lc: Lifecycle, id: string, exitCode: number, monitorLost = false, exitedAtMs?: number): Promise<void> {
  const d = lc.d;
  const c = d.store.find(id);
  if (!c) {
    d.runtime.clearExit(id);
    return;
  }
  const t0 = performance.now();
  const lag = exitedAtMs !== undefined ? ` lag=${(Date.now() - exitedAtMs).toFixed(1)}` : '';
  let released = false;
  let removeNow = false;
  // One owner: the exit is released, recorded and its policy decided under the container's lock,
  // so a `docker rm -f` (or start, stop) that comes in meanwhile sees either the running container
  // or the settled outcome (exited, restarting) — never a record write in flight.
  await c.lock.run(async () => {
    // Only a running process can exit; a report for anything else is stale (already handled).
    if (!lc.state.can(c, 'exit')) {
      if (!monitorLost) d.runtime.clearExit(id);
      return;
    }
    await releaseRunning(lc, c, exitCode, exitedAtMs);
    released = true;
    removeNow = await applyPolicyLocked(lc, c, exitCode);
  });
  if (!released) return;
  const t1 = performance.now();
  if (removeNow) await autoRemove(lc, c);
  d.log.debug('container exited', { container: id.slice(0, 12), timings: `released=${(t1 - t0).toFixed(1)} after=${(performance.now() - t0).toFixed(1)}${lag}` });
}

/** Tears down what a running container holds and records its exit (caller holds the lock). */
async function releaseRunning(lc: Lifecycle, c: Container, exitCode: number, exitedAtMs?: number): Promise<void> {
  const d = lc.d;
  const r = c.record;
  const warn = (what: string) => (err: unknown) => d.log.warn(`${what} failed`, { container: r.id, err: messageOf(err) });
  // The last file the monitor cut is kept like the others.
  if (r.hostConfig.LogConfig.Type !== 'none') lc.logKeeper.check({ id: r.id, logPath: r.logPath, limits: lc.logLimits(c) });
  // Runtime state, networking, volumes and the root filesystem are independent: release them at once.
  const [{ oomKilled }] = await Promise.all([
    d.runtime.release(c),
    (async () => {
      await d.networking.released(c).catch(warn('exit hook'));
      await d.volumes.exited(c).catch(warn('exit hook'));
    })(),
    d.filesystems.unmount(r.id).catch(warn('unmount')),
  ]);
  lc.state.setStopped(c, { exitCode, oomKilled, at: exitedAtMs });
  // With --rm the removal follows at once (applyPolicyLocked) and is what lasts: no record to write, and
  // the exit file stays until the removal, so a crash in between replays this exit on restart.
  if (!lc.removesAtExit(c)) {
    await lc.save(c);
    // Only now that the exit is recorded: a crash before this point replays the exit file on restart.
    d.runtime.clearExit(r.id);
  }
  if (oomKilled) lc.event(c, 'oom');
  lc.event(c, 'die', { exitCode: String(exitCode) });
  c.notifyExit({ exitCode });
}

/**
 * The restart policy or --rm, once an exit is recorded (caller holds the lock): schedules the
 * restart, or answers whether --rm must remove the container now (done outside the lock, by remove).
 */
async function applyPolicyLocked(lc: Lifecycle, c: Container, exitCode: number): Promise<boolean> {
  if (c.removed || lc.shuttingDown) return false;
  const r = c.record;
  if (shouldRestart({ policy: r.hostConfig.RestartPolicy, exitCode, restartCount: r.restartCount, manuallyStopped: r.hasBeenManuallyStopped })) {
    const ran = parseTimeMs(r.state.finishedAt) - parseTimeMs(r.state.startedAt);
    const delay = lc.restarts.nextDelay(c.id, ran);
    lc.state.setRestarting(c);
    await lc.save(c);
    lc.restarts.schedule(c.id, delay, () => void restartByPolicy(lc, c));
    return false;
  }
  lc.restarts.reset(c.id);
  return lc.removesAtExit(c);
}

async function autoRemove(lc: Lifecycle, c: Container): Promise<void> {
  // A `docker rm` already under way owns the removal.
  if (c.removed || c.status === 'removing') return;
  await lc.remove(c, { force: true, volumes: true }).catch((err) => lc.d.log.warn('auto-remove failed', { container: c.id, err: messageOf(err) }));
}

/** The restart policy's timer fired: start again, or end the loop if that is not possible. */
async function restartByPolicy(lc: Lifecycle, c: Container): Promise<void> {
  const removeNow = await c.lock.run(async () => {
    if (c.removed || c.status !== 'restarting') return false;
    try {
      await startLocked(lc, c);
      return false;
    } catch (err) {
      lc.d.log.warn('restart policy could not start container', { container: c.id, err: messageOf(err) });
      if (c.status !== 'restarting') return false;
      lc.state.endRestarting(c, { manual: false });
      await lc.save(c).catch(() => undefined);
      return applyPolicyLocked(lc, c, c.record.state.exitCode);
    }
  });
  if (removeNow) await autoRemove(lc, c);
}
