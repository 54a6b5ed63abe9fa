/**
 * The narrow backend each API router gets (moby's router/<name>/backend.go + NewRouter(b)): built
 * here from the domain services, so route files depend only on their own interface and the
 * domain never on HTTP.
 */
import type { Router } from '../api/router.js';
import { registerSystemRoutes } from '../api/routes/system.js';
import { registerContainerRoutes, type ContainerBackend } from '../api/routes/containers.js';
import { registerImageRoutes, type ImageBackend } from '../api/routes/images.js';
import { registerCommitRoute } from '../api/routes/commit.js';
import { registerMiscRoutes } from '../api/routes/misc.js';
import { registerNetworkRoutes, type NetworkBackend } from '../api/routes/networks.js';
import { registerRegistryRoutes } from '../api/routes/registry.js';
import { registerVolumeRoutes } from '../api/routes/volumes.js';
import { registerArchiveRoutes } from '../api/routes/archive.js';
import { registerBuildRoutes, type BuildRoutesBackend } from '../api/routes/build.js';
import { registerSwarmRoutes } from '../api/routes/swarm.js';
import { registerPluginRoutes } from '../api/routes/plugins.js';
import { Filters } from '../api/filters.js';
import type { Logger } from './log.js';
import type { EventBus } from '../events/bus.js';
import type { ContainerService } from '../containers/service.js';
import type { ContainerViews } from '../containers/views.js';
import type { ExecManager } from '../containers/exec.js';
import type { ContainerIntrospection } from '../containers/introspection.js';
import type { RootfsManager } from '../containers/rootfs.js';
import type { ArchiveService } from '../containers/archive.js';
import { pruneContainers } from '../containers/prune.js';
import { removeLink } from '../containers/link-removal.js';
import type { ImageStore } from '../images/store.js';
import type { LayerStore } from '../images/layers.js';
import type { ImageViews } from '../images/views.js';
import type { ImageDeleter } from '../images/delete.js';
import { importRootfs } from '../images/importer.js';
import { loadImages, saveImages } from '../images/archives.js';
import { pruneImages } from '../images/prune.js';
import { commitContainer } from '../images/commit.js';
import type { NetworkManager } from '../network/manager.js';
import type { NetworkViews } from '../network/views.js';
import type { VolumeService } from '../volumes/service.js';
import type { PluginStore } from '../plugins/store.js';
import type { RegistryService } from '../registry/service.js';
import type { SystemInfo } from './system-info.js';
import type { BuildService } from '../builder/service.js';

/** The services the routers are built from (the Daemon has them all). */
export interface BackendServices {
  log: Logger;
  events: EventBus;
  images: ImageStore;
  layers: LayerStore;
  rootfs: RootfsManager;
  containers: ContainerService;
  views: ContainerViews;
  execs: ExecManager;
  inspector: ContainerIntrospection;
  archive: ArchiveService;
  imageViews: ImageViews;
  imageDeleter: ImageDeleter;
  networks: NetworkManager;
  networkViews: NetworkViews;
  volumes: VolumeService;
  plugins: PluginStore;
  system: SystemInfo;
  builds: BuildService;
  config: { experimental: boolean };
  registry(): Promise<RegistryService>;
}

export function containerBackend(s: BackendServices): ContainerBackend {
  const svc = s.containers;
  const get = (ref: string) => svc.store.get(ref);
  return {
    check: (ref) => void get(ref),
    create: (body, name) => svc.create(body, name),
    list: (opts) => s.views.list(opts),
    inspect: (ref, size) => s.views.inspect(get(ref), size),
    start: (ref) => svc.start(ref),
    stop: (ref, opts) => svc.stop(ref, opts),
    restart: (ref, opts) => svc.restart(ref, opts),
    kill: (ref, signal) => svc.kill(ref, signal),
    pause: (ref) => svc.pause(ref),
    unpause: (ref) => svc.unpause(ref),
    rename: (ref, name) => svc.rename(ref, name),
    update: (ref, body) => svc.update(ref, body),
    remove: (ref, opts) => svc.remove(ref, opts),
    idOf: (ref) => svc.store.find(ref)?.id,
    removeLink: (linkName) => removeLink(svc.store, linkName),
    wait: (ref, cond) => svc.wait(ref, cond),
    resize: (ref, h, w) => svc.resize(ref, h, w),
    logs: (ref, opts) => svc.logs(ref, opts),
    attach: (ref, opts) => svc.attach(ref, opts),
    top: (ref, psArgs) => s.inspector.top(get(ref), psArgs),
    stats: (ref, opts, emit, signal) => {
      const c = get(ref);
      return s.inspector.streamStats(c, { ...opts, exists: () => svc.store.find(c.id) !== undefined }, emit, signal);
    },
    changes: (ref) => s.inspector.changes(get(ref)),
    export: (ref, open) => s.inspector.export(get(ref), open),
    prune: (f) => pruneContainers(svc, (id) => s.rootfs.upperDir(id), f),
    execCreate: (ref, config) => s.execs.create(ref, config),
    execInspect: (id) => s.execs.inspect(id),
    execResize: (id, h, w) => s.execs.resize(id, h, w),
    execStart: (id, opts, client) => s.execs.start(id, opts, client),
  };
}

export function imageBackend(s: BackendServices): ImageBackend {
  const archives = { images: s.images, events: s.events, log: s.log };
  return {
    list: (f, all) => s.imageViews.list(f, all),
    inspect: (name, opts) => s.imageViews.inspect(s.images.lookup(name), opts),
    history: (name) => s.imageViews.history(s.images.lookup(name)),
    tag: async (name, ref) => {
      const img = s.images.lookup(name);
      await s.images.addReference(ref, img.id);
      s.events.publish('image', 'tag', img.id, { name: ref.familiarString() });
    },
    remove: (name, force, prune) => s.imageDeleter.delete(name, force, prune),
    import: async (input, opts, ref) => {
      const img = await importRootfs(s.images, input, opts);
      if (ref) {
        await s.images.addReference(ref, img.id);
        s.events.publish('image', 'tag', img.id, { name: ref.familiarString() });
      }
      s.events.publish('image', 'import', img.id, { name: img.id });
      return img.id;
    },
    pull: async (opts, out) => (await s.registry()).pull(opts, out),
    push: async (opts, out) => (await s.registry()).push(opts, out),
    search: async (opts) => (await s.registry()).search(opts),
    save: (names, open) => saveImages(archives, names, open),
    load: (input, quiet, out) => loadImages(archives, input, quiet, out),
    prune: (f) => pruneImages(s, f),
  };
}

export function networkBackend(s: BackendServices): NetworkBackend {
  return {
    list: (f) => s.networkViews.list(f),
    inspect: (ref) => s.networkViews.inspect(s.networks.get(ref)),
    create: (req, opts) => s.networks.create(req, opts),
    remove: (ref) => s.networks.remove(ref),
    connect: (ref, container, ep) => s.networks.connect(ref, container, ep),
    disconnect: (ref, container, force) => s.networks.disconnect(ref, container, force),
    prune: (f) => s.networks.prune(f),
  };
}

export function buildBackend(s: BackendServices): BuildRoutesBackend {
  return {
    build: (req, out, signal, buildId) => s.builds.build(req, (line) => out.write(line), signal, buildId),
    prune: (opts) => s.builds.prune(opts),
    cancel: (buildId) => s.builds.cancel(buildId),
    experimental: () => s.config.experimental,
  };
}

/** `docker system df`. */
export function diskUsage(s: BackendServices): unknown {
  const images = s.images.all().map((i) => s.imageViews.summary(i));
  const containers = s.views.list({ all: true, size: true, filters: new Filters() });
  return { LayersSize: s.layers.all().reduce((n, l) => n + l.size, 0), Images: images, Containers: containers, Volumes: s.volumes.usage(), BuildCache: s.builds.cacheItems() };
}

export function registerRoutes(r: Router, s: BackendServices): void {
  registerSystemRoutes(r, {
    experimental: s.system.experimental,
    version: () => s.system.version(),
    info: () => s.system.info(),
    eventHistory: (since, until) => s.events.history(since, until),
    subscribeEvents: (l) => s.events.subscribe(l),
  });
  registerContainerRoutes(r, containerBackend(s));
  registerImageRoutes(r, imageBackend(s));
  registerCommitRoute(r, { commit: (opts) => commitContainer(s, opts) });
  registerMiscRoutes(r, { diskUsage: () => diskUsage(s) });
  registerNetworkRoutes(r, networkBackend(s));
  registerRegistryRoutes(r, {
    login: async (body) => (await s.registry()).login(body),
    distributionInspect: async (name, auth) => (await s.registry()).inspect(name, auth),
  });
  registerVolumeRoutes(r, s.volumes);
  registerArchiveRoutes(r, s.archive);
  registerBuildRoutes(r, buildBackend(s));
  // No swarm mode: answered as a dockerd that is not in a swarm (no backend needed).
  registerSwarmRoutes(r);
  registerPluginRoutes(r, s.plugins);
}
