/** `docker pause` / `docker unpause`: the cgroup freezer through the runtime. */
import { ConflictError, SystemError, messageOf } from '../errdefs.js';
import type { Container } from './container.js';
import type { Lifecycle } from './lifecycle.js';

export async function pauseContainer(lc: Lifecycle, c: Container): Promise<void> {
  await c.lock.run(async () => {
    if (!c.isRunning()) throw new ConflictError(`container ${c.id} is not running`);
    if (c.isPaused()) throw new ConflictError(`container ${c.id} is already paused`);
    await lc.d.runtime.pause(c).catch((err) => {
      throw new SystemError(`cannot pause container ${c.id}: ${messageOf(err)}`);
    });
    lc.state.setPaused(c);
    await lc.save(c);
  });
  lc.event(c, 'pause');
}

export async function unpauseContainer(lc: Lifecycle, c: Container): Promise<void> {
  await c.lock.run(async () => {
    if (!c.isPaused()) throw new ConflictError(`Container ${c.id} is not paused`);
    await lc.d.runtime.resume(c).catch((err) => {
      throw new SystemError(`Cannot unpause container ${c.id}: ${messageOf(err)}`);
    });
    lc.state.setUnpaused(c);
    await lc.save(c);
  });
  lc.event(c, 'unpause');
}
