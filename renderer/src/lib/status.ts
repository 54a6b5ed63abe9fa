/**
 * Status text derived from when a container started or finished, the way
 * dockerd words it (container/state.go, Go's units.HumanDuration), so it is
 * true at any moment rather than only when the list was last fetched.
 */
import type { ContainerRow } from '../../../electron/contract/models.js';

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;

/** Go's units.HumanDuration. */
export function humanDuration(ms: number): string {
  const seconds = Math.floor(ms / SECOND);
  if (seconds < 1) return 'Less than a second';
  if (seconds === 1) return '1 second';
  if (seconds < 60) return `${seconds} seconds`;
  const minutes = Math.floor(ms / MINUTE);
  if (minutes === 1) return 'About a minute';
  if (minutes < 60) return `${minutes} minutes`;
  const hours = Math.round(ms / HOUR);
  if (hours === 1) return 'About an hour';
  if (hours < 48) return `${hours} hours`;
  if (hours < 24 * 7 * 2) return `${Math.floor(hours / 24)} days`;
  if (hours < 24 * 30 * 2) return `${Math.floor(hours / 24 / 7)} weeks`;
  if (hours < 24 * 365 * 2) return `${Math.floor(hours / 24 / 30)} months`;
  return `${Math.floor(ms / HOUR / 24 / 365)} years`;
}

/** What `docker ps` would print in STATUS now; falls back to the engine's text when no times are known. */
export function containerStatus(c: Pick<ContainerRow, 'state' | 'status' | 'startedAt' | 'finishedAt' | 'exitCode' | 'health'>, now: number): string {
  const since = (t: number) => humanDuration(Math.max(0, now - t));
  switch (c.state) {
    case 'running':
      if (c.startedAt === undefined) return c.status || 'Up';
      return `Up ${since(c.startedAt)}${c.health ? ` (${c.health === 'starting' ? 'health: starting' : c.health})` : ''}`;
    case 'paused':
      return c.startedAt === undefined ? c.status || 'Paused' : `Up ${since(c.startedAt)} (Paused)`;
    case 'restarting':
      return c.finishedAt === undefined ? c.status || 'Restarting' : `Restarting (${c.exitCode ?? 0}) ${since(c.finishedAt)} ago`;
    case 'exited':
      return c.finishedAt === undefined ? c.status || 'Exited' : `Exited (${c.exitCode ?? 0}) ${since(c.finishedAt)} ago`;
    case 'created':
      return 'Created';
    case 'removing':
      return 'Removal In Progress';
    case 'dead':
      return 'Dead';
  }
}
