/**
 * The one place that decides which engine is Berth's own on this platform: berthd natively on
 * Linux (or the VM when the user picks it in settings), the VM on macOS and Windows, none
 * elsewhere — and which of Berth's engines are offered beside it (the VM on Linux, where native
 * berthd stays the default). The backend, the Electron main process and the `berth` CLI all get
 * them from here.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { VmSettings } from '../../contract/models.js';
import { localVm } from '../../../vm/host/local-vm.js';
import { BERTHD_DEFAULTS, type BerthPaths } from '../paths.js';
import { BerthdEngine } from './berthd-engine.js';
import type { Engine } from './engine.js';
import { installedUnit } from './linux-service.js';
import { SystemdBerthdEngine } from './systemd-engine.js';
import { VmEngine } from './vm-engine.js';

export type OwnEngineKind = 'native' | 'vm';

export interface OwnEngineOptions {
  paths: BerthPaths;
  /** The `vm` settings, read when needed (the choice on Linux now, the VM's resources at each start). */
  vmSettings?: () => VmSettings | undefined;
  platform?: NodeJS.Platform;
  env?: NodeJS.ProcessEnv;
}

/** BERTH_OWN_ENGINE=native|vm overrides the setting on Linux (tests, scripts). */
export function ownEngineKind(platform: NodeJS.Platform, vm: VmSettings | undefined, env: NodeJS.ProcessEnv = process.env): OwnEngineKind | undefined {
  if (platform === 'darwin' || platform === 'win32') return 'vm';
  if (platform !== 'linux') return undefined;
  const forced = env.BERTH_OWN_ENGINE;
  if (forced === 'native' || forced === 'vm') return forced;
  return vm?.engine ?? 'native';
}

export function createOwnEngine(o: OwnEngineOptions): Engine | VmEngine | undefined {
  const env = o.env ?? process.env;
  const settings = o.vmSettings ?? (() => undefined);
  switch (ownEngineKind(o.platform ?? process.platform, settings(), env)) {
    case 'native':
      return linuxOwnEngine(o.paths, env);
    case 'vm':
      return new VmEngine(localVm(o.paths, settings, env));
    default:
      return undefined;
  }
}

/**
 * Berth's engines other than its own: on Linux with native berthd as its own engine, the VM is
 * offered in Engines (the user may start it and make it active there).
 */
export function offeredEngines(o: OwnEngineOptions): Engine[] {
  const env = o.env ?? process.env;
  const platform = o.platform ?? process.platform;
  const settings = o.vmSettings ?? (() => undefined);
  if (platform !== 'linux' || ownEngineKind(platform, settings(), env) !== 'native') return [];
  return [new VmEngine(localVm(o.paths, settings, env))];
}

/** Every engine of Berth's own on this platform: the default one and those offered beside it. */
export function berthEngines(o: OwnEngineOptions): { own: Engine | undefined; offered: Engine[] } {
  return { own: createOwnEngine(o), offered: offeredEngines(o) };
}

/** The berthd Berth runs on Linux, with its files where berthd and Berth expect them. */
export function defaultBerthdEngine(paths: BerthPaths, env: NodeJS.ProcessEnv = process.env): BerthdEngine {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const root = process.getuid?.() === 0;
  return new BerthdEngine({
    // dist/electron/backend/engines → dist/engine/daemon/main.js; packaged apps set BERTHD_SCRIPT to the copy in resources.
    daemonScript: env.BERTHD_SCRIPT ?? path.resolve(here, '..', '..', '..', 'engine', 'daemon', 'main.js'),
    socket: env.BERTH_ENGINE_SOCKET ?? BERTHD_DEFAULTS.socket,
    dataRoot: env.BERTH_ENGINE_DATA_ROOT ?? BERTHD_DEFAULTS.dataRoot,
    configFile: env.BERTH_ENGINE_CONFIG ?? (root ? BERTHD_DEFAULTS.configFile : path.join(paths.configDir, 'daemon.json')),
    logFile: path.join(paths.logDir, 'berthd.log'),
    pidFile: path.join(paths.runDir, 'berthd.pid'),
    ...(env.BERTH_ENGINE_EXEC_ROOT ? { execRoot: env.BERTH_ENGINE_EXEC_ROOT } : {}),
  });
}

/**
 * Berth's own engine on Linux: the berth.service system unit when it is installed (and this is
 * not root running Berth with its own paths), else a berthd Berth starts itself. BERTH_ENGINE_SOCKET
 * (custom setups, tests) always means "run my own berthd there".
 */
export function linuxOwnEngine(paths: BerthPaths, env: NodeJS.ProcessEnv = process.env): Engine {
  if (!env.BERTH_ENGINE_SOCKET && process.getuid?.() !== 0 && installedUnit()) return new SystemdBerthdEngine({ socket: BERTHD_DEFAULTS.socket });
  return defaultBerthdEngine(paths, env);
}
