/**
 * The composition root of berthd: builds every subsystem from the config, wires them
 * together, hands each API router the narrow backend it needs (daemon/backends.ts), serves
 * the API and shuts down without stopping containers (they keep running under their monitors).
 */
import fsp from 'node:fs/promises';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import type { DaemonConfig } from './config.js';
import type { Logger } from './log.js';
import { EventBus } from '../events/bus.js';
import { BlobStore } from '../images/blobs.js';
import { LayerStore } from '../images/layers.js';
import { ImageStore } from '../images/store.js';
import { ContainerStore } from '../containers/store.js';
import { RootfsManager } from '../containers/rootfs.js';
import { Runtimes } from '../containers/runtimes.js';
import { ConmonRuntime } from '../containers/conmon-runtime.js';
import { ContainerService } from '../containers/service.js';
import { ContainerViews } from '../containers/views.js';
import { ExecManager } from '../containers/exec.js';
import { HealthMonitor } from '../containers/health.js';
import { runHealthProbe } from '../containers/health-exec.js';
import { ContainerIntrospection } from '../containers/introspection.js';
import { NetworkManager } from '../network/manager.js';
import { SocketPortPublisher } from '../network/port-publisher.js';
import { Router } from '../api/router.js';
import { ApiServer } from '../api/server.js';
import type { RegistryService } from '../registry/service.js';
import { ArchiveService } from '../containers/archive.js';
import { VolumeService } from '../volumes/service.js';
import { PluginStore } from '../plugins/store.js';
import { ENGINE_VERSION as PLUGIN_DOCKER_VERSION } from '../version.js';
import { findExecutable, run } from '../system/command.js';
import { enableFavorDynmods } from '../system/cgroup-tuning.js';
import { ImageViews } from '../images/views.js';
import { ImageDeleter } from '../images/delete.js';
import { NetworkViews } from '../network/views.js';
import { SystemInfo } from './system-info.js';
import { registerRoutes } from './backends.js';
import { BuildService } from '../builder/service.js';
import { BuildCacheStore } from '../builder/cache-store.js';
import { EngineBuildBackend, builderDirs, cacheImageRemover } from '../builder/engine-backend.js';

const MAX_SOCKET_PATH = 107;

export class Daemon {
  readonly events = new EventBus();
  readonly blobs: BlobStore;
  readonly layers: LayerStore;
  readonly images: ImageStore;
  readonly runtimes: Runtimes;
  readonly runtime: ConmonRuntime;
  readonly rootfs: RootfsManager;
  readonly networks: NetworkManager;
  readonly volumes: VolumeService;
  readonly plugins: PluginStore;
  readonly archive: ArchiveService;
  readonly containers: ContainerService;
  readonly views: ContainerViews;
  readonly execs: ExecManager;
  readonly health: HealthMonitor;
  readonly inspector: ContainerIntrospection;
  readonly server: ApiServer;
  readonly imageViews: ImageViews;
  readonly imageDeleter: ImageDeleter;
  readonly networkViews: NetworkViews;
  readonly system: SystemInfo;
  readonly builds: BuildService;
  engineId = '';
  runtimeVersion = '';
  monitorVersion = '';

  constructor(
    public config: DaemonConfig,
    readonly log: Logger,
  ) {
    const root = config.dataRoot;
    this.blobs = new BlobStore(path.join(root, 'image', 'blobs'));
    this.layers = new LayerStore(path.join(root, 'overlay'), log);
    this.images = new ImageStore(path.join(root, 'image'), this.blobs, this.layers, log);
    this.runtimes = new Runtimes(config.runtimes, config.defaultRuntime, config.execRoot);
    this.runtime = new ConmonRuntime({ execRoot: config.execRoot, monitorPath: () => this.config.monitorPath, runtimes: this.runtimes, log });
    this.rootfs = new RootfsManager(this.layers);
    const store = new ContainerStore(path.join(root, 'containers'), log);
    // In the Berth VM the guest agent names its socket: published ports are bound on the host too.
    const publisher = process.env.BERTH_PORT_PUBLISHER ? new SocketPortPublisher(process.env.BERTH_PORT_PUBLISHER, log) : undefined;
    this.networks = new NetworkManager({ dataRoot: root, config, log, events: this.events, store, ...(publisher ? { publisher } : {}) });
    this.volumes = new VolumeService({ root: path.join(root, 'volumes'), containers: store, events: this.events, log, sharedHostPaths: () => (this.config.sharedHostPaths ? [...this.config.sharedHostPaths, this.config.dataRoot] : undefined) });
    this.plugins = new PluginStore(path.join(root, 'plugins'), this.events, PLUGIN_DOCKER_VERSION);
    // Networking and volumes join each container's lifecycle through their ports (containers/lifecycle.ts).
    this.containers = new ContainerService({
      config,
      log,
      events: this.events,
      images: this.images,
      layers: this.layers,
      store,
      filesystems: this.rootfs,
      runtime: this.runtime,
      runtimeNames: this.runtimes,
      networking: this.networks,
      volumes: this.volumes,
    });
    this.archive = new ArchiveService({ store, rootfs: this.rootfs, images: this.images, events: this.events });
    this.views = new ContainerViews(store, this.images, this.networks, this.rootfs);
    this.execs = new ExecManager({ log, containers: this.containers, rootfsOf: (id) => this.rootfs.mergedDir(id), runtime: this.runtime });
    // Health checks run while a container runs (and again after a daemon restart), as execs in it.
    this.health = new HealthMonitor({
      probe: (c, cmd, timeoutMs) => runHealthProbe(this.execs, c, cmd, timeoutMs),
      commit: (c, still, apply) =>
        c.lock.run(async () => {
          if (!still()) return;
          apply();
          await store.save(c);
        }),
      event: (c, action) => this.containers.event(c, action),
      warn: (msg, fields) => log.warn(msg, fields),
    });
    this.health.follow(this.containers.lc.state);
    this.inspector = new ContainerIntrospection(this.runtime, this.rootfs, this.layers);
    this.imageViews = new ImageViews(this.images, (id) => store.all().filter((c) => c.record.imageId === id).length);
    this.imageDeleter = new ImageDeleter(this.images, this.events, () => store.all().map((c) => ({ id: c.id, imageId: c.record.imageId, running: c.isRunning() })));
    this.networkViews = new NetworkViews(this.networks, store);
    this.system = new SystemInfo({
      config: () => this.config,
      engineId: () => this.engineId,
      versions: () => ({ runtime: this.runtimeVersion, monitor: this.monitorVersion }),
      events: this.events,
      images: this.images,
      containers: store,
      runtimes: this.runtimes,
    });
    // The builder (engine/builder): cache records of the images builds make; RUN steps through the
    // container lifecycle's narrow backend (containers/backend.ts).
    const dirs = builderDirs(root, config.execRoot);
    const buildCache = new BuildCacheStore(dirs.cacheDir, this.images, () => new Set(store.all().map((c) => c.record.imageId)));
    this.builds = new BuildService({
      backend: new EngineBuildBackend({ images: this.images, layers: this.layers, containers: this.containers, upperDir: (id) => this.rootfs.upperDir(id), events: this.events, registry: () => this.registry(), cache: buildCache, mountRoot: dirs.mountRoot }),
      cache: buildCache,
      events: this.events,
      log: log.with({ module: 'builder' }),
      tmpRoot: dirs.tmpRoot,
      mountRoot: dirs.mountRoot,
      removeImage: cacheImageRemover(this.images, this.layers, this.events),
    });
    const router = new Router();
    registerRoutes(router, this);
    this.server = new ApiServer(router, log);
  }

  private checkPaths(): void {
    const longest = path.join(this.config.execRoot, 'e', 'x'.repeat(64), 'attach');
    if (longest.length > MAX_SOCKET_PATH) {
      throw new Error(`exec-root ${this.config.execRoot} is too long: monitor sockets under it would exceed the ${MAX_SOCKET_PATH}-byte unix socket path limit`);
    }
  }

  /** The runtime and the monitor as absolute paths (the monitor needs them); missing ones fail the start here. */
  private resolveTools(): void {
    this.runtimes.resolveBinaries((msg) => this.log.warn(msg));
    const monitor = findExecutable(this.config.monitorPath);
    if (!monitor) throw new Error(`container monitor ${this.config.monitorPath} not found: install conmon (apt-get install conmon)`);
    this.config.monitorPath = monitor;
  }

  private async versions(): Promise<void> {
    const first = (s: string) => s.split('\n')[0]?.trim() ?? '';
    // Side by side: under the VM's software emulation each of these execs takes seconds.
    [this.runtimeVersion, this.monitorVersion] = await Promise.all([
      run(this.runtimes.default.binary, ['--version']).then((r) => first(r.stdout).replace(/^runc version /, ''), () => 'unknown'),
      run(this.config.monitorPath, ['--version']).then((r) => first(r.stdout).replace(/^conmon version /, ''), () => 'unknown'),
    ]);
    if (this.runtimeVersion === 'unknown') throw new Error(`OCI runtime ${this.runtimes.default.binary} not found: install runc (apt-get install runc)`);
    if (this.monitorVersion === 'unknown') throw new Error(`container monitor ${this.config.monitorPath} not found: install conmon (apt-get install conmon)`);
  }

  async start(): Promise<void> {
    // How long each step took, logged with "berthd is ready" (the VM's boot benchmark reads it).
    const steps: Record<string, number> = {};
    const step = async (name: string, fn: () => unknown) => {
      const started = performance.now();
      await fn();
      steps[name] = Math.round(performance.now() - started);
    };
    this.checkPaths();
    // Hosts, TLS files and the socket group are checked before anything on the host changes.
    const listenPlan = this.server.prepare(this.config.hosts, { ...(this.config.tls ? { tls: this.config.tls } : {}), tlsExplicitlyOff: this.config.tlsExplicitlyOff, ...(this.config.socketGroup !== undefined ? { socketGroup: this.config.socketGroup } : {}) });
    this.resolveTools();
    // The runtime's and monitor's --version run beside the steps below (in the VM, under software
    // emulation, they took 4–10 s); nothing starts a container before they are awaited.
    const versions = step('versions', () => this.versions());
    versions.catch(() => undefined);
    await step('tuneHost', () => this.tuneHost());
    await step('dirs', async () => {
      await fsp.mkdir(this.config.dataRoot, { recursive: true, mode: 0o711 });
      await fsp.mkdir(this.config.execRoot, { recursive: true, mode: 0o700 });
      this.engineId = await this.loadEngineId();
    });
    // The image store reads files, the networks exec ip and iptables: side by side.
    await Promise.all([
      step('images', async () => {
        await this.blobs.init();
        await this.layers.init();
        await this.images.init();
      }),
      step('networks', () => this.networks.init()),
    ]);
    await step('volumes', () => this.volumes.init());
    await step('plugins', () => this.plugins.load());
    await step('containers', () => this.containers.init());
    await step('builds', () => this.builds.init());
    await versions;
    await step('restore', async () => {
      await this.networks.restore();
      await this.volumes.restore();
      this.containers.watchExits();
    });
    await step('listen', () => this.server.listen(listenPlan));
    this.containers.startPolicyContainers();
    this.log.info('berthd is ready', { dataRoot: this.config.dataRoot, images: this.images.all().length, containers: this.containers.store.count(), uptimeMs: Math.round(process.uptime() * 1000), startMs: steps });
  }

  /** Host settings that make container starts fast (engine/system/cgroup-tuning.ts says why). */
  private async tuneHost(): Promise<void> {
    if (this.config.features['cgroup-favordynmods'] === false) return;
    try {
      const result = await enableFavorDynmods();
      if (result === 'enabled') this.log.info('enabled the cgroup2 favordynmods mount option (cgroup moves no longer wait for an RCU grace period at every container start); opt out with features: {"cgroup-favordynmods": false}');
      else this.log.debug('cgroup favordynmods', { result });
    } catch (err) {
      this.log.warn('could not enable cgroup favordynmods; container starts will be slower', { err: err instanceof Error ? err.message : String(err) });
    }
  }

  private async loadEngineId(): Promise<string> {
    const file = path.join(this.config.dataRoot, 'engine-id');
    try {
      return (await fsp.readFile(file, 'utf8')).trim();
    } catch {
      const id = randomUUID();
      await fsp.writeFile(file, id + '\n');
      return id;
    }
  }

  /** Applies the settings that can change without a restart (SIGHUP). */
  reload(next: DaemonConfig): void {
    const c = this.config;
    // First: it is the one step that can still refuse the new config, before anything changed.
    this.runtimes.reload(next.runtimes, next.defaultRuntime, (msg) => this.log.warn(msg));
    c.logLevel = next.logLevel;
    c.registryMirrors = next.registryMirrors;
    c.insecureRegistries = next.insecureRegistries;
    c.labels = next.labels;
    c.defaultUlimits = next.defaultUlimits;
    c.maxConcurrentDownloads = next.maxConcurrentDownloads;
    c.maxConcurrentUploads = next.maxConcurrentUploads;
    c.maxDownloadAttempts = next.maxDownloadAttempts;
    c.logOpts = next.logOpts;
    c.logDriver = next.logDriver;
    c.runtimes = next.runtimes;
    c.defaultRuntime = next.defaultRuntime;
    this.log.setLevel(next.logLevel);
    this.events.publish('daemon', 'reload', this.engineId, { name: 'berthd' });
  }

  async stop(): Promise<void> {
    this.health.unwatchAll();
    await this.builds.shutdown();
    await this.containers.shutdown();
    await this.networks.shutdown();
    await this.server.close();
  }

  private registryService: Promise<RegistryService> | undefined;

  /**
   * Pull, push, login, search: engine/registry. Loaded on first use — its
   * HTTP client (undici) is about a quarter of the daemon's idle memory.
   */
  registry(): Promise<RegistryService> {
    this.registryService ??= import('../registry/service.js').then(
      ({ RegistryService }) => new RegistryService({ config: this.config, log: this.log, events: this.events, images: this.images, layers: this.layers, blobs: this.blobs }),
    );
    return this.registryService;
  }
}
