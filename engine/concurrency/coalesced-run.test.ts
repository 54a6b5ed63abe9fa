import { describe, expect, it } from 'vitest';
import { CoalescedRun } from './coalesced-run.js';

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

describe('CoalescedRun', () => {
  it('runs once per idle request, never two at a time, and folds requests during a run into one rerun', async () => {
    const gates: Array<() => void> = [];
    let active = 0;
    let maxActive = 0;
    let runs = 0;
    const r = new CoalescedRun(async () => {
      runs++;
      active++;
      maxActive = Math.max(maxActive, active);
      const d = deferred();
      gates.push(d.resolve);
      await d.promise;
      active--;
    });
    const first = r.run();
    const during = [r.run(), r.run(), r.run()];
    expect(runs).toBe(1);
    gates.shift()!();
    await new Promise((res) => setImmediate(res));
    expect(runs).toBe(2); // the three requests made one more run
    let settled = false;
    void Promise.all(during).then(() => (settled = true));
    await new Promise((res) => setImmediate(res));
    expect(settled).toBe(false); // not before the rerun that serves them ends
    gates.shift()!();
    await Promise.all([first, ...during]);
    expect(settled).toBe(true);
    expect(runs).toBe(2);
    expect(maxActive).toBe(1);
    const next = r.run(); // idle again: a new request runs at once
    expect(runs).toBe(3);
    gates.shift()!();
    await next;
  });

  it('a failed run rejects its callers and the next request runs again', async () => {
    let fail = true;
    let runs = 0;
    const r = new CoalescedRun(async () => {
      runs++;
      if (fail) throw new Error('listing failed');
    });
    await expect(r.run()).rejects.toThrow('listing failed');
    fail = false;
    await r.run();
    expect(runs).toBe(2);
  });
});
