/**
 * The OCI runtimes a daemon offers (dockerd's `runtimes` and `default-runtime` keys): runc is
 * built in, daemon.json may add others by name. Each runtime gets a state root of its own, so
 * two runtimes never read each other's state; a container uses the runtime named in its
 * HostConfig.Runtime for its whole life.
 */
import path from 'node:path';
import { InvalidParameterError } from '../errdefs.js';
import { findExecutable } from '../system/command.js';
import { Runc } from './runc.js';

export interface RuntimeConfig {
  path: string;
  runtimeArgs: string[];
}

export class Runtimes {
  /** Every runtime a container may use, including ones a reload took out of the config. */
  private readonly byName = new Map<string, Runc>();
  /** The ones new containers may name. */
  private offered = new Set<string>();
  private defaultRuntime: string;

  constructor(
    configs: Record<string, RuntimeConfig>,
    defaultName: string,
    private readonly execRoot: string,
  ) {
    this.defaultRuntime = defaultName;
    this.reload(configs, defaultName);
  }

  get defaultName(): string {
    return this.defaultRuntime;
  }

  /**
   * Applies a reloaded config (SIGHUP) to new containers. A runtime taken out of the config is no
   * longer offered, but containers created with it keep using it until they are removed.
   */
  reload(configs: Record<string, RuntimeConfig>, defaultName: string, warn?: (msg: string) => void): void {
    if (!configs[defaultName]) throw new Error(`default runtime ${defaultName} does not exist`);
    const next = new Map<string, Runc>();
    for (const [name, rc] of Object.entries(configs)) {
      const root = name === 'runc' ? path.join(this.execRoot, 'runc') : path.join(this.execRoot, 'runtimes', name);
      next.set(name, new Runc(rc.path, root, rc.runtimeArgs));
    }
    // Checked before anything changes: a reload that fails keeps the current runtimes.
    if (warn) resolveBinaries(next, defaultName, warn);
    for (const [name, r] of next) this.byName.set(name, r);
    this.offered = new Set(next.keys());
    this.defaultRuntime = defaultName;
  }

  get default(): Runc {
    return this.byName.get(this.defaultRuntime)!;
  }

  /** The runtimes new containers may name, as `docker info` lists them. */
  entries(): Array<[string, Runc]> {
    return [...this.byName.entries()].filter(([name]) => this.offered.has(name));
  }

  /** The runtime a create request names (empty: the default); dockerd's error for an unknown name. */
  resolveName(name: string | null | undefined): string {
    if (!name) return this.defaultName;
    if (!this.offered.has(name)) throw new InvalidParameterError(`unknown or invalid runtime name: ${name}`);
    return name;
  }

  /** The runtime of an existing container; a record naming a runtime since removed from the config gets the default. */
  for(c: { record: { hostConfig: { Runtime?: string } } }): Runc {
    return this.byName.get(c.record.hostConfig.Runtime ?? '') ?? this.default;
  }

  /** Resolves the offered runtimes' binaries (at startup; reloads resolve their own). */
  resolveBinaries(warn: (msg: string) => void): void {
    resolveBinaries(new Map([...this.byName].filter(([n]) => this.offered.has(n))), this.defaultRuntime, warn);
  }
}

/**
 * Resolves each runtime's binary to an absolute path (the monitor needs one). The default runtime
 * must exist; another missing one is reported and fails the containers that use it, as with dockerd.
 */
function resolveBinaries(runtimes: Map<string, Runc>, defaultName: string, warn: (msg: string) => void): void {
  for (const [name, r] of runtimes) {
    const found = findExecutable(r.binary);
    if (found) r.binary = found;
    else if (name === defaultName) throw new Error(`OCI runtime ${r.binary} not found: install runc (apt-get install runc)`);
    else warn(`runtime ${name}: ${r.binary} not found`);
  }
}
