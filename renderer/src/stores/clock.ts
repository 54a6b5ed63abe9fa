/**
 * One shared clock for everything that shows elapsed time ("Up 3 minutes",
 * "5 minutes ago", a retry countdown). It ticks once a second only while
 * something on screen uses it, and a component re-renders only when the value
 * it derives from the time changes — so a table of "Up 2 hours" rows does not
 * re-render every second, and the table itself never does.
 */
import { useSyncExternalStore } from 'react';

const TICK_MS = 1000;
const listeners = new Set<() => void>();
let timer: ReturnType<typeof setInterval> | undefined;

function subscribe(listener: () => void): () => void {
  listeners.add(listener);
  timer ??= setInterval(() => {
    for (const l of listeners) l();
  }, TICK_MS);
  return () => {
    listeners.delete(listener);
    if (listeners.size === 0 && timer !== undefined) {
      clearInterval(timer);
      timer = undefined;
    }
  };
}

/** The value `derive(now)` returns, kept current by the shared clock. Return a primitive (a string, a number). */
export function useClock<T extends string | number | boolean>(derive: (now: number) => T): T {
  return useSyncExternalStore(subscribe, () => derive(Date.now()));
}

/** For tests: how many components watch the clock. */
export function clockWatchers(): number {
  return listeners.size;
}
