/**
 * The backend: everything the app does, as plain Node (no Electron), so the
 * Electron main process, the `berth dashboard` web bridge and the tests all
 * run the same code. It owns the settings, the engine directory and one live
 * model per watched engine, and implements every method and stream of the
 * contract. Host-specific things (folder picker, login items, opening URLs)
 * come from a HostAdapter.
 */
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type Docker from 'dockerode';
import type { HostCapabilities, Settings } from '../contract/models.js';
import type { HostCommand } from '../contract/api.js';
import type { Engine } from './engines/engine.js';
import { BackendError } from './errors.js';
import { EngineDirectory } from './engines/directory.js';
import { commandExists, installedUnit, installPlan, runCommand, SERVICE_UNIT } from './engines/linux-service.js';
import { createOwnEngine, offeredEngines } from './engines/own-engine.js';
import { vmSettingsProblem } from './settings/vm-settings.js';
import { discoverEndpoints, type DiscoveredEndpoint } from './engines/discovery.js';
import { readEngineConfig, writeEngineConfig } from './engines/daemon-config.js';
import { EngineModel, type EngineModelOptions } from './model/engine-model.js';
import { SettingsStore } from './settings/settings-store.js';
import { berthPaths, type BerthPaths } from './paths.js';
import type { Handlers, MethodHandlers, StreamHandlers } from './rpc/session.js';
import { containerAction, forEachBulk, removeContainers, runContainer } from './services/containers.js';
import { cloneVolume, deleteFiles, listContainerFiles, listVolumeFiles, makeFolder, readFile, renameFile, streamFilesArchive, streamUpload, writeFile } from './services/files.js';
import { projectAction, removeProject } from './services/projects.js';
import { diskUsage, prune, prunePreview } from './services/disk.js';
import { CredentialStore, normalizeServer, registryOfReference } from './registries/credentials.js';
import { streamProjectLogs } from './streams/project-logs.js';
import { streamLogs } from './streams/logs.js';
import { streamExec } from './streams/exec.js';
import { streamStats, streamStatsSummary } from './streams/stats.js';
import { streamPull, streamPush } from './streams/pull.js';
import { BERTH_VERSION } from '../../engine/version.js';
import { BuildHistory } from './services/builds.js';
import { streamBuild } from './streams/build.js';

/** The app and its engine share one version (engine/version.ts, kept equal to package.json's). */
export const BERTH_APP_VERSION = BERTH_VERSION;
// The own-engine factory (engines/own-engine.ts) decides which engine is Berth's own; these stay importable from here.
export { defaultBerthdEngine, linuxOwnEngine } from './engines/own-engine.js';

export interface HostAdapter {
  capabilities(): Omit<HostCapabilities, 'version'>;
  pickFolder?(title?: string): Promise<string | null>;
  openExternal?(url: string): Promise<void>;
  /** Menu and tray commands for the dashboard (desktop only). */
  onCommand?(listener: (c: HostCommand) => void): () => void;
}

export interface BackendOptions {
  paths?: BerthPaths;
  host: HostAdapter;
  /** Berth's own engine: undefined asks engines/own-engine.ts (berthd on Linux, the VM on macOS/Windows), null means none; a function builds it from the settings. */
  ownEngine?: Engine | null | ((settings: SettingsStore) => Engine | undefined);
  /** Berth's engines offered beside its own (the VM on Linux); by default engines/own-engine.ts's when ownEngine is too, else none. */
  offeredEngines?: Engine[] | ((settings: SettingsStore) => Engine[]);
  discover?: () => DiscoveredEndpoint[];
  model?: EngineModelOptions;
  /** Where registry credentials live (the docker CLI's config folder by default). */
  credentials?: CredentialStore;
  /** Running from an installed package (the engine service then runs a root-owned copy). */
  packaged?: boolean;
  /** berthd's entry point when it is not dist/engine/daemon/main.js next to this file (packaged apps). */
  daemonScript?: string;
  log?: (msg: string) => void;
}

export class Backend {
  readonly paths: BerthPaths;
  readonly settings: SettingsStore;
  readonly engines: EngineDirectory;
  /** Berth's own engine on this platform (engines/own-engine.ts), if any. */
  readonly ownEngine: Engine | undefined;
  readonly handlers: Handlers;
  readonly credentials: CredentialStore;
  readonly builds: BuildHistory;
  private readonly models = new Map<string, EngineModel>();
  private readonly log: (msg: string) => void;

  constructor(private readonly opts: BackendOptions) {
    this.paths = opts.paths ?? berthPaths();
    this.log = opts.log ?? (() => undefined);
    this.settings = new SettingsStore(this.paths.configDir);
    this.credentials = opts.credentials ?? new CredentialStore();
    if (this.settings.loadProblem) this.log(this.settings.loadProblem);
    const own =
      opts.ownEngine === undefined
        ? createOwnEngine({ paths: this.paths, vmSettings: () => this.settings.get().vm })
        : typeof opts.ownEngine === 'function'
          ? opts.ownEngine(this.settings)
          : (opts.ownEngine ?? undefined);
    this.ownEngine = own;
    const offered =
      opts.offeredEngines === undefined
        ? opts.ownEngine === undefined
          ? offeredEngines({ paths: this.paths, vmSettings: () => this.settings.get().vm })
          : []
        : typeof opts.offeredEngines === 'function'
          ? opts.offeredEngines(this.settings)
          : opts.offeredEngines;
    this.engines = new EngineDirectory(this.settings, { ...(own ? { own } : {}), offered, discover: opts.discover ?? (() => discoverEndpoints()) });
    // The VM's resources apply at its next start: its engine says when a change waits for a restart.
    this.settings.onChange(() => {
      for (const e of this.engines.list()) e.settingsChanged?.();
    });
    this.builds = new BuildHistory(this.paths.configDir);
    this.handlers = { methods: this.methodHandlers(), streams: this.streamHandlers() };
  }

  docker(engineId: string): Docker {
    return this.engines.get(engineId).client();
  }

  /** The live model of an engine, shared by every watcher (windows, tray, dashboard tabs). */
  watchModel(engineId: string, listener: Parameters<EngineModel['subscribe']>[0]): () => void {
    const engine = this.engines.get(engineId);
    let model = this.models.get(engineId);
    if (!model) {
      model = new EngineModel(engine, this.opts.model);
      this.models.set(engineId, model);
    }
    const m = model;
    const unsubscribe = m.subscribe(listener);
    return () => {
      unsubscribe();
      if (m.watcherCount === 0 && this.models.get(engineId) === m) {
        m.dispose();
        this.models.delete(engineId);
      }
    };
  }

  async dispose(): Promise<void> {
    for (const m of this.models.values()) m.dispose();
    this.models.clear();
    this.engines.dispose();
    await this.settings.flush();
  }

  private engine(id: string): Engine {
    return this.engines.get(id);
  }

  /** berthd's entry point (the packaged copy when BERTHD_SCRIPT says so). */
  private daemonScript(): string {
    return this.opts.daemonScript ?? process.env.BERTHD_SCRIPT ?? path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'engine', 'daemon', 'main.js');
  }

  /** The stored credentials for the registry an image reference points at (undefined: anonymous). */
  async authFor(ref: string): Promise<Docker.AuthConfig | undefined> {
    const auth = await this.credentials.get(registryOfReference(ref)).catch(() => undefined);
    return auth as Docker.AuthConfig | undefined;
  }

  /** Every stored registry credential, as the docker CLI sends them with a build (X-Registry-Config). */
  async registryConfig(): Promise<Record<string, Docker.AuthConfig>> {
    const out: Record<string, Docker.AuthConfig> = {};
    const { accounts } = await this.credentials.list().catch(() => ({ accounts: [] }));
    for (const a of accounts) {
      const auth = await this.credentials.get(a.server).catch(() => undefined);
      if (auth) out[a.server] = auth as Docker.AuthConfig;
    }
    return out;
  }

  private methodHandlers(): MethodHandlers {
    const host = this.opts.host;
    const docker = (id: string) => this.docker(id);
    const configFileOf = (id: string) => {
      const e = this.engine(id);
      if (!e.configFile) throw new BackendError(`Berth does not manage the configuration of ${e.name}`, 409);
      return e.configFile;
    };
    return {
      'host.capabilities': () => {
        const caps = host.capabilities();
        const linux = process.platform === 'linux';
        const root = process.getuid?.() === 0;
        return {
          ...caps,
          version: BERTH_APP_VERSION,
          engineService: !linux ? ('unsupported' as const) : installedUnit() ? ('installed' as const) : ('not-installed' as const),
          canInstallService: linux && !root && caps.desktop && commandExists('pkexec'),
        };
      },
      'host.installEngineService': async () => {
        if (process.platform !== 'linux') throw new BackendError('the engine service is for Linux', 501);
        if (!host.capabilities().desktop) throw new BackendError('install it from a terminal: berth engine install', 501);
        const plan = installPlan({ action: 'install', user: os.userInfo().username, daemonScript: this.daemonScript(), packaged: this.opts.packaged ?? false, has: (c) => c === 'pkexec' && commandExists('pkexec') });
        if (plan.elevate !== 'pkexec') throw new BackendError('pkexec is not installed: run "sudo berth engine install" in a terminal', 501);
        const r = await runCommand('pkexec', plan.argv, { timeoutMs: 10 * 60_000 });
        if (r.code === 126) throw new BackendError('the installation was not authorized', 403);
        if (r.code !== 0) throw new BackendError(`installing ${SERVICE_UNIT} failed: ${(r.stderr || r.stdout).trim()}`, 500);
        return { output: r.stdout, needsRelogin: true };
      },
      'host.pickFolder': async ({ title }) => {
        if (!host.pickFolder) throw new BackendError('folder picking is only available in the desktop app; type the path instead', 501);
        return { path: await host.pickFolder(title) };
      },
      'host.openExternal': async ({ url }) => {
        if (!host.openExternal) throw new BackendError('open the link from the page instead', 501);
        await host.openExternal(url);
        return { ok: true as const };
      },

      'settings.get': () => this.settings.get(),
      'settings.update': (patch) => {
        const problem = patch.vm === undefined ? undefined : vmSettingsProblem(patch.vm);
        if (problem) throw new BackendError(problem, 400);
        return this.settings.update(patch);
      },

      'engines.list': () => this.engines.snapshot(),
      'engines.setActive': async ({ engineId }) => {
        await this.engines.setActive(engineId);
        void this.engine(engineId).probe();
        return this.engines.snapshot();
      },
      'engines.start': async ({ engineId }) => {
        const e = this.engine(engineId);
        await e.start();
        return e.info();
      },
      'engines.stop': async ({ engineId }) => {
        const e = this.engine(engineId);
        await e.stop();
        return e.info();
      },
      'engines.restart': async ({ engineId }) => {
        const e = this.engine(engineId);
        await e.restart();
        return e.info();
      },
      'engines.add': async (endpoint) => (await this.engines.add(endpoint)).info(),
      'engines.remove': async ({ engineId }) => {
        await this.engines.remove(engineId);
        return { ok: true as const };
      },
      'engines.logs': ({ engineId, tail, source }) => {
        const e = this.engine(engineId);
        if (source === 'console' && e.kind !== 'vm') throw new BackendError(`${e.name} has no VM console`, 400);
        return e.readLogs(tail, source);
      },
      'engines.info': async ({ engineId }) => {
        const d = docker(engineId);
        const [version, info] = await Promise.all([d.version(), d.info()]);
        return { version, info };
      },
      'engines.resetData': async ({ engineId }) => {
        await this.engine(engineId).resetData();
        return { ok: true as const };
      },
      'engines.getConfig': ({ engineId }) => {
        const file = configFileOf(engineId);
        return { ...readEngineConfig(file), file };
      },
      'engines.setConfig': async ({ engineId, config }) => {
        const file = configFileOf(engineId);
        await writeEngineConfig(file, config);
        return { file, applied: await this.engine(engineId).reloadConfig() };
      },

      'containers.action': ({ engineId, ids, action }) => containerAction(docker(engineId), ids, action),
      'containers.remove': ({ engineId, ids, force, volumes }) => removeContainers(docker(engineId), ids, force, volumes),
      'containers.inspect': async ({ engineId, id }) => (await docker(engineId).getContainer(id).inspect()) as unknown as Record<string, unknown>,
      'containers.rename': async ({ engineId, id, name }) => {
        await docker(engineId).getContainer(id).rename({ name });
        return { ok: true as const };
      },
      'containers.top': async ({ engineId, id }) => {
        const top = (await docker(engineId).getContainer(id).top()) as { Titles?: string[]; Processes?: string[][] };
        return { Titles: top.Titles ?? [], Processes: top.Processes ?? [] };
      },
      'containers.run': ({ engineId, spec, start }) => runContainer(docker(engineId), spec, start),
      'containers.listFiles': ({ engineId, id, path: dir }) => listContainerFiles(docker(engineId), id, dir),
      'containers.prune': async ({ engineId }) => {
        const r = await docker(engineId).pruneContainers();
        return { deleted: r.ContainersDeleted ?? [], spaceReclaimed: r.SpaceReclaimed ?? 0 };
      },
      'files.read': ({ engineId, target, path: file }) => readFile(docker(engineId), target, file),
      'files.write': async ({ engineId, target, path: file, content, mode }) => {
        await writeFile(docker(engineId), target, file, Buffer.from(content, 'base64'), mode);
        return { ok: true as const };
      },
      'files.mkdir': async ({ engineId, target, dir, name }) => {
        await makeFolder(docker(engineId), target, dir, name);
        return { ok: true as const };
      },
      'files.rename': async ({ engineId, target, path: file, name }) => {
        await renameFile(docker(engineId), target, file, name);
        return { ok: true as const };
      },
      'files.delete': async ({ engineId, target, paths }) => {
        await deleteFiles(docker(engineId), target, paths);
        return { ok: true as const };
      },

      'projects.action': ({ engineId, project, action }) => projectAction(docker(engineId), project, action),
      'projects.remove': ({ engineId, project, volumes }) => removeProject(docker(engineId), project, volumes),

      'images.inspect': async ({ engineId, id }) => (await docker(engineId).getImage(id).inspect()) as unknown as Record<string, unknown>,
      'images.history': async ({ engineId, id }) => {
        const h = (await docker(engineId).getImage(id).history()) as Array<{ Id: string; Created: number; CreatedBy: string; Tags: string[] | null; Size: number; Comment: string }>;
        return h.map((x) => ({ id: x.Id, created: x.Created, createdBy: x.CreatedBy ?? '', tags: x.Tags ?? [], size: x.Size ?? 0, comment: x.Comment ?? '' }));
      },
      'images.tag': async ({ engineId, id, repo, tag }) => {
        await docker(engineId).getImage(id).tag({ repo, tag });
        return { ok: true as const };
      },
      'images.remove': async ({ engineId, ref, force, noprune }) => {
        const r = (await docker(engineId).getImage(ref).remove({ force, noprune })) as Array<{ Untagged?: string; Deleted?: string }>;
        return (r ?? []).map((x) => ({ ...(x.Untagged ? { untagged: x.Untagged } : {}), ...(x.Deleted ? { deleted: x.Deleted } : {}) }));
      },
      'images.prune': async ({ engineId, all }) => {
        const r = await docker(engineId).pruneImages({ filters: { dangling: [all ? 'false' : 'true'] } });
        return { deleted: (r.ImagesDeleted ?? []).filter((x) => x.Deleted).length, spaceReclaimed: r.SpaceReclaimed ?? 0 };
      },
      'images.search': async ({ engineId, term, limit }) => {
        const auth = await this.authFor(term.includes('/') ? term : `docker.io/${term}`);
        const r = (await docker(engineId).searchImages({ term, limit, ...(auth ? { authconfig: auth } : {}) })) as Array<{ name: string; description?: string; star_count?: number; is_official?: boolean; is_automated?: boolean }>;
        return (r ?? []).map((x) => ({ name: x.name, description: x.description ?? '', stars: x.star_count ?? 0, official: !!x.is_official, automated: !!x.is_automated }));
      },

      'registries.list': async () => ({ ...(await this.credentials.list()), configFile: this.credentials.file }),
      'registries.login': async ({ engineId, server, username, password }) => {
        const key = normalizeServer(server);
        // The engine checks the credentials against the registry, as `docker login` has it do.
        const r = (await docker(engineId).checkAuth({ username, password, serveraddress: key })) as { Status?: string; IdentityToken?: string };
        const storedIn = await this.credentials.store(key, username, r.IdentityToken ? { identitytoken: r.IdentityToken } : { password });
        return { server: key, status: r.Status || 'Login Succeeded', storedIn };
      },
      'registries.logout': async ({ server }) => {
        const key = normalizeServer(server);
        return { server: key, removed: await this.credentials.erase(key) };
      },

      'system.df': ({ engineId }) => diskUsage(docker(engineId)),
      'system.prunePreview': ({ engineId, kind, all }) => prunePreview(docker(engineId), kind, all),
      'system.prune': ({ engineId, kind, all }) => prune(docker(engineId), kind, all),
      'builds.list': () => this.builds.list(),

      'volumes.create': async ({ engineId, name, driver, labels }) => {
        const v = (await docker(engineId).createVolume({ ...(name ? { Name: name } : {}), Driver: driver, Labels: labels })) as unknown as { Name?: string; name?: string };
        return { name: v.Name ?? v.name ?? name ?? '' };
      },
      'volumes.remove': ({ engineId, names, force }) => forEachBulk(names, (n) => docker(engineId).getVolume(n).remove({ force })),
      'volumes.prune': async ({ engineId }) => {
        const r = await docker(engineId).pruneVolumes();
        return { deleted: r.VolumesDeleted ?? [], spaceReclaimed: r.SpaceReclaimed ?? 0 };
      },
      'volumes.usage': async ({ engineId }) => {
        const df = (await docker(engineId).df()) as { Volumes?: Array<{ Name: string; UsageData?: { Size?: number; RefCount?: number } | null }> | null };
        const out: Record<string, { size: number; refCount: number }> = {};
        for (const v of df.Volumes ?? []) out[v.Name] = { size: v.UsageData?.Size ?? -1, refCount: v.UsageData?.RefCount ?? -1 };
        return out;
      },
      'volumes.listFiles': ({ engineId, name, path: dir }) => listVolumeFiles(docker(engineId), name, dir),
      'volumes.clone': async ({ engineId, name, target }) => ({ name: await cloneVolume(docker(engineId), name, target) }),

      'networks.create': async ({ engineId, name, driver, internal, subnet, gateway }) => {
        const ipam = subnet ? { IPAM: { Driver: 'default', Config: [{ Subnet: subnet, ...(gateway ? { Gateway: gateway } : {}) }] } } : {};
        const n = await docker(engineId).createNetwork({ Name: name, Driver: driver, Internal: internal, CheckDuplicate: true, ...ipam });
        return { id: n.id };
      },
      'networks.remove': ({ engineId, ids }) => forEachBulk(ids, (id) => docker(engineId).getNetwork(id).remove()),
      'networks.inspect': async ({ engineId, id }) => (await docker(engineId).getNetwork(id).inspect()) as unknown as Record<string, unknown>,
      'networks.prune': async ({ engineId }) => {
        const r = await docker(engineId).pruneNetworks();
        return { deleted: r.NetworksDeleted ?? [] };
      },
    };
  }

  private streamHandlers(): StreamHandlers {
    const docker = (id: string) => this.docker(id);
    const untilAborted = (signal: AbortSignal) => new Promise<void>((resolve) => (signal.aborted ? resolve() : signal.addEventListener('abort', () => resolve(), { once: true })));
    return {
      'host.commands': async (_p, sink) => {
        const off = this.opts.host.onCommand?.((c) => sink.emit(c));
        await untilAborted(sink.signal);
        off?.();
      },
      'engines.watch': async (_p, sink) => {
        const send = () => sink.emit(this.engines.snapshot());
        const off = this.engines.onChange(send);
        send();
        void this.engines.probeAll();
        await untilAborted(sink.signal);
        off();
      },
      'settings.watch': async (_p, sink) => {
        const off = this.settings.onChange((s: Settings) => sink.emit(s));
        sink.emit(this.settings.get());
        await untilAborted(sink.signal);
        off();
      },
      'model.watch': async ({ engineId }, sink) => {
        const off = this.watchModel(engineId, (e) => sink.emit(e));
        await untilAborted(sink.signal);
        off();
      },
      'containers.logs': (p, sink) => streamLogs(docker(p.engineId), p, sink),
      'containers.exec': (p, sink) => streamExec(docker(p.engineId), p, sink),
      'containers.stats': (p, sink) => streamStats(docker(p.engineId), p, sink),
      'containers.statsSummary': (p, sink) => streamStatsSummary(docker(p.engineId), p, sink),
      'projects.logs': (p, sink) => streamProjectLogs(docker(p.engineId), p, sink),
      'files.archive': (p, sink) => streamFilesArchive(docker(p.engineId), p, sink),
      'files.upload': (p, sink) => streamUpload(docker(p.engineId), p, sink),
      'images.pull': async (p, sink) => streamPull(docker(p.engineId), p, sink, await this.authFor(p.ref)),
      'images.push': async (p, sink) => streamPush(docker(p.engineId), p, sink, await this.authFor(p.ref)),
      'images.build': (p, sink) => streamBuild(docker(p.engineId), this.builds, p, sink, () => this.registryConfig()),
    };
  }
}
