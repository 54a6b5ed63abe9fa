/**
 * The composition root of berthd: builds every subsystem from the config,
 * wires them together, serves the API and shuts down without stopping
 * containers (they keep running under their monitors).
 */
import fs from 'node:fs';
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
import { ContainerService } from '../containers/service.js';
import { ContainerViews } from '../containers/views.js';
import { ExecManager } from '../containers/exec.js';
import { ContainerIntrospection } from '../containers/introspection.js';
import { NetworkManager } from '../network/manager.js';
import { Router } from '../api/router.js';
import { ApiServer } from '../api/server.js';
import { registerSystemRoutes } from '../api/routes/system.js';
import { registerContainerRoutes } from '../api/routes/containers.js';
import { registerImageRoutes } from '../api/routes/images.js';
import { registerMiscRoutes } from '../api/routes/misc.js';
import { registerNetworkRoutes } from '../api/routes/networks.js';
import { registerRegistryRoutes } from '../api/routes/registry.js';
import type { RegistryService } from '../registry/service.js';
import { registerVolumeRoutes } from '../api/routes/volumes.js';
import { registerArchiveRoutes } from '../api/routes/archive.js';
import { ArchiveService } from '../containers/archive.js';
import { VolumeService } from '../volumes/service.js';
import { Filters, parseTimestamp } from '../api/query.js';
import { parseTimeMs } from '../system/time.js';
import { findExecutable, run } from '../system/command.js';
import { enableFavorDynmods } from '../system/cgroup-tuning.js';
import { dirSize } from '../containers/views.js';
import { ImageViews } from '../images/views.js';
import { ImageDeleter } from '../images/delete.js';
import { serveLoad, serveSave } from '../images/archive-endpoints.js';
import { pruneImages } from '../images/prune.js';
import { NetworkViews } from '../network/views.js';
import { sendJson, type RequestContext } from '../api/context.js';

const MAX_SOCKET_PATH = 107;

export class Daemon {
  readonly events = new EventBus();
  readonly blobs: BlobStore;
  readonly layers: LayerStore;
  readonly images: ImageStore;
  readonly runtimes: Runtimes;
  readonly rootfs: RootfsManager;
  readonly networks: NetworkManager;
  readonly volumes: VolumeService;
  readonly archive: ArchiveService;
  readonly containers: ContainerService;
  readonly views: ContainerViews;
  readonly execs: ExecManager;
  readonly inspector: ContainerIntrospection;
  readonly server: ApiServer;
  readonly imageViews: ImageViews;
  readonly imageDeleter: ImageDeleter;
  readonly networkViews: NetworkViews;
  engineId = '';
  eventListeners = 0;
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
    this.rootfs = new RootfsManager(this.layers);
    const store = new ContainerStore(path.join(root, 'containers'), log);
    this.networks = new NetworkManager({ dataRoot: root, config, log, events: this.events, store });
    this.containers = new ContainerService({ config, log, layers: this.layers, events: this.events, images: this.images, store, rootfs: this.rootfs, runtimes: this.runtimes, networks: this.networks });
    // Networking joins each container's lifecycle: a namespace of its own made at prepare, endpoints
    // plumbed into it while runc creates the container, ports live before it starts, released at exit.
    this.containers.addHooks({
      creating: (r) => this.networks.creating(r),
      launching: (c) => this.networks.plumb(c),
      created: (c, pid) => this.networks.attach(c, pid),
      exited: (c) => this.networks.release(c),
    });
    // Volumes and mounts: created with the container, mounted at start, released at exit, anonymous ones removed by rm -v.
    this.volumes = new VolumeService({ root: path.join(root, 'volumes'), containers: store, events: this.events, log });
    this.containers.addHooks({
      creating: (r) => this.volumes.creating(r),
      mounts: (c, rootfs) => this.volumes.mounts(c, rootfs),
      exited: (c) => this.volumes.exited(c),
      removed: (c, o) => this.volumes.removed(c, o),
    });
    this.archive = new ArchiveService({ store, rootfs: this.rootfs, images: this.images, events: this.events });
    this.views = new ContainerViews(store, this.images, this.networks, this.rootfs);
    this.execs = new ExecManager(config, log, this.containers, this.rootfs, this.runtimes);
    this.inspector = new ContainerIntrospection(this.runtimes, this.rootfs, this.layers);
    this.imageViews = new ImageViews(this.images, (id) => store.all().filter((c) => c.record.imageId === id).length);
    this.imageDeleter = new ImageDeleter(this.images, this.events, () => store.all().map((c) => ({ id: c.id, imageId: c.record.imageId, running: c.isRunning() })));
    this.networkViews = new NetworkViews(this.networks, store);
    const router = new Router();
    registerSystemRoutes(router, this);
    registerContainerRoutes(router, this);
    registerImageRoutes(router, this);
    registerMiscRoutes(router, this);
    registerNetworkRoutes(router, this);
    registerRegistryRoutes(router, this);
    registerVolumeRoutes(router, this);
    registerArchiveRoutes(router, this);
    this.server = new ApiServer(router, log);
  }

  private checkPaths(): void {
    const longest = path.join(this.config.execRoot, 'e', 'x'.repeat(64), 'attach');
    if (longest.length > MAX_SOCKET_PATH) {
      throw new Error(`exec-root ${this.config.execRoot} is too long: monitor sockets under it would exceed the ${MAX_SOCKET_PATH}-byte unix socket path limit`);
    }
  }

  private async versions(): Promise<void> {
    // The monitor needs absolute paths; resolve once at startup.
    this.runtimes.resolveBinaries((msg) => this.log.warn(msg));
    const monitor = findExecutable(this.config.monitorPath);
    if (!monitor) throw new Error(`container monitor ${this.config.monitorPath} not found: install conmon (apt-get install conmon)`);
    this.config.monitorPath = monitor;
    const first = (s: string) => s.split('\n')[0]?.trim() ?? '';
    this.runtimeVersion = await run(this.runtimes.default.binary, ['--version']).then((r) => first(r.stdout).replace(/^runc version /, ''), () => 'unknown');
    this.monitorVersion = await run(this.config.monitorPath, ['--version']).then((r) => first(r.stdout).replace(/^conmon version /, ''), () => 'unknown');
    if (this.runtimeVersion === 'unknown') throw new Error(`OCI runtime ${this.runtimes.default.binary} not found: install runc (apt-get install runc)`);
    if (this.monitorVersion === 'unknown') throw new Error(`container monitor ${this.config.monitorPath} not found: install conmon (apt-get install conmon)`);
  }

  async start(): Promise<void> {
    this.checkPaths();
    await this.versions();
    await this.tuneHost();
    await fsp.mkdir(this.config.dataRoot, { recursive: true, mode: 0o711 });
    await fsp.mkdir(this.config.execRoot, { recursive: true, mode: 0o700 });
    this.engineId = await this.loadEngineId();
    await this.blobs.init();
    await this.layers.init();
    await this.images.init();
    await this.networks.init();
    await this.volumes.init();
    await this.containers.init();
    await this.networks.restore();
    await this.volumes.restore();
    this.containers.watchExits();
    await this.server.listen(this.config.hosts);
    await this.containers.startPolicyContainers();
    this.log.info('berthd is ready', { dataRoot: this.config.dataRoot, images: this.images.all().length, containers: this.containers.store.count() });
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
    await this.containers.shutdown();
    await this.networks.shutdown();
    await this.server.close();
  }

  // ---- registry (issue: registries) ----
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

  async pull(ctx: RequestContext, image: string, tag: string | null, platform: string | null): Promise<void> {
    await (await this.registry()).pull(ctx, image, tag, platform);
  }

  async push(ctx: RequestContext, name: string): Promise<void> {
    await (await this.registry()).push(ctx, name);
  }

  async search(ctx: RequestContext): Promise<void> {
    sendJson(ctx, 200, await (await this.registry()).search(ctx));
  }

  // ---- image archives and pruning ----
  async saveImages(ctx: RequestContext, names: string[]): Promise<void> {
    await serveSave(this, ctx, names);
  }

  async loadImages(ctx: RequestContext, quiet: boolean): Promise<void> {
    await serveLoad(this, ctx, quiet);
  }

  async pruneImages(f: Filters): Promise<{ ImagesDeleted: Array<{ Untagged?: string; Deleted?: string }>; SpaceReclaimed: number }> {
    return pruneImages(this, f);
  }

  diskUsage(): unknown {
    const images = this.images.all().map((i) => this.imageViews.summary(i));
    const containers = this.views.list({ all: true, size: true, filters: new Filters() });
    return { LayersSize: this.layers.all().reduce((n, l) => n + l.size, 0), Images: images, Containers: containers, Volumes: this.volumes.usage(), BuildCache: [] };
  }

  async pruneContainers(f: Filters): Promise<{ ContainersDeleted: string[]; SpaceReclaimed: number }> {
    const until = f.get('until').map((u) => parseTimestamp(u));
    const deleted: string[] = [];
    let space = 0;
    for (const c of this.containers.store.all()) {
      if (c.isRunning() || c.status === 'restarting' || c.status === 'removing') continue;
      if (!f.matchLabels('label', c.record.config.Labels)) continue;
      if (!f.noneOfLabels('label!', c.record.config.Labels)) continue;
      if (until.length > 0 && !until.every((t) => parseTimeMs(c.record.created) < t)) continue;
      const size = fs.existsSync(this.rootfs.upperDir(c.id)) ? dirSize(this.rootfs.upperDir(c.id)) : 0;
      try {
        await this.containers.remove(c.id, { force: false, volumes: false });
        deleted.push(c.id);
        space += size;
      } catch (err) {
        this.log.warn('prune: could not remove container', { container: c.id, err: (err as Error).message });
      }
    }
    this.events.publish('container', 'prune', '', { reclaimed: String(space) });
    return { ContainersDeleted: deleted, SpaceReclaimed: space };
  }
}
