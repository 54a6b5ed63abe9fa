/**
 * `docker stop` and `docker kill`: the stop signal, the grace period, SIGKILL after it, and
 * the end of a restart-policy loop between two runs. Signals reach the container's init
 * through the runtime; a paused container is resumed so that it can act on them.
 */
import { ConflictError, NotModifiedError } from '../errdefs.js';
import { parseSignal } from '../system/signals.js';
import type { Container } from './container.js';
import { delay, type Lifecycle } from './lifecycle.js';
import { handleExit } from './exit.js';

export const DEFAULT_STOP_TIMEOUT = 10;

export interface StopOptions {
  /** Seconds before SIGKILL (negative: wait forever). */
  timeout?: number;
  signal?: string;
}

function stopSignalOf(c: Container): number {
  return c.record.config.StopSignal ? parseSignal(c.record.config.StopSignal) : 15;
}

/** Sends a signal to the container's init (caller holds the lock). */
export async function signalContainer(lc: Lifecycle, c: Container, sig: number): Promise<void> {
  await lc.d.runtime.signal(c, sig);
  if (c.isPaused() && sig !== 0) {
    await lc.d.runtime.resume(c).catch(() => undefined);
    lc.state.setUnpaused(c);
  }
}

/** Between two runs of a restart policy: ends the loop (under the lock, so a restart under way finishes first). */
async function endRestartLoop(lc: Lifecycle, c: Container): Promise<boolean> {
  return c.lock.run(async () => {
    if (c.status !== 'restarting') return false;
    lc.restarts.cancel(c.id);
    lc.state.endRestarting(c, { manual: true });
    await lc.save(c);
    return true;
  });
}

export async function stopContainer(lc: Lifecycle, c: Container, opts: StopOptions = {}): Promise<void> {
  if (c.status === 'restarting' && (await endRestartLoop(lc, c))) {
    lc.event(c, 'stop');
    return;
  }
  if (!c.isRunning()) throw new NotModifiedError('container is already stopped');
  const sig = opts.signal ? parseSignal(opts.signal) : stopSignalOf(c);
  const timeout = opts.timeout ?? c.record.config.StopTimeout ?? DEFAULT_STOP_TIMEOUT;
  const exited = c.onNextExit();
  await c.lock.run(async () => {
    lc.state.markManuallyStopped(c);
    await lc.save(c);
    if (!c.isRunning()) return;
    await signalContainer(lc, c, sig);
  });
  lc.event(c, 'kill', { signal: String(sig) });
  if (c.isRunning()) {
    const graceful = timeout < 0 ? await exited.then(() => true) : await Promise.race([exited.then(() => true), delay(timeout * 1000).then(() => false)]);
    if (!graceful && c.isRunning()) {
      await c.lock.run(() => (c.isRunning() ? signalContainer(lc, c, 9) : undefined));
      lc.event(c, 'kill', { signal: '9' });
      const killed = await Promise.race([exited.then(() => true), delay(30_000).then(() => false)]);
      // The monitor should have reported by now; record the exit ourselves.
      if (!killed && c.isRunning()) await handleExit(lc, c.id, 137, true);
    }
  }
  lc.event(c, 'stop');
}

export async function killContainer(lc: Lifecycle, c: Container, ref: string, sig: number): Promise<void> {
  await c.lock.run(async () => {
    if (c.status === 'restarting') {
      lc.restarts.cancel(c.id);
      lc.state.endRestarting(c, { manual: true });
      await lc.save(c);
      return;
    }
    if (!c.isRunning()) throw new ConflictError(`cannot kill container: ${ref}: container ${c.id} is not running`);
    lc.state.markManuallyStopped(c);
    await lc.save(c);
    await signalContainer(lc, c, sig);
  });
  lc.event(c, 'kill', { signal: String(sig) });
  if (sig === 9) {
    const exited = c.onNextExit();
    if (c.isRunning()) await Promise.race([exited, delay(10_000)]);
  }
}
