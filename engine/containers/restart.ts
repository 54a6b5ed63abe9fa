/** `docker restart`: stop (if running or between policy runs), then start; --rm waits until the container stops for good. */
import { NotModifiedError } from '../errdefs.js';
import type { Container } from './container.js';
import type { Lifecycle } from './lifecycle.js';
import { startContainer } from './start.js';
import { stopContainer, type StopOptions } from './stop.js';

export async function restartContainer(lc: Lifecycle, c: Container, opts: StopOptions = {}): Promise<void> {
  lc.restartingByUser.add(c.id);
  try {
    try {
      if (c.isRunning() || c.status === 'restarting') await stopContainer(lc, c, opts);
    } catch (err) {
      if (!(err instanceof NotModifiedError)) throw err;
    }
    await startContainer(lc, c).catch((err) => {
      if (err instanceof NotModifiedError) return;
      throw err;
    });
  } finally {
    lc.restartingByUser.delete(c.id);
  }
  lc.event(c, 'restart');
}
