/**
 * The container state machine: the only place that changes a container's status and the
 * fields that go with it (moby's container/state.go: SetRunning, SetStopped, SetRestarting...).
 *
 *   created ──start──▶ running ◀──unpause── paused
 *      │  ▲              │   └───pause──────▶  │
 *      │  └─start failed─┤ (status unchanged)  │
 *      │                 └──exit──▶ exited ◀───┘ exit
 *      │                            │  ▲
 *      │              restart policy│  │ stop/kill/rm between two runs, or no start possible
 *      │                            ▼  │
 *      │                         restarting ──start──▶ running
 *      └──────────rm─────▶ removing ◀──rm── exited (and restarting with --force)
 *
 * A transition that does not start from an allowed status is a bug: it throws. Listeners
 * (events, health checks) hear every transition after it happened — also 'restore', a
 * running or paused container found alive after a daemon restart (its status unchanged).
 */
import type { ContainerStatus } from '../api/types.js';
import { rfc3339Nano, ZERO_TIME } from '../system/time.js';
import type { Container, MonitorRef } from './container.js';

export type Transition = 'start' | 'restore' | 'start-failed' | 'exit' | 'pause' | 'unpause' | 'restart-scheduled' | 'restart-ended' | 'removing';

const from: Record<Transition, readonly ContainerStatus[]> = {
  start: ['created', 'exited', 'restarting'],
  restore: ['running', 'paused'],
  'start-failed': ['created', 'exited', 'restarting'],
  exit: ['running', 'paused'],
  pause: ['running'],
  unpause: ['paused'],
  'restart-scheduled': ['exited'],
  'restart-ended': ['restarting'],
  removing: ['created', 'exited', 'restarting', 'dead'],
};

export class IllegalTransitionError extends Error {
  constructor(
    readonly container: string,
    readonly transition: Transition,
    readonly status: ContainerStatus,
  ) {
    super(`container ${container.slice(0, 12)}: cannot ${transition} from ${status}`);
  }
}

export type TransitionListener = (c: Container, t: Transition, previous: ContainerStatus) => void;

export interface RunningState {
  pid: number;
  monitor: MonitorRef;
  /** Start time (nanoseconds since the epoch); now when absent. */
  at?: bigint;
}

export interface ExitState {
  exitCode: number;
  oomKilled: boolean;
  /** When the process exited (ms since the epoch, from the exit file); now when absent. */
  at?: number | undefined;
}

/** Milliseconds (with a fraction, as file mtimes have) to nanoseconds, without float rounding noise. */
function msToNanos(ms: number): bigint {
  const whole = Math.floor(ms);
  return BigInt(whole) * 1_000_000n + BigInt(Math.round((ms - whole) * 1e6));
}

export class ContainerStateMachine {
  private readonly listeners: TransitionListener[] = [];

  onTransition(l: TransitionListener): () => void {
    this.listeners.push(l);
    return () => {
      const i = this.listeners.indexOf(l);
      if (i >= 0) this.listeners.splice(i, 1);
    };
  }

  /** Whether a transition may happen now (callers that race with others check before acting). */
  can(c: Container, t: Transition): boolean {
    return from[t].includes(c.status);
  }

  private begin(c: Container, t: Transition): ContainerStatus {
    const s = c.status;
    if (!from[t].includes(s)) throw new IllegalTransitionError(c.id, t, s);
    return s;
  }

  private done(c: Container, t: Transition, previous: ContainerStatus): void {
    for (const l of this.listeners) {
      try {
        l(c, t, previous);
      } catch {
        /* a listener's failure must not break the transition */
      }
    }
  }

  /** The process runs (runtime start succeeded). */
  setRunning(c: Container, s: RunningState): void {
    const prev = this.begin(c, 'start');
    const r = c.record;
    r.state.status = 'running';
    r.state.pid = s.pid;
    r.monitor = s.monitor;
    r.state.startedAt = rfc3339Nano(s.at);
    r.state.finishedAt = ZERO_TIME;
    r.state.error = '';
    r.state.exitCode = 0;
    r.state.oomKilled = false;
    r.hasBeenStartedBefore = true;
    r.hasBeenManuallyStopped = false;
    this.done(c, 'start', prev);
  }

  /** Live restore: the container's monitor outlived the old daemon, so it still runs as recorded. */
  setRestored(c: Container): void {
    const prev = this.begin(c, 'restore');
    this.done(c, 'restore', prev);
  }

  /** A start that failed: the status stays, the error and Docker's exit code are recorded. */
  setStartFailed(c: Container, exitCode: number, error: string): void {
    const prev = this.begin(c, 'start-failed');
    const r = c.record;
    r.state.error = error;
    r.state.exitCode = exitCode;
    r.state.pid = 0;
    delete r.monitor;
    this.done(c, 'start-failed', prev);
  }

  /** The process exited (or its monitor vanished). */
  setStopped(c: Container, e: ExitState): void {
    const prev = this.begin(c, 'exit');
    const r = c.record;
    r.state.status = 'exited';
    r.state.exitCode = e.exitCode;
    r.state.oomKilled = e.oomKilled;
    r.state.pid = 0;
    r.state.finishedAt = e.at !== undefined ? rfc3339Nano(msToNanos(e.at)) : rfc3339Nano();
    r.sandboxKey = '';
    r.ports = {};
    delete r.monitor;
    this.done(c, 'exit', prev);
  }

  setPaused(c: Container): void {
    const prev = this.begin(c, 'pause');
    c.record.state.status = 'paused';
    this.done(c, 'pause', prev);
  }

  setUnpaused(c: Container): void {
    const prev = this.begin(c, 'unpause');
    c.record.state.status = 'running';
    this.done(c, 'unpause', prev);
  }

  /** The restart policy will start the container again after a backoff. */
  setRestarting(c: Container): void {
    const prev = this.begin(c, 'restart-scheduled');
    c.record.restartCount++;
    c.record.state.status = 'restarting';
    this.done(c, 'restart-scheduled', prev);
  }

  /** Between two runs of a restart policy: the loop ends (stop, kill, or a start that failed). */
  endRestarting(c: Container, opts: { manual: boolean }): void {
    const prev = this.begin(c, 'restart-ended');
    c.record.state.status = 'exited';
    if (opts.manual) c.record.hasBeenManuallyStopped = true;
    this.done(c, 'restart-ended', prev);
  }

  /** rm: in memory only — a crash mid-removal leaves the container as it was, and rm can be repeated. */
  setRemoving(c: Container): void {
    const prev = this.begin(c, 'removing');
    c.record.state.status = 'removing';
    this.done(c, 'removing', prev);
  }

  /** A stop, kill or rm was asked for: restart policies no longer apply (not a status change). */
  markManuallyStopped(c: Container): void {
    c.record.hasBeenManuallyStopped = true;
  }
}
