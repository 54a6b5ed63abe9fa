/**
 * Playwright fixtures: one berthd per worker (fresh data root, busybox
 * imported), shared by the tests of that worker. Tests that kill or restart
 * the daemon ask for `freshBerthd` instead.
 */
import { test as base } from '@playwright/test';
import { Berthd } from './berthd.js';

export const test = base.extend<{ freshBerthd: Berthd }, { berthd: Berthd }>({
  berthd: [
    async ({}, use) => {
      const d = await Berthd.start();
      await use(d);
      await d.destroy();
    },
    { scope: 'worker', timeout: 120_000 },
  ],
  freshBerthd: async ({}, use) => {
    const d = await Berthd.start();
    await use(d);
    await d.destroy();
  },
});

export { expect } from '@playwright/test';

/** A unique name for containers, volumes and tags created by a test. */
export function uniq(prefix: string): string {
  return `${prefix}-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
}
