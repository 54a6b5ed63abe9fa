/**
 * What `docker version` and `docker info` report about this daemon and host.
 */
import os from 'node:os';
import fs from 'node:fs';
import type { DaemonConfig } from './config.js';
import type { EventBus } from '../events/bus.js';
import type { ImageStore } from '../images/store.js';
import type { ContainerStore } from '../containers/store.js';
import type { Runtimes } from '../containers/runtimes.js';
import { hostPlatform } from '../images/oci.js';
import { API_VERSION, BERTH_VERSION, ENGINE_VERSION, MIN_API_VERSION } from '../version.js';

export interface SystemInfoDeps {
  config: () => DaemonConfig;
  engineId: () => string;
  versions: () => { runtime: string; monitor: string };
  events: EventBus;
  images: ImageStore;
  containers: ContainerStore;
  runtimes: Runtimes;
}

function kernelVersion(): string {
  return os.release();
}

function operatingSystem(): string {
  try {
    const text = fs.readFileSync('/etc/os-release', 'utf8');
    const m = /^PRETTY_NAME="?([^"\n]*)"?/m.exec(text);
    if (m) return m[1]!;
  } catch {
    /* fall through */
  }
  return os.type();
}

export class SystemInfo {
  constructor(private readonly d: SystemInfoDeps) {}

  /** daemon.json's `experimental` (not reloadable, as in dockerd). */
  get experimental(): boolean {
    return this.d.config().experimental;
  }

  version(): unknown {
    const platform = hostPlatform();
    return {
    Platform: { Name: `Berth Engine ${BERTH_VERSION}` },
    Components: [
      {
        Name: 'Engine',
        Version: ENGINE_VERSION,
        Details: {
          ApiVersion: API_VERSION,
          Arch: platform.architecture,
          BuildTime: '2026-11-01T00:00:00.000000000+00:00',
          Experimental: String(this.experimental),
          GitCommit: 'berthd',
          GoVersion: `node${process.versions.node}`,
          KernelVersion: kernelVersion(),
          MinAPIVersion: MIN_API_VERSION,
          Os: 'linux',
        },
      },
      { Name: 'berthd', Version: BERTH_VERSION, Details: { GitCommit: 'berthd' } },
      { Name: 'runc', Version: this.d.versions().runtime, Details: { GitCommit: '' } },
      { Name: 'conmon', Version: this.d.versions().monitor, Details: { GitCommit: '' } },
    ],
    Version: ENGINE_VERSION,
    ApiVersion: API_VERSION,
    MinAPIVersion: MIN_API_VERSION,
    GitCommit: 'berthd',
    GoVersion: `node${process.versions.node}`,
    Os: 'linux',
    Arch: platform.architecture,
    KernelVersion: kernelVersion(),
    BuildTime: '2026-11-01T00:00:00.000000000+00:00',
    Experimental: this.experimental,
  };
  }

  info(): unknown {
    const cs = this.d.containers.all();
    const running = cs.filter((c) => c.status === 'running' || c.status === 'restarting').length;
    const paused = cs.filter((c) => c.status === 'paused').length;
    const cfg = this.d.config();
    const platform = hostPlatform();
    return {
    ID: this.d.engineId(),
    Containers: cs.length,
    ContainersRunning: running,
    ContainersPaused: paused,
    ContainersStopped: cs.length - running - paused,
    Images: this.d.images.all().length,
    Driver: 'overlay2',
    DriverStatus: [
      ['Backing Filesystem', 'extfs'],
      ['Supports d_type', 'true'],
      ['Using metacopy', 'false'],
      ['Native Overlay Diff', 'true'],
      ['userxattr', 'false'],
    ],
    Plugins: { Volume: ['local'], Network: ['bridge', 'host', 'null'], Authorization: null, Log: ['json-file', 'local', 'k8s-file', 'none'] },
    MemoryLimit: true,
    SwapLimit: true,
    CpuCfsPeriod: true,
    CpuCfsQuota: true,
    CPUShares: true,
    CPUSet: true,
    PidsLimit: true,
    IPv4Forwarding: true,
    Debug: cfg.logLevel === 'debug',
    NFd: fs.readdirSync('/proc/self/fd').length,
    OomKillDisable: true,
    NGoroutines: 0,
    SystemTime: new Date().toISOString(),
    LoggingDriver: cfg.logDriver,
    CgroupDriver: 'cgroupfs',
    CgroupVersion: fs.existsSync('/sys/fs/cgroup/cgroup.controllers') ? '2' : '1',
    NEventsListener: this.d.events.subscriberCount,
    KernelVersion: kernelVersion(),
    OperatingSystem: operatingSystem(),
    OSVersion: '',
    OSType: 'linux',
    Architecture: os.machine?.() ?? platform.architecture,
    IndexServerAddress: 'https://index.docker.io/v1/',
    RegistryConfig: {
      IndexConfigs: { 'docker.io': { Name: 'docker.io', Mirrors: cfg.registryMirrors, Secure: true, Official: true } },
      InsecureRegistryCIDRs: ['127.0.0.0/8', '::1/128'],
      Mirrors: cfg.registryMirrors,
    },
    NCPU: os.cpus().length,
    MemTotal: os.totalmem(),
    GenericResources: null,
    DockerRootDir: cfg.dataRoot,
    HttpProxy: process.env.HTTP_PROXY ?? '',
    HttpsProxy: process.env.HTTPS_PROXY ?? '',
    NoProxy: process.env.NO_PROXY ?? '',
    Name: os.hostname(),
    Labels: cfg.labels,
    ExperimentalBuild: cfg.experimental,
    ServerVersion: ENGINE_VERSION,
    Runtimes: Object.fromEntries(this.d.runtimes.entries().map(([name, rt]) => [name, { path: rt.binary, ...(cfg.runtimes[name]!.runtimeArgs.length ? { runtimeArgs: cfg.runtimes[name]!.runtimeArgs } : {}) }])),
    DefaultRuntime: this.d.runtimes.defaultName,
    Swarm: { NodeID: '', NodeAddr: '', LocalNodeState: 'inactive', ControlAvailable: false, Error: '', RemoteManagers: null },
    LiveRestoreEnabled: true,
    Isolation: '',
    InitBinary: 'docker-init',
    ContainerdCommit: { ID: '' },
    RuncCommit: { ID: '' },
    InitCommit: { ID: '' },
    SecurityOptions: ['name=seccomp,profile=builtin'],
    CDISpecDirs: [],
    Warnings: [],
  };
  }
}
