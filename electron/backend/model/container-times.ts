/**
 * When a container started and finished, for status text that stays true as
 * time passes ("Up 3 minutes" three minutes later). The list endpoint only
 * carries the engine's status string, so a row first gets times estimated
 * from that string; inspect then gives the exact State.StartedAt/FinishedAt.
 */
import type { ContainerRow } from '../../contract/models.js';

export interface ContainerTimes {
  startedAt?: number;
  finishedAt?: number;
  exitCode?: number;
  health?: string;
}

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** Inverse of Go's units.HumanDuration (what docker ps prints), in ms; undefined when the text is not one. */
export function parseHumanDuration(text: string): number | undefined {
  const t = text.trim();
  if (/^less than a second$/i.test(t)) return 0;
  if (/^about a minute$/i.test(t)) return MINUTE;
  if (/^about an hour$/i.test(t)) return HOUR;
  const m = /^(\d+) (second|minute|hour|day|week|month|year)s?$/i.exec(t);
  if (!m) return undefined;
  const n = Number(m[1]);
  const unit = { second: SECOND, minute: MINUTE, hour: HOUR, day: DAY, week: 7 * DAY, month: 30 * DAY, year: 365 * DAY }[m[2]!.toLowerCase() as 'second'];
  return n * unit;
}

/** Times estimated from the engine's status string at `now` ("Up 5 minutes (healthy)", "Exited (1) 2 hours ago"). */
export function estimateTimes(status: string, now: number): ContainerTimes {
  const out: ContainerTimes = {};
  const health = /\((healthy|unhealthy|health: starting)\)\s*$/.exec(status);
  if (health) out.health = health[1] === 'health: starting' ? 'starting' : health[1];
  const up = /^Up (.+?)(?: \((?:Paused|healthy|unhealthy|health: starting)\))?$/.exec(status);
  if (up) {
    const d = parseHumanDuration(up[1]!);
    if (d !== undefined) out.startedAt = now - d;
    return out;
  }
  const ended = /^(?:Exited|Restarting) \((-?\d+)\) (.+) ago$/.exec(status);
  if (ended) {
    out.exitCode = Number(ended[1]);
    const d = parseHumanDuration(ended[2]!);
    if (d !== undefined) out.finishedAt = now - d;
  }
  return out;
}

/** Go's zero time ("0001-01-01T00:00:00Z") and unparsable values are "never". */
function isoToMs(iso: unknown): number | undefined {
  if (typeof iso !== 'string' || iso.startsWith('0001-')) return undefined;
  const ms = Date.parse(iso);
  return Number.isFinite(ms) && ms > 0 ? ms : undefined;
}

/** Exact times from `GET /containers/{id}/json`. */
export function timesFromInspect(inspect: { State?: { StartedAt?: string; FinishedAt?: string; ExitCode?: number; Health?: { Status?: string } | null } }): ContainerTimes {
  const s = inspect.State ?? {};
  const out: ContainerTimes = {};
  const started = isoToMs(s.StartedAt);
  const finished = isoToMs(s.FinishedAt);
  if (started !== undefined) out.startedAt = started;
  if (finished !== undefined) out.finishedAt = finished;
  if (typeof s.ExitCode === 'number') out.exitCode = s.ExitCode;
  if (s.Health?.Status && s.Health.Status !== 'none') out.health = s.Health.Status;
  return out;
}

export function withTimes(row: ContainerRow, t: ContainerTimes): ContainerRow {
  const next: ContainerRow = { ...row };
  delete next.startedAt;
  delete next.finishedAt;
  delete next.exitCode;
  delete next.health;
  if (t.startedAt !== undefined) next.startedAt = t.startedAt;
  if (t.finishedAt !== undefined) next.finishedAt = t.finishedAt;
  if (t.exitCode !== undefined) next.exitCode = t.exitCode;
  if (t.health !== undefined) next.health = t.health;
  return next;
}
