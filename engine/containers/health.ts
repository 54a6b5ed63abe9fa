/**
 * Health checks (HEALTHCHECK, --health-*): while a container runs, its probe command runs inside
 * it on a schedule and State.Health follows the results, with moby's rules (daemon/health.go):
 *
 * - starting → healthy on the first success; → unhealthy after `Retries` consecutive failures
 *   (default 3); failures while still starting and within `StartPeriod` do not count;
 * - probes every `Interval` (default 30 s), every `StartInterval` (default 5 s) while starting
 *   within the start period; each probe may take `Timeout` (default 30 s), after which it is killed
 *   and counts as a failure (exit code -1);
 * - the last 5 results are kept (output cut to 4096 bytes); a change of status is a
 *   `health_status: <status>` event; the state is written with the container's record after each
 *   result, so it survives a daemon restart, and probing resumes for containers found running.
 *
 * The monitor owns only timers; running a probe (an exec in the container) and persisting are
 * behind HealthHost, so this module is tested against fakes of both.
 */
import type { HealthState } from '../api/types.js';
import type { HealthConfig } from '../images/oci.js';
import type { Container } from './container.js';
import type { ContainerStateMachine } from './state.js';

export const HEALTH_LOG_ENTRIES = 5;
export const HEALTH_OUTPUT_MAX = 4096;
const NS_PER_MS = 1_000_000;
export const HEALTH_DEFAULTS = { intervalMs: 30_000, timeoutMs: 30_000, startPeriodMs: 0, startIntervalMs: 5_000, retries: 3 };

export interface ProbeResult {
  exitCode: number;
  output: string;
}

export interface HealthHost {
  /** Runs `cmd` inside the running container, killing it after `timeoutMs`; a timeout resolves with exitCode -1. */
  probe(c: Container, cmd: string[], timeoutMs: number): Promise<ProbeResult>;
  /** Applies a state change under the container's lock and persists its record; skipped when `still()` is false by then. */
  commit(c: Container, still: () => boolean, apply: () => void): Promise<void>;
  event(c: Container, action: string): void;
  warn(message: string, fields: Record<string, unknown>): void;
  now?(): number;
}

/** The probe's command line, or undefined when there is no health check (none configured, or NONE). */
export function probeCommand(hc: HealthConfig | undefined | null, shell: string[] | undefined | null): string[] | undefined {
  const test = hc?.Test;
  if (!test || test.length === 0) return undefined;
  switch (test[0]) {
    case 'NONE':
      return undefined;
    case 'CMD':
      return test.length > 1 ? test.slice(1) : undefined;
    case 'CMD-SHELL':
      return [...(shell && shell.length > 0 ? shell : ['/bin/sh', '-c']), test.slice(1).join(' ')];
    default:
      return undefined;
  }
}

interface Timing {
  intervalMs: number;
  timeoutMs: number;
  startPeriodMs: number;
  startIntervalMs: number;
  retries: number;
}

function timingOf(hc: HealthConfig): Timing {
  const ms = (ns: number | undefined, dflt: number) => (ns && ns > 0 ? ns / NS_PER_MS : dflt);
  return {
    intervalMs: ms(hc.Interval, HEALTH_DEFAULTS.intervalMs),
    timeoutMs: ms(hc.Timeout, HEALTH_DEFAULTS.timeoutMs),
    startPeriodMs: ms(hc.StartPeriod, HEALTH_DEFAULTS.startPeriodMs),
    startIntervalMs: ms(hc.StartInterval, HEALTH_DEFAULTS.startIntervalMs),
    retries: hc.Retries && hc.Retries > 0 ? hc.Retries : HEALTH_DEFAULTS.retries,
  };
}

function rfc3339(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000000Z');
}

function truncate(output: string): string {
  const b = Buffer.from(output);
  return b.length <= HEALTH_OUTPUT_MAX ? output : b.subarray(0, HEALTH_OUTPUT_MAX).toString();
}

interface Watch {
  generation: number;
  timer: NodeJS.Timeout | undefined;
  cmd: string[];
  timing: Timing;
  startedMs: number;
}

export class HealthMonitor {
  private readonly watches = new Map<string, Watch>();
  private generation = 0;

  constructor(private readonly host: HealthHost) {}

  private now(): number {
    return this.host.now?.() ?? Date.now();
  }

  /**
   * Follows the lifecycle's state machine: probing begins when a container starts (before its
   * record is written, so State.Health goes out with it) or is restored running after a daemon
   * restart, and stops when it exits or is removed.
   */
  follow(sm: ContainerStateMachine): () => void {
    return sm.onTransition((c, t) => {
      if (t === 'start') this.watch(c, false);
      else if (t === 'restore') this.watch(c, true);
      else if (t === 'exit' || t === 'removing') this.unwatch(c.id);
    });
  }

  /**
   * Begins probing a container that just started (`restored` false: the status goes back to
   * starting, streak 0, the log kept — moby's initHealthMonitor) or that was found running after a
   * daemon restart (`restored` true: its persisted state stands). Sets State.Health synchronously,
   * so the caller's next record write includes it.
   */
  watch(c: Container, restored: boolean): void {
    this.unwatch(c.id);
    const cfg = c.record.config;
    const cmd = probeCommand(cfg.Healthcheck, cfg.Shell);
    if (!cmd) return;
    const s = c.record.state;
    if (!s.health || !restored) s.health = { Status: 'starting', FailingStreak: 0, Log: s.health?.Log ?? [] };
    const startedMs = Date.parse(s.startedAt);
    const w: Watch = { generation: ++this.generation, timer: undefined, cmd, timing: timingOf(cfg.Healthcheck!), startedMs: Number.isNaN(startedMs) ? this.now() : startedMs };
    this.watches.set(c.id, w);
    this.schedule(c, w);
  }

  /** Stops probing (exit, removal, daemon shutdown). The last state stays in the record. */
  unwatch(id: string): void {
    const w = this.watches.get(id);
    if (!w) return;
    if (w.timer) clearTimeout(w.timer);
    this.watches.delete(id);
  }

  unwatchAll(): void {
    for (const id of [...this.watches.keys()]) this.unwatch(id);
  }

  watching(id: string): boolean {
    return this.watches.has(id);
  }

  private nextDelay(c: Container, w: Watch): number {
    if (this.now() - w.startedMs >= w.timing.startPeriodMs) return w.timing.intervalMs;
    return c.record.state.health?.Status === 'starting' ? w.timing.startIntervalMs : w.timing.intervalMs;
  }

  private schedule(c: Container, w: Watch): void {
    w.timer = setTimeout(() => void this.runProbe(c, w), this.nextDelay(c, w));
    w.timer.unref();
  }

  private isCurrent(c: Container, w: Watch): boolean {
    return this.watches.get(c.id) === w && w.generation > 0;
  }

  private async runProbe(c: Container, w: Watch): Promise<void> {
    w.timer = undefined;
    if (!this.isCurrent(c, w)) return;
    const start = this.now();
    let result: ProbeResult;
    try {
      result = await this.host.probe(c, w.cmd, w.timing.timeoutMs);
    } catch (err) {
      result = { exitCode: -1, output: (err as Error).message };
    }
    const end = this.now();
    if (!this.isCurrent(c, w)) return;
    try {
      await this.host.commit(
        c,
        () => this.isCurrent(c, w) && c.isRunning(),
        () => this.record(c, w, { Start: rfc3339(start), End: rfc3339(end), ExitCode: result.exitCode, Output: truncate(result.output) }, start),
      );
    } catch (err) {
      this.host.warn('could not record a health check result', { container: c.id.slice(0, 12), err: (err as Error).message });
    }
    if (this.isCurrent(c, w)) this.schedule(c, w);
  }

  /** moby's handleProbeResult. */
  private record(c: Container, w: Watch, entry: HealthState['Log'][number], startMs: number): void {
    const h = (c.record.state.health ??= { Status: 'starting', FailingStreak: 0, Log: [] });
    const before = h.Status;
    h.Log = [...h.Log, entry].slice(-HEALTH_LOG_ENTRIES);
    if (entry.ExitCode === 0) {
      h.FailingStreak = 0;
      h.Status = 'healthy';
    } else {
      // While still starting, failures within the start period do not count.
      const inStartPeriod = h.Status === 'starting' && startMs - w.startedMs < w.timing.startPeriodMs;
      if (!inStartPeriod) {
        h.FailingStreak++;
        if (h.FailingStreak >= w.timing.retries) h.Status = 'unhealthy';
      }
    }
    if (h.Status !== before) this.host.event(c, `health_status: ${h.Status}`);
  }
}
