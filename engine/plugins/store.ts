/**
 * Managed plugins as far as berthd has them: `docker plugin create` stores a plugin (its
 * config.json and rootfs) under <data-root>/plugins/<id>/, and it is listed, inspected and
 * removed as dockerd does. berthd has no plugin runtime (its volume, network and log drivers are
 * built in), so a plugin is never enabled: enabling one is refused with that reason.
 *
 * Each plugin is written into a temporary directory and renamed into place, and removed by
 * renaming it away first, so a crash never leaves half a plugin that lists.
 */
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import zlib from 'node:zlib';
import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import * as tar from 'tar-stream';
import { ConflictError, InvalidParameterError, NotFoundError, NotImplementedError, SystemError, messageOf } from '../errdefs.js';
import { Mutex } from '../concurrency/mutex.js';
import { writeFileAtomic } from '../storage/atomic.js';
import type { EventBus } from '../events/bus.js';

export const NO_PLUGIN_RUNTIME = 'berthd has no plugin runtime: its volume, network and log drivers are built in, and a managed plugin can be installed but not enabled';

/** The plugin object of the API (moby's types.Plugin). */
export interface PluginObject {
  Id: string;
  Name: string;
  Enabled: boolean;
  Settings: { Mounts: unknown[]; Env: string[]; Args: string[]; Devices: unknown[] };
  PluginReference: string;
  Config: Record<string, unknown>;
}

interface Field {
  Name: string;
  Description: string;
  Settable: string[] | null;
  Value: string | string[] | null;
}

/** "docker-sdk-py/dummy" → "docker-sdk-py/dummy:latest" (what dockerd names it); digests are refused. */
export function pluginRef(name: string): string {
  const n = name.trim();
  if (!n) throw new InvalidParameterError('plugin name is required');
  if (n.includes('@')) throw new InvalidParameterError('canonical references are not permitted');
  if (!/^[a-z0-9]+(?:[._-][a-z0-9]+)*(?::[0-9]+)?(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*(?::[\w][\w.-]{0,127})?$/.test(n)) {
    throw new InvalidParameterError(`failed to parse reference ${n}: invalid reference format`);
  }
  const lastSlash = n.lastIndexOf('/');
  return n.slice(lastSlash + 1).includes(':') ? n : `${n}:latest`;
}

/** A config.json key as Go's case-insensitive decoding finds it. */
function get(obj: unknown, key: string): unknown {
  if (!obj || typeof obj !== 'object') return undefined;
  const k = Object.keys(obj).find((x) => x.toLowerCase() === key.toLowerCase());
  return k === undefined ? undefined : (obj as Record<string, unknown>)[k];
}

const str = (v: unknown): string => (typeof v === 'string' ? v : '');
const strs = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const bool = (v: unknown): boolean => v === true;

function field(v: unknown): Field {
  const value = get(v, 'value');
  return { Name: str(get(v, 'name')), Description: str(get(v, 'description')), Settable: Array.isArray(get(v, 'settable')) ? strs(get(v, 'settable')) : null, Value: Array.isArray(value) ? strs(value) : typeof value === 'string' ? value : null };
}

/** config.json as dockerd shows it in Config (every field, its casing), with the rootfs layer. */
export function pluginConfig(raw: unknown, rootfsDigest: string, dockerVersion: string): Record<string, unknown> {
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw new InvalidParameterError('failed to parse config: json: cannot unmarshal into Go value of type types.PluginConfig');
  const iface = get(raw, 'interface');
  const linux = get(raw, 'linux');
  const args = get(raw, 'args');
  return {
    Args: { Description: str(get(args, 'description')), Name: str(get(args, 'name')), Settable: Array.isArray(get(args, 'settable')) ? strs(get(args, 'settable')) : null, Value: Array.isArray(get(args, 'value')) ? strs(get(args, 'value')) : null },
    Description: str(get(raw, 'description')),
    DockerVersion: dockerVersion,
    Documentation: str(get(raw, 'documentation')),
    Entrypoint: Array.isArray(get(raw, 'entrypoint')) ? strs(get(raw, 'entrypoint')) : null,
    Env: arr(get(raw, 'env')).map(field),
    Interface: { Socket: str(get(iface, 'socket')), Types: strs(get(iface, 'types')), ...(get(iface, 'protocolscheme') ? { ProtocolScheme: str(get(iface, 'protocolscheme')) } : {}) },
    IpcHost: bool(get(raw, 'ipchost')),
    Linux: { AllowAllDevices: bool(get(linux, 'allowalldevices')), Capabilities: Array.isArray(get(linux, 'capabilities')) ? strs(get(linux, 'capabilities')) : null, Devices: Array.isArray(get(linux, 'devices')) ? arr(get(linux, 'devices')) : null },
    Mounts: Array.isArray(get(raw, 'mounts')) ? arr(get(raw, 'mounts')) : null,
    Network: { Type: str(get(get(raw, 'network'), 'type')) },
    PidHost: bool(get(raw, 'pidhost')),
    PropagatedMount: str(get(raw, 'propagatedmount')),
    User: get(raw, 'user') && typeof get(raw, 'user') === 'object' ? get(raw, 'user') : {},
    WorkDir: str(get(raw, 'workdir')),
    rootfs: { diff_ids: [rootfsDigest], type: 'layers' },
  };
}

function settingsOf(config: Record<string, unknown>): PluginObject['Settings'] {
  const env = (config.Env as Field[]).filter((e) => typeof e.Value === 'string').map((e) => `${e.Name}=${e.Value as string}`);
  const args = (config.Args as Field).Value;
  return { Mounts: (config.Mounts as unknown[] | null) ?? [], Env: env, Args: Array.isArray(args) ? args : [], Devices: ((config.Linux as { Devices: unknown[] | null }).Devices ?? []) as unknown[] };
}

/** Splits a plugin context (tar, maybe gzipped) into config.json and the rootfs, re-packed as a gzipped tar. */
async function splitContext(body: Buffer, rootfsFile: string): Promise<{ config: Buffer; digest: string }> {
  let raw = body;
  if (raw.length >= 2 && raw[0] === 0x1f && raw[1] === 0x8b) {
    try {
      raw = zlib.gunzipSync(raw);
    } catch (err) {
      throw new InvalidParameterError(`failed to read from tar: ${messageOf(err)}`);
    }
  }
  const extract = tar.extract();
  const pack = tar.pack();
  const hash = createHash('sha256');
  let config: Buffer | undefined;
  let hasRootfs = false;
  const out = fs.createWriteStream(rootfsFile, { mode: 0o600 });
  const gz = zlib.createGzip();
  // The layer's digest is of the uncompressed rootfs tar (a diff ID), as dockerd's rootfs.diff_ids.
  pack.on('data', (d: unknown) => hash.update(d as Buffer));
  const written = pipeline(pack, gz, out);
  const read = (async () => {
    for await (const entry of Readable.from([raw]).pipe(extract)) {
      const h = entry.header;
      const name = path.posix.normalize(h.name.replace(/^\/+/, '')).replace(/\/$/, '');
      const chunks: Buffer[] = [];
      for await (const c of entry) chunks.push(c as Buffer);
      if (name === 'config.json') {
        config = Buffer.concat(chunks);
        continue;
      }
      const parts = name.split('/');
      if (parts[0] !== 'rootfs') continue;
      hasRootfs = true;
      const inner = parts.slice(1).join('/');
      if (inner === '' || inner === '.') continue;
      if (inner.split('/').includes('..')) throw new InvalidParameterError(`invalid path in plugin rootfs: ${h.name}`);
      await new Promise<void>((resolve, reject) => pack.entry({ ...h, name: inner }, Buffer.concat(chunks), (err) => (err ? reject(err) : resolve())));
    }
  })();
  try {
    await read;
  } catch (err) {
    pack.destroy();
    await written.catch(() => undefined);
    if (err instanceof InvalidParameterError) throw err;
    throw new InvalidParameterError(`failed to read from tar: ${messageOf(err)}`);
  }
  pack.finalize();
  await written;
  if (!hasRootfs) throw new InvalidParameterError('no rootfs found');
  if (!config) throw new InvalidParameterError('config not found');
  return { config, digest: `sha256:${hash.digest('hex')}` };
}

export interface PluginFilter {
  capability?: string[];
  enabled?: boolean;
}

export class PluginStore {
  private readonly plugins = new Map<string, PluginObject>();
  private readonly lock = new Mutex();

  constructor(
    private readonly root: string,
    private readonly events: EventBus,
    private readonly dockerVersion: string,
  ) {}

  /** Reads what is stored; drops what a crash left half-written or half-removed. */
  async load(): Promise<void> {
    await fsp.mkdir(this.root, { recursive: true, mode: 0o700 });
    for (const name of await fsp.readdir(this.root)) {
      const dir = path.join(this.root, name);
      if (name.startsWith('.')) {
        await fsp.rm(dir, { recursive: true, force: true });
        continue;
      }
      try {
        const p = JSON.parse(await fsp.readFile(path.join(dir, 'plugin.json'), 'utf8')) as PluginObject;
        if (p.Id === name) this.plugins.set(p.Id, p);
      } catch {
        // Not a plugin this store wrote: left alone, never listed.
      }
    }
  }

  list(f: PluginFilter = {}): PluginObject[] {
    return [...this.plugins.values()]
      .filter((p) => f.enabled === undefined || p.Enabled === f.enabled)
      .filter((p) => !f.capability?.length || f.capability.some((cap) => ((p.Config.Interface as { Types: string[] }).Types ?? []).some((t) => t.split('/')[0]!.split('.').pop() === cap)))
      .sort((a, b) => a.Name.localeCompare(b.Name));
  }

  /** By name (":latest" implied) or full or prefix ID, as dockerd's GetV2Plugin. */
  get(refOrId: string): PluginObject {
    let name: string | undefined;
    try {
      name = pluginRef(refOrId);
    } catch {
      name = undefined;
    }
    for (const p of this.plugins.values()) if (p.Name === name) return p;
    if (/^[0-9a-f]+$/.test(refOrId)) {
      const hits = [...this.plugins.values()].filter((p) => p.Id.startsWith(refOrId));
      if (hits.length === 1) return hits[0]!;
      if (hits.length > 1) throw new InvalidParameterError(`multiple plugins found with ID prefix ${refOrId}`);
    }
    throw new NotFoundError(`plugin ${JSON.stringify(refOrId)} not found`);
  }

  /** POST /plugins/create: a tar of config.json and rootfs/. */
  async create(repoName: string, context: Buffer): Promise<PluginObject> {
    const name = pluginRef(repoName);
    if ([...this.plugins.values()].some((p) => p.Name === name)) throw new ConflictError(`plugin ${JSON.stringify(name)} already exists`);
    await fsp.mkdir(this.root, { recursive: true, mode: 0o700 });
    const id = randomBytes(32).toString('hex');
    const tmp = path.join(this.root, `.tmp-${id}`);
    await fsp.mkdir(tmp, { mode: 0o700 });
    try {
      const { config: rawConfig, digest } = await splitContext(context, path.join(tmp, 'rootfs.tar.gz'));
      let parsed: unknown;
      try {
        parsed = JSON.parse(rawConfig.toString('utf8'));
      } catch (err) {
        throw new InvalidParameterError(`failed to parse config: ${messageOf(err)}`);
      }
      const Config = pluginConfig(parsed, digest, this.dockerVersion);
      const p: PluginObject = { Id: id, Name: name, Enabled: false, Settings: settingsOf(Config), PluginReference: name, Config };
      await writeFileAtomic(path.join(tmp, 'plugin.json'), JSON.stringify(p));
      return await this.lock.run(async () => {
        if ([...this.plugins.values()].some((x) => x.Name === name)) throw new ConflictError(`plugin ${JSON.stringify(name)} already exists`);
        await fsp.rename(tmp, path.join(this.root, id));
        this.plugins.set(id, p);
        this.events.publish('plugin', 'create', id, { name });
        return p;
      });
    } finally {
      await fsp.rm(tmp, { recursive: true, force: true });
    }
  }

  async remove(refOrId: string): Promise<void> {
    await this.lock.run(async () => {
      const p = this.get(refOrId);
      const dir = path.join(this.root, p.Id);
      const gone = path.join(this.root, `.rm-${p.Id}`);
      try {
        await fsp.rename(dir, gone);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw new SystemError(`failed to remove plugin ${p.Name}: ${messageOf(err)}`);
      }
      this.plugins.delete(p.Id);
      await fsp.rm(gone, { recursive: true, force: true });
      this.events.publish('plugin', 'remove', p.Id, { name: p.Name });
    });
  }

  /** No plugin runtime: an installed plugin stays disabled. */
  enable(refOrId: string): never {
    const p = this.get(refOrId);
    throw new NotImplementedError(`plugin ${p.Name} cannot be enabled: ${NO_PLUGIN_RUNTIME}`);
  }

  disable(refOrId: string): never {
    const p = this.get(refOrId);
    throw new ConflictError(`plugin is already disabled: plugin ${p.Name} found but disabled`);
  }
}
