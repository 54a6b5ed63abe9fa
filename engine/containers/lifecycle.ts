/**
 * What every lifecycle verb (create.ts, start.ts, stop.ts, exit.ts, remove.ts, ...) shares:
 * its dependencies — each a narrow port that a unit test can fake — the state machine, the
 * restart manager, and the few facts that span verbs (a daemon shutting down, a `docker
 * restart` in progress). The verbs are plain functions over this context; service.ts is
 * the facade that wires them.
 */
import path from 'node:path';
import type { DaemonConfig } from '../daemon/config.js';
import type { Logger } from '../daemon/log.js';
import type { EventBus } from '../events/bus.js';
import type { EndpointSettings, HostConfig } from '../api/types.js';
import type { Image } from '../images/store.js';
import type { Container, ContainerRecord } from './container.js';
import type { ContainerStore } from './store.js';
import type { ContainerRuntime } from './runtime.js';
import type { OciMount } from './spec.js';
import { ContainerStateMachine } from './state.js';
import { RestartManager, type Clock } from './restart-policy.js';
import { LogKeeper, logLimits, type LogLimits } from './log-rotation.js';

/** A container's networking for one start, as the network module plans it. */
export interface NetworkPlan {
  /** Network namespace to join; '' = a new one the runtime makes; undefined = the host's. */
  netnsPath: string | undefined;
  /** Contents of /etc/hosts, /etc/hostname and /etc/resolv.conf. */
  etc: { hosts: string; hostname: string; resolvConf: string };
  /** Extra environment (legacy link variables), below the container's own Env. */
  env: string[];
}

/**
 * How containers join networks — the one mechanism, called at each step of the lifecycle
 * (network/manager.ts implements it).
 */
export interface ContainerNetworking {
  /** Create: checks NetworkMode (a missing network fails the start, not the create, as in dockerd). */
  validateMode(mode: string): void;
  /** Create: the endpoints a new container shows before it runs. */
  initialEndpoints(mode: string, requested: Record<string, Partial<EndpointSettings>> | undefined): Record<string, EndpointSettings>;
  /** Create: endpoint settings, links, extra hosts. */
  creating(r: ContainerRecord): Promise<void>;
  /** Start: namespace, address leases, host ports, /etc files, link env. */
  prepare(c: Container): Promise<NetworkPlan>;
  /** Start: the monitor is spawned and the runtime creates the container; plumbing can overlap it. */
  launching(c: Container): void;
  /** Start: the process exists (not yet running): endpoints ready, ports published. */
  created(c: Container, pid: number): Promise<void>;
  /** Exit or failed start: addresses, ports and interfaces given back. */
  released(c: Container): Promise<void>;
}

/** Volumes and mounts in a container's life (volumes/service.ts implements it). */
export interface ContainerVolumes {
  /** Checks of the host paths that come before the image, as dockerd's verifyContainerSettings (a bind outside the VM's shared folders). */
  verifyHostPaths(hc: HostConfig): void;
  creating(r: ContainerRecord, image: Image): Promise<void>;
  /** Extra OCI mounts (volumes, binds) for a start. */
  mounts(c: Container, rootfs: string): Promise<OciMount[]>;
  exited(c: Container): Promise<void>;
  removed(c: Container, opts: { volumes: boolean }): Promise<void>;
}

/** Container root filesystems (rootfs.ts implements it). */
export interface ContainerFilesystems {
  create(id: string): Promise<void>;
  mount(id: string, topLayer: string | null, opts?: { volatile?: boolean }): Promise<string>;
  unmount(id: string): Promise<void>;
  isMounted(id: string): boolean;
  remove(id: string): Promise<void>;
  /** Filesystems of containers not in `known` (a create cut short before its record was written). */
  removeUnknown(known: Set<string>): Promise<void>;
}

export interface LifecycleDeps {
  config: DaemonConfig;
  log: Logger;
  events: EventBus;
  images: { get(id: string): Image | undefined; lookup(ref: string): Image; setLayerUsers(fn: () => Array<string | null>): void; collectOrphanLayers(): Promise<void> };
  layers: { has(chainID: string): boolean };
  store: ContainerStore;
  filesystems: ContainerFilesystems;
  runtime: ContainerRuntime;
  /** Runtime names (daemon.json `runtimes`): the one a create request names, or the default. */
  runtimeNames: { resolveName(name: string | null | undefined): string };
  networking: ContainerNetworking;
  volumes: ContainerVolumes;
  /** Timers of the restart manager (a fake clock in unit tests). */
  clock?: Clock;
}

export type RemoveOptions = { force: boolean; volumes: boolean };

export class Lifecycle {
  readonly state = new ContainerStateMachine();
  readonly restarts: RestartManager;
  shuttingDown = false;
  /** Containers inside `docker restart`: their --rm waits (as dockerd's does) until they are stopped for good. */
  readonly restartingByUser = new Set<string>();
  /** Late-bound to remove.ts: start and exit paths remove --rm containers, and remove waits for exits. */
  remove: (c: Container, opts: RemoveOptions) => Promise<void> = () => Promise.reject(new Error('lifecycle not wired'));

  /** Keeps the log files the monitors cut (log-rotation.ts); started and stopped by the service. */
  readonly logKeeper: LogKeeper;

  constructor(readonly d: LifecycleDeps) {
    this.restarts = new RestartManager(d.clock);
    this.logKeeper = new LogKeeper(
      () => d.store.all().filter((c) => c.isRunning() && c.record.hostConfig.LogConfig.Type !== 'none').map((c) => ({ id: c.id, logPath: c.record.logPath, limits: this.logLimits(c) })),
      d.log,
    );
  }

  event(c: Container, action: string, extra: Record<string, string> = {}): void {
    const image = c.record.config.Image;
    this.d.events.publish('container', action, c.id, { ...c.record.config.Labels, image, name: c.name, ...extra });
  }

  /** Save the record; a container already removed is not written back. */
  save(c: Container): Promise<void> {
    return this.d.store.save(c);
  }

  logPath(id: string): string {
    return path.join(this.d.store.dir(id), 'container.log');
  }

  /** Where the monitor writes the container's output: its log, or a small scratch file when logging is off (attach reads it). */
  outputPath(c: Container): string {
    return c.record.hostConfig.LogConfig.Type === 'none' ? path.join(this.d.store.dir(c.id), 'output.log') : c.record.logPath;
  }

  /** Log limits of a container (json-file's max-size / max-file; on by default: log-rotation.ts). */
  logLimits(c: Container): LogLimits {
    return logLimitsOf(c.record);
  }

  /** --rm takes effect at this exit (not during a daemon shutdown, nor inside `docker restart`). */
  removesAtExit(c: Container): boolean {
    return c.record.hostConfig.AutoRemove && !this.shuttingDown && !this.restartingByUser.has(c.id);
  }
}

export function logLimitsOf(r: ContainerRecord): LogLimits {
  return logLimits(r.hostConfig.LogConfig);
}

export function delay(ms: number): Promise<void> {
  return new Promise((r) => {
    setTimeout(r, ms).unref();
  });
}
