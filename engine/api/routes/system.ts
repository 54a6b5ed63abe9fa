/**
 * System routes: /_ping, /version, /info, /events, /system/df.
 */
import os from 'node:os';
import fs from 'node:fs';
import type { Router } from '../router.js';
import { beginStream, sendJson, sendText, writeJsonLine } from '../context.js';
import { Filters, parseTimestamp } from '../query.js';
import { eventFilterKeys, matchEvent, type EngineEvent } from '../../events/bus.js';
import type { Daemon } from '../../daemon/daemon.js';
import { hostPlatform } from '../../images/oci.js';
import { API_VERSION, BERTH_VERSION, ENGINE_VERSION, MIN_API_VERSION } from '../../version.js';

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

export function registerSystemRoutes(r: Router, d: Daemon): void {
  const ping = (ctx: Parameters<Parameters<Router['get']>[1]>[0]) => {
    const headers = {
      'Cache-Control': 'no-cache, no-store, must-revalidate',
      Pragma: 'no-cache',
      'Builder-Version': '1',
      Swarm: 'inactive',
    };
    if (ctx.req.method === 'HEAD') {
      ctx.res!.writeHead(200, { ...headers, 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': '0' });
      ctx.res!.end();
      return;
    }
    sendText(ctx, 200, 'OK', headers);
  };
  r.get('/_ping', ping);
  r.head('/_ping', ping);

  r.get('/version', (ctx) => {
    const platform = hostPlatform();
    sendJson(ctx, 200, {
      Platform: { Name: `Berth Engine ${BERTH_VERSION}` },
      Components: [
        {
          Name: 'Engine',
          Version: ENGINE_VERSION,
          Details: {
            ApiVersion: API_VERSION,
            Arch: platform.architecture,
            BuildTime: '2026-11-01T00:00:00.000000000+00:00',
            Experimental: 'false',
            GitCommit: 'berthd',
            GoVersion: `node${process.versions.node}`,
            KernelVersion: kernelVersion(),
            MinAPIVersion: MIN_API_VERSION,
            Os: 'linux',
          },
        },
        { Name: 'berthd', Version: BERTH_VERSION, Details: { GitCommit: 'berthd' } },
        { Name: 'runc', Version: d.runtimeVersion, Details: { GitCommit: '' } },
        { Name: 'conmon', Version: d.monitorVersion, Details: { GitCommit: '' } },
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
    });
  });

  r.get('/info', (ctx) => {
    const cs = d.containers.store.all();
    const running = cs.filter((c) => c.status === 'running' || c.status === 'restarting').length;
    const paused = cs.filter((c) => c.status === 'paused').length;
    const cfg = d.config;
    const platform = hostPlatform();
    sendJson(ctx, 200, {
      ID: d.engineId,
      Containers: cs.length,
      ContainersRunning: running,
      ContainersPaused: paused,
      ContainersStopped: cs.length - running - paused,
      Images: d.images.all().length,
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
      NEventsListener: d.eventListeners,
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
      ExperimentalBuild: false,
      ServerVersion: ENGINE_VERSION,
      Runtimes: Object.fromEntries(d.runtimes.entries().map(([name, rt]) => [name, { path: rt.binary, ...(cfg.runtimes[name]!.runtimeArgs.length ? { runtimeArgs: cfg.runtimes[name]!.runtimeArgs } : {}) }])),
      DefaultRuntime: d.runtimes.defaultName,
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
    });
  });

  r.get('/events', async (ctx) => {
    const filters = Filters.parse(ctx.query.get('filters')).validate(eventFilterKeys);
    const now = Date.now();
    const sinceRaw = ctx.query.get('since');
    const untilRaw = ctx.query.get('until');
    const sinceNano = sinceRaw ? parseTimestamp(sinceRaw, now) * 1e6 : undefined;
    const untilMs = untilRaw ? parseTimestamp(untilRaw, now) : undefined;
    const res = beginStream(ctx, 'application/json');
    const send = (e: EngineEvent) => {
      if (matchEvent(e, filters)) writeJsonLine(res, e);
    };
    const untilNano = untilMs !== undefined ? untilMs * 1e6 : Number.POSITIVE_INFINITY;
    if (sinceNano !== undefined) for (const e of d.events.history(sinceNano, untilNano)) send(e);
    if (untilMs !== undefined && untilMs <= Date.now()) {
      res.end();
      return;
    }
    d.eventListeners++;
    await new Promise<void>((resolve) => {
      const unsubscribe = d.events.subscribe((e) => {
        if (e.timeNano > untilNano) return;
        send(e);
      });
      let timer: NodeJS.Timeout | undefined;
      const done = () => {
        unsubscribe();
        if (timer) clearTimeout(timer);
        resolve();
      };
      if (untilMs !== undefined) timer = setTimeout(done, Math.max(0, untilMs - Date.now()));
      res.once('close', done);
    });
    d.eventListeners--;
    if (!res.writableEnded) res.end();
  });
}
