/**
 * A container: its persisted record (what `inspect` shows, in Docker's
 * shapes) plus the runtime bookkeeping that is not persisted (waiters, locks).
 */
import { Mutex } from '../concurrency/mutex.js';
import type { ContainerConfig, ContainerStateJson, ContainerStatus, EndpointSettings, HealthState, HostConfig, MountPoint, NetworkingConfig, PortMap } from '../api/types.js';
import { ZERO_TIME, humanDuration, parseTimeMs } from '../system/time.js';

export interface StateRecord {
  status: ContainerStatus;
  pid: number;
  exitCode: number;
  error: string;
  oomKilled: boolean;
  startedAt: string;
  finishedAt: string;
  health?: HealthState;
}

/** The conmon process watching a running container; checked by pid and start time after a daemon restart. */
export interface MonitorRef {
  pid: number;
  startTime: string;
}

export interface ContainerRecord {
  id: string;
  /** Without the leading slash. */
  name: string;
  created: string;
  path: string;
  args: string[];
  config: ContainerConfig;
  hostConfig: HostConfig;
  networkingConfig: NetworkingConfig;
  imageId: string;
  /** Top layer of the image at create time: the container keeps it (and its parents) even if the image is deleted. */
  topLayer?: string | null;
  state: StateRecord;
  restartCount: number;
  hasBeenStartedBefore: boolean;
  hasBeenManuallyStopped: boolean;
  monitor?: MonitorRef;
  mounts: MountPoint[];
  /** Endpoint state per network, keyed by network name. */
  networks: Record<string, EndpointSettings>;
  /** Host ports actually bound (after random port allocation). */
  ports: PortMap;
  /** Network namespace path while running. */
  sandboxKey: string;
  logPath: string;
}

export type WaitCondition = 'not-running' | 'next-exit' | 'removed';

export interface ExitInfo {
  exitCode: number;
  error?: string;
}

export class Container {
  readonly lock = new Mutex();
  /** Resolved when the container next exits or is removed. */
  private exitWaiters: Array<(e: ExitInfo) => void> = [];
  private removeWaiters: Array<(e: ExitInfo) => void> = [];
  /** Attach sessions: resolved on exit and also when a start fails (no exit ever comes). */
  private stopWaiters: Array<() => void> = [];
  readonly execIds = new Set<string>();
  removed = false;

  constructor(public record: ContainerRecord) {}

  get id(): string {
    return this.record.id;
  }

  get name(): string {
    return this.record.name;
  }

  get status(): ContainerStatus {
    return this.record.state.status;
  }

  isRunning(): boolean {
    const s = this.record.state.status;
    return s === 'running' || s === 'paused';
  }

  isPaused(): boolean {
    return this.record.state.status === 'paused';
  }

  /** Registers interest in the next exit (call before starting the process to avoid a race). */
  onNextExit(): Promise<ExitInfo> {
    return new Promise((resolve) => this.exitWaiters.push(resolve));
  }

  onNextStop(): Promise<void> {
    return new Promise((resolve) => this.stopWaiters.push(resolve));
  }

  notifyStartFailed(): void {
    const w = this.stopWaiters;
    this.stopWaiters = [];
    for (const r of w) r();
  }

  onRemoved(): Promise<ExitInfo> {
    return new Promise((resolve) => this.removeWaiters.push(resolve));
  }

  notifyExit(info: ExitInfo): void {
    const w = this.exitWaiters;
    this.exitWaiters = [];
    for (const r of w) r(info);
    this.notifyStartFailed();
  }

  notifyRemoved(info: ExitInfo): void {
    this.removed = true;
    this.notifyExit(info);
    const w = this.removeWaiters;
    this.removeWaiters = [];
    for (const r of w) r(info);
  }

  /** The State object of `docker inspect`. */
  stateJson(): ContainerStateJson {
    const s = this.record.state;
    const json: ContainerStateJson = {
      Status: s.status,
      Running: s.status === 'running' || s.status === 'paused' || s.status === 'restarting',
      Paused: s.status === 'paused',
      Restarting: s.status === 'restarting',
      OOMKilled: s.oomKilled,
      Dead: s.status === 'dead',
      Pid: s.pid,
      ExitCode: s.exitCode,
      Error: s.error,
      StartedAt: s.startedAt,
      FinishedAt: s.finishedAt,
    };
    if (s.health) json.Health = s.health;
    return json;
  }

  /** The STATUS column of `docker ps`. */
  statusString(now = Date.now()): string {
    const s = this.record.state;
    switch (s.status) {
      case 'created':
        return 'Created';
      case 'running':
      case 'paused': {
        let str = `Up ${humanDuration(now - parseTimeMs(s.startedAt))}`;
        if (s.status === 'paused') str += ' (Paused)';
        else if (s.health && s.health.Status !== 'none') str += s.health.Status === 'starting' ? ' (health: starting)' : ` (${s.health.Status})`;
        return str;
      }
      case 'restarting':
        return `Restarting (${s.exitCode}) ${humanDuration(now - parseTimeMs(s.finishedAt))} ago`;
      case 'removing':
        return 'Removal In Progress';
      case 'dead':
        return 'Dead';
      case 'exited':
        if (s.finishedAt === ZERO_TIME) return `Exited (${s.exitCode})`;
        return `Exited (${s.exitCode}) ${humanDuration(now - parseTimeMs(s.finishedAt))} ago`;
    }
  }
}

export function initialState(): StateRecord {
  return { status: 'created', pid: 0, exitCode: 0, error: '', oomKilled: false, startedAt: ZERO_TIME, finishedAt: ZERO_TIME };
}
