/**
 * `docker rm` (and --rm): a running container is killed first (with --force) and removed only
 * once its exit released what it held; then runtime state, the root filesystem, volumes
 * (anonymous ones with -v) and the record go. The decision whether the container runs is
 * taken under its lock: a `docker start` in progress finishes first and its container then
 * goes through the exit path (no namespace, veth or lease left behind).
 */
import { ConflictError, SystemError, messageOf } from '../errdefs.js';
import type { Container } from './container.js';
import { delay, type Lifecycle, type RemoveOptions } from './lifecycle.js';
import { handleExit } from './exit.js';
import { signalContainer } from './stop.js';

/** How long a killed container may take to report its exit before it is recorded as exited anyway. */
const KILL_GRACE_MS = 15_000;

export async function removeContainer(lc: Lifecycle, c: Container, ref: string, opts: RemoveOptions): Promise<void> {
  if (c.status === 'removing') throw new ConflictError(`removal of container ${ref} is already in progress`);
  // Kill, wait for the exit, remove: a container that a policy or a user starts again meanwhile
  // is killed again, a few times at most.
  for (let attempt = 0; ; attempt++) {
    if (attempt === 3) throw new SystemError(`cannot remove container ${ref}: it keeps running`);
    let exited: Promise<unknown> | undefined;
    const done = await c.lock.run(async () => {
      if (c.removed) return true;
      if (c.isRunning() || c.status === 'restarting') {
        if (!opts.force) {
          if (c.isPaused()) throw new ConflictError(`cannot remove container "${ref}": container is paused and must be unpaused first`);
          throw new ConflictError(`cannot remove container "${ref}": container is ${c.status}: stop the container before removing or force remove`);
        }
        lc.restarts.cancel(c.id);
        if (c.isRunning()) {
          // Killed here, removed once its exit went through the exit path (outside this lock).
          exited = c.onNextExit();
          lc.state.markManuallyStopped(c);
          await signalContainer(lc, c, 9).catch(() => undefined);
          return false;
        }
      }
      lc.state.setRemoving(c);
      await finishRemove(lc, c, opts.volumes);
      return true;
    });
    if (done) return;
    lc.event(c, 'kill', { signal: '9' });
    const ok = await Promise.race([exited!.then(() => true), delay(KILL_GRACE_MS).then(() => false)]);
    if (!ok && c.isRunning()) await handleExit(lc, c.id, 137, true);
  }
}

/** Removes a container that runs no process (caller holds the lock, or reconciles at startup). */
export async function finishRemove(lc: Lifecycle, c: Container, volumes: boolean): Promise<void> {
  const d = lc.d;
  lc.restarts.forget(c.id);
  await d.runtime.destroy(c);
  await d.filesystems.remove(c.id);
  await d.volumes.removed(c, { volumes }).catch((err) => d.log.warn('remove hook failed', { container: c.id, err: messageOf(err) }));
  await d.store.remove(c);
  lc.event(c, 'destroy');
  c.notifyRemoved({ exitCode: c.record.state.exitCode });
}
