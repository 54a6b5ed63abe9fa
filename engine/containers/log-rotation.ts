/**
 * Container log size limits, on by default: a container that spams stdout must not fill a laptop's
 * disk (or the VM's small one). Without options a log keeps at most max-file 5 × max-size 20m, as
 * Docker's `local` driver does; `--log-opt max-size=-1` turns the limit off, as with json-file.
 *
 * The monitor enforces max-size itself (`conmon --log-size-max`): before a write would pass it,
 * conmon starts a new file and renames it over the log — at write time, and also while berthd is
 * down. What berthd adds is keeping the older files: the live log always has a second name (a hard
 * link, `.<log>.live`), so when conmon replaces the log the previous file survives under that name
 * and is shifted to `<log>.1`, `.1` to `.2`... the oldest dropped. Checks come more often for a log
 * that grows fast (before conmon cuts again) and once a second for quiet ones; a file cut twice
 * between two checks is lost, never the bound on disk use.
 */
import fs from 'node:fs';
import path from 'node:path';
import { parseSize } from '../daemon/config.js';
import type { LogConfig } from '../api/types.js';
import type { Logger } from '../daemon/log.js';

export const DEFAULT_LOG_MAX_SIZE = '20m';
export const DEFAULT_LOG_MAX_FILE = 5;

export interface LogLimits {
  /** Bytes per file; 0: unlimited. */
  maxSize: number;
  /** Files kept, the live one included. */
  maxFile: number;
}

/** A container's limits from its LogConfig (json-file semantics; no max-size at all means the defaults). */
export function logLimits(cfg: LogConfig): LogLimits {
  const opts = cfg.Config ?? {};
  const size = opts['max-size'];
  if (size === undefined || size === '') return { maxSize: parseSize(DEFAULT_LOG_MAX_SIZE), maxFile: Number(opts['max-file'] ?? DEFAULT_LOG_MAX_FILE) };
  if (size === '-1') return { maxSize: 0, maxFile: 1 };
  const maxSize = parseSize(size);
  return { maxSize, maxFile: maxSize > 0 ? Number(opts['max-file'] ?? 1) : 1 };
}

/** The second name of the live log (see the module comment): hidden, it is no log file of its own. */
export function liveLink(logPath: string): string {
  return path.join(path.dirname(logPath), `.${path.basename(logPath)}.live`);
}

function statOrUndefined(p: string): fs.Stats | undefined {
  try {
    return fs.statSync(p);
  } catch {
    return undefined;
  }
}

/** Bytes used by a container's log: the live file and the kept ones (for inspect). */
export function logSize(logPath: string, maxFile: number): number {
  const inodes = new Set<number>();
  let total = 0;
  const paths = [logPath, liveLink(logPath)];
  for (let i = 1; i < Math.max(maxFile, 1); i++) paths.push(`${logPath}.${i}`);
  for (const p of paths) {
    const st = statOrUndefined(p);
    if (!st || inodes.has(st.ino)) continue;
    inodes.add(st.ino);
    total += st.size;
  }
  return total;
}

/** Shifts .1 → .2 ... (dropping the oldest) and moves `from` to .1. */
function shift(logPath: string, maxFile: number, from: string): void {
  if (maxFile <= 1) {
    fs.rmSync(from, { force: true });
    return;
  }
  // No kept name is ever missing, even for an instant (a reader listing the directory, or
  // `docker logs` opening the files one by one, must not see a gap): each file takes its next name
  // by a hard link renamed over it, which replaces the older one atomically and leaves the file
  // under its own name until the newer file is renamed over that in turn.
  const step = path.join(path.dirname(logPath), `.${path.basename(logPath)}.shift`);
  for (let i = maxFile - 2; i >= 1; i--) {
    try {
      fs.rmSync(step, { force: true });
      fs.linkSync(`${logPath}.${i}`, step);
      fs.renameSync(step, `${logPath}.${i + 1}`);
    } catch {
      /* not there yet */
    }
  }
  fs.renameSync(from, `${logPath}.1`);
}

/**
 * Before the monitor opens the log (conmon appends to an existing file and counts from zero): a big
 * leftover file from an earlier run is moved aside first, keeping the live file within about
 * max-size; then the log is made here, with its second name, so that the very first file conmon
 * cuts is kept too.
 */
export function prepareLog(logPath: string, limits: LogLimits): void {
  if (limits.maxSize <= 0) return;
  const live = liveLink(logPath);
  fs.rmSync(live, { force: true });
  const st = statOrUndefined(logPath);
  if (st && st.size >= limits.maxSize / 4) shift(logPath, limits.maxFile, logPath);
  if (limits.maxFile <= 1) return;
  fs.closeSync(fs.openSync(logPath, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_APPEND, 0o600));
  fs.linkSync(logPath, live);
}

export interface KeptLog {
  id: string;
  logPath: string;
  limits: LogLimits;
}

interface Watch {
  nextAt: number;
  /** The interval used last, doubled while the log is quiet. */
  interval: number;
  size: number;
  at: number;
  /** Bytes per ms: the fastest growth seen, decaying by half at each check (writers come in bursts). */
  rate: number;
}

const QUIET_MS = 1000;
const FASTEST_MS = 20;

/** Keeps the files the monitors cut, for the running containers `running()` lists. */
export class LogKeeper {
  private readonly watches = new Map<string, Watch>();
  private timer: NodeJS.Timeout | undefined;
  private stopped = true;

  constructor(
    private readonly running: () => KeptLog[],
    private readonly log: Logger,
  ) {}

  start(): void {
    this.stopped = false;
    this.schedule(QUIET_MS);
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
  }

  /** One check of one log now (also after the container exited, to keep its last cut file). */
  check(k: KeptLog, now = Date.now()): void {
    if (k.limits.maxSize <= 0 || k.limits.maxFile <= 1) return;
    const live = liveLink(k.logPath);
    let w = this.watches.get(k.id);
    try {
      const st = statOrUndefined(k.logPath);
      const held = statOrUndefined(live);
      if (held && (!st || held.ino !== st.ino)) {
        // conmon replaced the log: the previous file is only under the second name now.
        shift(k.logPath, k.limits.maxFile, live);
      }
      if (st && (!held || held.ino !== st.ino)) fs.linkSync(k.logPath, live);
      // Next check: soon enough to give the new file its second name before conmon cuts it too.
      const size = st?.size ?? 0;
      const cut = held !== undefined && st !== undefined && held.ino !== st.ino;
      const grown = w ? (cut ? size + Math.max(0, k.limits.maxSize - w.size) : Math.max(0, size - w.size)) : 0;
      const rate = Math.max(grown / Math.max(1, w ? now - w.at : 1), (w?.rate ?? 0) / 2);
      const remaining = Math.max(0, k.limits.maxSize - size);
      let interval: number;
      if (rate > 0.001) interval = Math.min(QUIET_MS, Math.max(FASTEST_MS, remaining / rate / 4));
      else interval = Math.min(QUIET_MS, Math.max(FASTEST_MS, (w?.interval ?? FASTEST_MS / 2) * 2));
      w = { nextAt: now + interval, interval, size, at: now, rate };
      this.watches.set(k.id, w);
    } catch (err) {
      this.log.debug('log rotation failed', { container: k.id, err: (err as Error).message });
      this.watches.set(k.id, { nextAt: now + QUIET_MS, interval: QUIET_MS, size: 0, at: now, rate: 0 });
    }
  }

  /** A container just started: its log is watched closely until its pace is known. */
  started(k: KeptLog): void {
    if (k.limits.maxSize <= 0 || k.limits.maxFile <= 1) return;
    const now = Date.now();
    this.watches.set(k.id, { nextAt: now + FASTEST_MS, interval: FASTEST_MS, size: 0, at: now, rate: 0 });
    if (this.dueAt > now + FASTEST_MS) this.schedule(FASTEST_MS);
  }

  private dueAt = Infinity;

  private schedule(ms: number): void {
    if (this.stopped) return;
    if (this.timer) clearTimeout(this.timer);
    this.dueAt = Date.now() + ms;
    this.timer = setTimeout(() => this.tick(), ms);
    this.timer.unref();
  }

  private tick(): void {
    const now = Date.now();
    let soonest = now + QUIET_MS;
    const seen = new Set<string>();
    for (const k of this.running()) {
      seen.add(k.id);
      const w = this.watches.get(k.id);
      if (!w || w.nextAt <= now) this.check(k, now);
      soonest = Math.min(soonest, this.watches.get(k.id)?.nextAt ?? soonest);
    }
    for (const id of this.watches.keys()) if (!seen.has(id)) this.watches.delete(id);
    // Nothing runs: no timer until a container starts (an idle daemon, above all in the VM under
    // emulation, is not woken every second for nothing).
    if (!seen.size) {
      this.timer = undefined;
      this.dueAt = Infinity;
      return;
    }
    this.schedule(Math.max(FASTEST_MS, soonest - now));
  }
}
