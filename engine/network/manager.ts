/**
 * Container networking. Networks are records (the predefined bridge, host
 * and none, plus user-defined ones); a container joins them when it starts.
 * This module decides the namespace a container runs in and renders the
 * NetworkSettings that inspect and ps show.
 */
import path from 'node:path';
import fsp from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { readJsonIfExists, writeJsonAtomic } from '../storage/atomic.js';
import { InvalidParameterError, NotFoundError } from '../errdefs.js';
import type { EndpointSettings, NetworkSettings, PortMap } from '../api/types.js';
import type { ContainerRecord } from '../containers/container.js';

export interface NetworkRecord {
  Name: string;
  Id: string;
  Created: string;
  Scope: 'local';
  Driver: 'bridge' | 'host' | 'null';
  EnableIPv4: boolean;
  EnableIPv6: boolean;
  IPAM: { Driver: string; Options: Record<string, string> | null; Config: Array<{ Subnet: string; Gateway?: string }> };
  Internal: boolean;
  Attachable: boolean;
  Ingress: boolean;
  ConfigFrom: { Network: string };
  ConfigOnly: boolean;
  Options: Record<string, string>;
  Labels: Record<string, string>;
}

export type NamespaceChoice = { kind: 'new' } | { kind: 'host' } | { kind: 'container'; id: string };

export function emptyEndpoint(networkId = ''): EndpointSettings {
  return {
    IPAMConfig: null,
    Links: null,
    Aliases: null,
    MacAddress: '',
    DriverOpts: null,
    GwPriority: 0,
    NetworkID: networkId,
    EndpointID: '',
    Gateway: '',
    IPAddress: '',
    IPPrefixLen: 0,
    IPv6Gateway: '',
    GlobalIPv6Address: '',
    GlobalIPv6PrefixLen: 0,
    DNSNames: null,
  };
}

export class NetworkManager {
  private readonly networks = new Map<string, NetworkRecord>();
  private readonly file: string;

  constructor(dataRoot: string) {
    this.file = path.join(dataRoot, 'network', 'networks.json');
  }

  async init(): Promise<void> {
    await fsp.mkdir(path.dirname(this.file), { recursive: true });
    const saved = (await readJsonIfExists<NetworkRecord[]>(this.file)) ?? [];
    for (const n of saved) this.networks.set(n.Name, n);
    let changed = false;
    for (const [name, driver] of [
      ['bridge', 'bridge'],
      ['host', 'host'],
      ['none', 'null'],
    ] as const) {
      if (!this.networks.has(name)) {
        this.networks.set(name, this.newRecord(name, driver));
        changed = true;
      }
    }
    if (changed) await this.save();
  }

  private newRecord(name: string, driver: NetworkRecord['Driver']): NetworkRecord {
    return {
      Name: name,
      Id: randomBytes(32).toString('hex'),
      Created: new Date().toISOString(),
      Scope: 'local',
      Driver: driver,
      EnableIPv4: true,
      EnableIPv6: false,
      IPAM: { Driver: 'default', Options: null, Config: [] },
      Internal: false,
      Attachable: false,
      Ingress: false,
      ConfigFrom: { Network: '' },
      ConfigOnly: false,
      Options: {},
      Labels: {},
    };
  }

  private async save(): Promise<void> {
    await writeJsonAtomic(this.file, [...this.networks.values()]);
  }

  all(): NetworkRecord[] {
    return [...this.networks.values()];
  }

  find(idOrName: string): NetworkRecord | undefined {
    const byName = this.networks.get(idOrName);
    if (byName) return byName;
    const matches = this.all().filter((n) => n.Id === idOrName || (idOrName.length > 0 && n.Id.startsWith(idOrName)));
    return matches.length === 1 ? matches[0] : undefined;
  }

  get(idOrName: string): NetworkRecord {
    const n = this.find(idOrName);
    if (!n) throw new NotFoundError(`network ${idOrName} not found`);
    return n;
  }

  /** Validates NetworkMode at create time and returns the network names the container joins. */
  validateMode(mode: string): string[] {
    if (mode === 'host' || mode === 'none' || mode === 'bridge') return [mode];
    if (mode.startsWith('container:')) {
      if (mode.length === 'container:'.length) throw new InvalidParameterError('Invalid network mode: invalid container format container:<name|id>');
      return [];
    }
    const n = this.find(mode);
    if (!n) throw new NotFoundError(`network ${mode} not found`);
    return [n.Name];
  }

  namespaceFor(mode: string): NamespaceChoice {
    if (mode === 'host') return { kind: 'host' };
    if (mode.startsWith('container:')) return { kind: 'container', id: mode.slice('container:'.length) };
    return { kind: 'new' };
  }

  /** The endpoints a new container starts with (shown before it runs). */
  initialEndpoints(mode: string, requested: Record<string, Partial<EndpointSettings>> | undefined): Record<string, EndpointSettings> {
    const out: Record<string, EndpointSettings> = {};
    for (const name of this.validateMode(mode)) {
      const n = this.networks.get(name)!;
      const req = requested?.[name] ?? requested?.[mode] ?? (mode === 'bridge' ? requested?.default : undefined);
      const ep = emptyEndpoint(n.Id);
      if (req?.Aliases) ep.Aliases = req.Aliases;
      if (req?.IPAMConfig) ep.IPAMConfig = req.IPAMConfig;
      if (req?.Links) ep.Links = req.Links;
      if (req?.MacAddress) ep.MacAddress = req.MacAddress;
      if (req?.DriverOpts) ep.DriverOpts = req.DriverOpts;
      out[name] = ep;
    }
    return out;
  }

  /** NetworkSettings as inspect shows them (never null; Ports always an object). */
  settings(c: ContainerRecord, running: boolean): NetworkSettings {
    const ports: PortMap = {};
    for (const p of Object.keys(c.config.ExposedPorts ?? {})) ports[p] = null;
    for (const p of Object.keys(c.hostConfig.PortBindings ?? {})) if (!(p in ports)) ports[p] = null;
    if (running) for (const [p, b] of Object.entries(c.ports ?? {})) ports[p] = b;
    const primary = c.networks.bridge ?? Object.values(c.networks)[0];
    return {
      Bridge: '',
      SandboxID: running && c.sandboxKey ? c.id : '',
      SandboxKey: running ? c.sandboxKey : '',
      HairpinMode: false,
      LinkLocalIPv6Address: '',
      LinkLocalIPv6PrefixLen: 0,
      Ports: ports,
      SecondaryIPAddresses: null,
      SecondaryIPv6Addresses: null,
      EndpointID: c.networks.bridge?.EndpointID ?? '',
      Gateway: c.networks.bridge?.Gateway ?? '',
      GlobalIPv6Address: '',
      GlobalIPv6PrefixLen: 0,
      IPAddress: c.networks.bridge?.IPAddress ?? '',
      IPPrefixLen: c.networks.bridge?.IPPrefixLen ?? 0,
      IPv6Gateway: '',
      MacAddress: primary?.MacAddress ?? '',
      Networks: c.networks,
    };
  }
}
