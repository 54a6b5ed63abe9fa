/**
 * Restart policies (moby's restartmanager): whether an exit restarts the container, after
 * which backoff (100 ms doubling to 60 s, reset once a run lasted 10 s), and the timers of
 * the containers waiting between two runs. The lifecycle decides what a restart does; this
 * unit only decides when.
 */
import type { RestartPolicy } from '../api/types.js';

export const RESTART_BACKOFF_MIN = 100;
export const RESTART_BACKOFF_MAX = 60_000;
/** A run at least this long resets the backoff. */
export const RESTART_RESET_AFTER = 10_000;

export interface ExitFacts {
  policy: RestartPolicy;
  exitCode: number;
  restartCount: number;
  manuallyStopped: boolean;
}

/** Docker's policy semantics: always/unless-stopped restart any exit; on-failure non-zero exits up to MaximumRetryCount. */
export function shouldRestart(f: ExitFacts): boolean {
  if (f.manuallyStopped) return false;
  switch (f.policy.Name) {
    case 'always':
    case 'unless-stopped':
      return true;
    case 'on-failure':
      return f.exitCode !== 0 && (f.policy.MaximumRetryCount === 0 || f.restartCount < f.policy.MaximumRetryCount);
    default:
      return false;
  }
}

/** Whether a daemon start restarts a container (as dockerd does at boot). */
export function restartsOnDaemonStart(policy: RestartPolicy, manuallyStopped: boolean, restarting: boolean): boolean {
  if (restarting) return true;
  if (policy.Name === 'always') return !manuallyStopped;
  return policy.Name === 'unless-stopped' && !manuallyStopped;
}

export interface Clock {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

const realClock: Clock = {
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
};

export class RestartManager {
  private readonly timers = new Map<string, unknown>();
  private readonly backoff = new Map<string, number>();

  constructor(private readonly clock: Clock = realClock) {}

  /** The delay before the next restart of a container that ran for `ranMs`, and records it. */
  nextDelay(id: string, ranMs: number): number {
    let delay = this.backoff.get(id) ?? 0;
    if (ranMs >= RESTART_RESET_AFTER) delay = 0;
    delay = delay === 0 ? RESTART_BACKOFF_MIN : Math.min(delay * 2, RESTART_BACKOFF_MAX);
    this.backoff.set(id, delay);
    return delay;
  }

  /** Runs `fn` after `delay` ms unless cancelled first. */
  schedule(id: string, delay: number, fn: () => void): void {
    this.cancel(id);
    const handle = this.clock.setTimeout(() => {
      this.timers.delete(id);
      fn();
    }, delay);
    this.timers.set(id, handle);
  }

  /** Cancels a pending restart; true if there was one. */
  cancel(id: string): boolean {
    const t = this.timers.get(id);
    if (t === undefined) return false;
    this.clock.clearTimeout(t);
    this.timers.delete(id);
    return true;
  }

  pending(id: string): boolean {
    return this.timers.has(id);
  }

  /** The container stopped for good (or is gone): the next policy restart starts from the minimum backoff. */
  reset(id: string): void {
    this.backoff.delete(id);
  }

  forget(id: string): void {
    this.cancel(id);
    this.reset(id);
  }

  shutdown(): void {
    for (const t of this.timers.values()) this.clock.clearTimeout(t);
    this.timers.clear();
  }
}
