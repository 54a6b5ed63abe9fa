/**
 * Container networking. Networks are records (the predefined bridge, host
 * and none, plus user-defined bridge networks) persisted in
 * <data-root>/network/networks.json; each bridge network has a Linux bridge,
 * an address pool and (user-defined ones) an embedded DNS server. Containers
 * join networks when they start (see sandbox.ts). This module also renders
 * the NetworkSettings that inspect and ps show.
 */
import path from 'node:path';
import fsp from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { readJsonIfExists, writeJsonAtomic } from '../storage/atomic.js';
import { ConflictError, ForbiddenError, InvalidParameterError, NotFoundError, messageOf } from '../errdefs.js';
import type { EndpointSettings, NetworkSettings, PortMap } from '../api/types.js';
import type { Container, ContainerRecord } from '../containers/container.js';
import type { ContainerStore } from '../containers/store.js';
import type { DaemonConfig } from '../daemon/config.js';
import type { Logger } from '../daemon/log.js';
import type { EventBus } from '../events/bus.js';
import type { Filters } from '../api/filters.js';
import { parseTimestamp } from '../api/filters.js';
import { Mutex } from '../concurrency/mutex.js';
import { AddressPool, pickSubnet } from './ipam.js';
import { formatIp, formatSubnet, overlaps, parseCidr, parseIp, contains, type Subnet } from './ipnet.js';
import { deleteLink, ensureBridge, ensureBridgeV6, ensureIpForward, hostRoutes, listLinks } from './netlink.js';
import { AddressPool6, contains6, formatIp6, formatSubnet6, overlaps6, parseCidr6, parseIp6 } from './ipnet6.js';
import { Firewall, type FirewallState } from './firewall.js';
import { PortReserver } from './ports.js';
import { noPortPublisher, type PortPublisher } from './port-publisher.js';
import { DnsServer } from './dns.js';
import { Sandboxes, type PreparedNetwork, type SandboxHost } from './sandbox.js';
import type { ContainerNetworking } from '../containers/lifecycle.js';
import { emptyEndpoint, isIpv6Pool, type BridgeNet, type NetworkRecord } from './records.js';

export interface NetworkCreateRequest {
  Name?: string;
  Driver?: string;
  Internal?: boolean;
  Attachable?: boolean;
  Ingress?: boolean;
  EnableIPv6?: boolean | null;
  EnableIPv4?: boolean | null;
  IPAM?: { Driver?: string; Options?: Record<string, string> | null; Config?: Array<{ Subnet?: string; IPRange?: string; Gateway?: string; AuxiliaryAddresses?: Record<string, string> }> | null } | null;
  Options?: Record<string, string> | null;
  Labels?: Record<string, string> | null;
  ConfigOnly?: boolean;
  ConfigFrom?: { Network?: string } | null;
  Scope?: string;
}

const PREDEFINED = ['bridge', 'host', 'none'];
const BRIDGE_NAME_OPT = 'com.docker.network.bridge.name';

export interface NetworkManagerDeps {
  dataRoot: string;
  config: DaemonConfig;
  log: Logger;
  events: EventBus;
  store: ContainerStore;
  /** The VM's host hears of published ports through it (network/port-publisher.ts); default none. */
  publisher?: PortPublisher;
}

/** The key of a network in the manager's maps: its name, or its ID for a duplicate name. */
function keyOf(n: NetworkRecord): string {
  return n.Berth?.key ?? n.Name;
}

export class NetworkManager implements ContainerNetworking, SandboxHost {
  private readonly networks = new Map<string, NetworkRecord>();
  private readonly bridges = new Map<string, BridgeNet>();
  private readonly file: string;
  private readonly lock = new Mutex();
  readonly firewall: Firewall;
  readonly ports = new PortReserver();
  readonly sandboxes: Sandboxes;

  constructor(readonly d: NetworkManagerDeps) {
    this.file = path.join(d.dataRoot, 'network', 'networks.json');
    this.firewall = new Firewall(d.config.bridge, () => this.firewallState());
    this.sandboxes = new Sandboxes(this);
  }

  get config(): DaemonConfig {
    return this.d.config;
  }

  get store(): ContainerStore {
    return this.d.store;
  }

  get log(): Logger {
    return this.d.log;
  }

  get publisher(): PortPublisher {
    return this.d.publisher ?? noPortPublisher;
  }

  get events(): EventBus {
    return this.d.events;
  }

  // ---- startup ------------------------------------------------------------

  async init(): Promise<void> {
    await fsp.mkdir(path.dirname(this.file), { recursive: true });
    const saved = (await readJsonIfExists<NetworkRecord[]>(this.file)) ?? [];
    for (const n of saved) this.networks.set(keyOf(n), n);
    for (const [name, driver] of [
      ['bridge', 'bridge'],
      ['host', 'host'],
      ['none', 'null'],
    ] as const) {
      if (!this.networks.has(name)) this.networks.set(name, this.newRecord(name, driver));
    }
    if (this.d.config.ipForward) ensureIpForward();
    await this.setupDefaultBridge();
    for (const n of this.networks.values()) {
      if (n.Driver !== 'bridge' || n.Name === 'bridge') continue;
      try {
        await this.activate(n);
      } catch (err) {
        this.d.log.error('could not set up network', { network: n.Name, err: messageOf(err) });
      }
    }
    await this.save();
    if (this.d.config.iptables) await this.firewall.init();
  }

  /** After containers are loaded: takes back the addresses and ports of running containers and drops leftovers. */
  async restore(): Promise<void> {
    await this.sandboxes.restore();
    await this.removeStaleVeths();
    await this.syncFirewall();
  }

  async shutdown(): Promise<void> {
    for (const b of this.bridges.values()) await b.dns?.stop().catch(() => undefined);
    this.ports.closeAll();
  }

  /** The default bridge: name and subnet from daemon.json (`bridge`, `bip`), else the first free default pool. */
  private async setupDefaultBridge(): Promise<void> {
    const rec = this.networks.get('bridge')!;
    const name = this.d.config.bridge;
    let subnet: Subnet;
    let gateway: number;
    if (this.d.config.bip) {
      const parsed = parseCidr(this.d.config.bip);
      subnet = parsed.subnet;
      gateway = parsed.ip === parsed.subnet.base ? parsed.subnet.base + 1 : parsed.ip;
    } else if (rec.IPAM.Config[0]?.Subnet && rec.Options[BRIDGE_NAME_OPT] === name) {
      subnet = parseCidr(rec.IPAM.Config[0].Subnet).subnet;
      gateway = rec.IPAM.Config[0].Gateway ? parseIp(rec.IPAM.Config[0].Gateway) : subnet.base + 1;
    } else {
      const taken = [...this.bridges.values()].map((b) => b.subnet).concat(this.userSubnets());
      subnet = pickSubnet(this.d.config.defaultAddressPools, taken, await this.foreignRoutes([name]));
      gateway = subnet.base + 1;
    }
    rec.IPAM = { Driver: 'default', Options: null, Config: [{ Subnet: formatSubnet(subnet), Gateway: formatIp(gateway) }] };
    rec.Options = {
      'com.docker.network.bridge.default_bridge': 'true',
      'com.docker.network.bridge.enable_icc': 'true',
      'com.docker.network.bridge.enable_ip_masquerade': 'true',
      'com.docker.network.bridge.host_binding_ipv4': '0.0.0.0',
      [BRIDGE_NAME_OPT]: name,
      'com.docker.network.driver.mtu': '1500',
    };
    await ensureBridge(name, gateway, subnet);
    this.bridges.set('bridge', { record: rec, bridge: name, subnet, gateway, pool: new AddressPool(subnet, gateway), userSubnet: false });
  }

  private userSubnets(): Subnet[] {
    const out: Subnet[] = [];
    for (const n of this.networks.values()) {
      if (n.Name === 'bridge' || n.Driver !== 'bridge') continue;
      for (const c of n.IPAM.Config) if (c.Subnet && !isIpv6Pool(c)) out.push(parseCidr(c.Subnet).subnet);
    }
    return out;
  }

  /** Host routes that are not on this daemon's bridges. */
  private async foreignRoutes(extraOwn: string[] = []): Promise<Subnet[]> {
    const own = new Set([...[...this.bridges.values()].map((b) => b.bridge), ...extraOwn]);
    const routes = await hostRoutes();
    return routes.filter((r) => !own.has(r.dev)).map((r) => r.subnet);
  }

  bridgeNameOf(n: NetworkRecord): string {
    if (n.Name === 'bridge') return this.d.config.bridge;
    return n.Options[BRIDGE_NAME_OPT] || `br-${n.Id.slice(0, 12)}`;
  }

  /** Brings up a user-defined network: its bridge and DNS server. */
  private async activate(n: NetworkRecord): Promise<BridgeNet> {
    const cfg = n.IPAM.Config.find((c) => !isIpv6Pool(c));
    if (!cfg?.Subnet) throw new Error(`network ${n.Name} has no subnet`);
    const subnet = parseCidr(cfg.Subnet).subnet;
    const gateway = cfg.Gateway ? parseIp(cfg.Gateway) : subnet.base + 1;
    const bridge = this.bridgeNameOf(n);
    await ensureBridge(bridge, gateway, subnet);
    const pool = new AddressPool(subnet, gateway, cfg.IPRange ? parseCidr(cfg.IPRange).subnet : undefined);
    // Auxiliary addresses (--aux-address) are the user's: never leased to containers.
    for (const ip of Object.values(cfg.AuxiliaryAddresses ?? {})) {
      try {
        pool.claim(parseIp(ip));
      } catch {
        /* the gateway itself, or outside: nothing to reserve */
      }
    }
    const b: BridgeNet = { record: n, bridge, subnet, gateway, pool, userSubnet: n.Berth?.userSubnet ?? false };
    const c6 = n.EnableIPv6 ? n.IPAM.Config.find((c) => isIpv6Pool(c) && c.Subnet) : undefined;
    if (c6) {
      const subnet6 = parseCidr6(c6.Subnet).subnet;
      const gateway6 = c6.Gateway ? parseIp6(c6.Gateway) : subnet6.base + 1n;
      await ensureBridgeV6(bridge, formatIp6(gateway6), subnet6.prefix);
      b.v6 = { subnet: subnet6, gateway: gateway6, pool: new AddressPool6(subnet6, gateway6, c6.IPRange ? parseCidr6(c6.IPRange).subnet : undefined) };
    }
    const dns = new DnsServer(formatIp(gateway), this.sandboxes.dnsBackend(n.Name), (err) => this.d.log.debug('dns server error', { network: n.Name, err: err.message }));
    try {
      await dns.start();
      b.dns = dns;
    } catch (err) {
      this.d.log.warn('embedded DNS server could not start; containers on this network resolve only through the host', { network: n.Name, err: messageOf(err) });
    }
    this.bridges.set(keyOf(n), b);
    return b;
  }

  private async deactivate(name: string): Promise<void> {
    const b = this.bridges.get(name);
    if (!b) return;
    this.bridges.delete(name);
    await b.dns?.stop().catch(() => undefined);
    await deleteLink(b.bridge);
  }

  /** Veths on our bridges that no container owns (their container died while berthd was down). */
  private async removeStaleVeths(): Promise<void> {
    const ours = new Set([...this.bridges.values()].map((b) => b.bridge));
    const owned = this.sandboxes.hostInterfaces();
    const links = await listLinks().catch(() => []);
    for (const l of links) {
      if (!l.master || !ours.has(l.master) || l.linkinfo?.info_kind !== 'veth') continue;
      if (owned.has(l.ifname)) continue;
      this.d.log.info('removing leftover veth', { veth: l.ifname, bridge: l.master });
      await deleteLink(l.ifname).catch(() => undefined);
    }
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

  // ---- lookups ----------------------------------------------------------------

  all(): NetworkRecord[] {
    return [...this.networks.values()];
  }

  find(idOrName: string): NetworkRecord | undefined {
    const byId = this.all().find((n) => n.Id === idOrName);
    if (byId) return byId;
    const byName = this.all().filter((n) => n.Name === idOrName);
    if (byName.length > 1) throw new InvalidParameterError(`network ${idOrName} is ambiguous (${byName.length} matches found on name)`);
    if (byName[0]) return byName[0];
    const matches = this.all().filter((n) => idOrName.length > 0 && n.Id.startsWith(idOrName));
    if (matches.length > 1) throw new InvalidParameterError(`network ${idOrName} is ambiguous (${matches.length} matches found based on ID prefix)`);
    return matches[0];
  }

  get(idOrName: string): NetworkRecord {
    const n = this.find(idOrName);
    if (!n) throw new NotFoundError(`network ${idOrName} not found`);
    return n;
  }

  bridgeNet(name: string): BridgeNet | undefined {
    return this.bridges.get(name);
  }

  allBridges(): BridgeNet[] {
    return [...this.bridges.values()];
  }

  /** Running containers with an endpoint on a network. */
  activeContainers(name: string): Container[] {
    return this.d.store.all().filter((c) => c.isRunning() && c.record.networks[name] !== undefined && c.record.hostConfig.NetworkMode !== 'host');
  }

  // ---- firewall -----------------------------------------------------------------

  private firewallState(): FirewallState {
    return {
      bridges: [...this.bridges.values()].map((b) => ({ name: b.bridge, subnet: formatSubnet(b.subnet), ...(b.v6 ? { subnet6: formatSubnet6(b.v6.subnet) } : {}), internal: b.record.Internal })),
      ports: this.sandboxes.portRules(),
    };
  }

  async syncFirewall(): Promise<void> {
    if (!this.d.config.iptables) return;
    await this.firewall.sync();
  }

  // ---- network API ------------------------------------------------------------------

  /** `allowDuplicate`: CheckDuplicate false from a client below API 1.44, where dockerd still honoured it. */
  async create(req: NetworkCreateRequest, opts: { allowDuplicate?: boolean } = {}): Promise<{ Id: string; Warning: string }> {
    const name = req.Name ?? '';
    if (name === '') throw new InvalidParameterError('network name is required');
    // Any name dockerd takes ("test 01" too): bridges are named after the ID, never the name.
    if (/[\x00-\x1f\x7f/]/.test(name)) throw new InvalidParameterError(`invalid network name ${JSON.stringify(name)}: it must not contain "/" or control characters`);
    if (PREDEFINED.includes(name)) throw new ForbiddenError(`${name} is a pre-defined network and cannot be created`);
    const driver = req.Driver || 'bridge';
    if (driver !== 'bridge') throw new NotFoundError(`plugin "${driver}" not found`);
    if (req.EnableIPv4 === false) throw new InvalidParameterError('IPv4 cannot be disabled on bridge networks in berthd');
    if (req.ConfigOnly || req.ConfigFrom?.Network) throw new InvalidParameterError('config-only networks are not supported by berthd');
    if (req.Scope && req.Scope !== 'local') throw new InvalidParameterError(`scope ${req.Scope} is not supported: berthd networks are local`);
    if (req.IPAM?.Driver && req.IPAM.Driver !== 'default') throw new NotFoundError(`plugin "${req.IPAM.Driver}" not found`);
    const pools = (req.IPAM?.Config ?? []).filter((c) => c.Subnet || c.Gateway || c.IPRange);
    const configs = pools.filter((c) => !isIpv6Pool(c));
    const configs6 = pools.filter((c) => isIpv6Pool(c));
    if (configs.length > 1) throw new InvalidParameterError('berthd networks have one IPv4 subnet');
    if (configs6.length > 1) throw new InvalidParameterError('berthd networks have one IPv6 subnet');
    const cfg = configs[0];
    const cfg6 = configs6[0];
    for (const c of [cfg, cfg6]) if (c && !c.Subnet && (c.Gateway || c.IPRange)) throw new InvalidParameterError('invalid network config:\nsubnet is required when a gateway or an IP range is given');
    // No default IPv6 pool: an IPv6 network names its subnet (as dockerd without default-address-pools for IPv6).
    if (req.EnableIPv6 && !cfg6) throw new InvalidParameterError('could not find an available, non-overlapping IPv6 address pool: give an IPv6 --subnet (berthd has no default IPv6 pool)');
    let ipam6: { Subnet: string; Gateway: string; IPRange?: string } | undefined;
    if (cfg6?.Subnet) {
      const parsed6 = parseCidr6(cfg6.Subnet);
      const gw6 = cfg6.Gateway ? parseIp6(cfg6.Gateway) : parsed6.subnet.base + 1n;
      if (!contains6(parsed6.subnet, gw6)) throw new InvalidParameterError(`invalid network config:\ninvalid gateway ${cfg6.Gateway}: parent subnet ${formatSubnet6(parsed6.subnet)} doesn't contain this address`);
      if (cfg6.IPRange) {
        const r6 = parseCidr6(cfg6.IPRange).subnet;
        if (!contains6(parsed6.subnet, r6.base) || r6.prefix < parsed6.subnet.prefix) throw new InvalidParameterError(`invalid network config:\ninvalid ip-range ${cfg6.IPRange}: it must be a subnet of ${formatSubnet6(parsed6.subnet)}`);
      }
      if (req.EnableIPv6) {
        for (const b of this.bridges.values()) {
          if (b.v6 && overlaps6(b.v6.subnet, parsed6.subnet)) throw new ForbiddenError('invalid pool request: Pool overlaps with other one on this address space');
        }
      }
      ipam6 = { Subnet: formatSubnet6(parsed6.subnet), Gateway: formatIp6(gw6), ...(cfg6.IPRange ? { IPRange: cfg6.IPRange } : {}) };
    }
    return this.lock.run(async () => {
      const duplicate = this.all().some((n) => n.Name === name);
      if (duplicate && !opts.allowDuplicate) throw new ConflictError(`network with name ${name} already exists`);
      let subnet: Subnet;
      let gateway: number;
      const userSubnet = cfg?.Subnet !== undefined;
      if (cfg?.Subnet) {
        const parsed = parseCidr(cfg.Subnet);
        if (parsed.ip !== parsed.subnet.base) throw new InvalidParameterError(`invalid network config:\ninvalid subnet ${cfg.Subnet}: it should be ${formatSubnet(parsed.subnet)}`);
        subnet = parsed.subnet;
        if (subnet.prefix > 30) throw new InvalidParameterError(`invalid network config:\ninvalid subnet ${cfg.Subnet}: it is too small for containers`);
        if (cfg.Gateway) {
          gateway = parseIp(cfg.Gateway);
          if (!contains(subnet, gateway)) throw new InvalidParameterError(`invalid network config:\ninvalid gateway ${cfg.Gateway}: parent subnet ${formatSubnet(subnet)} doesn't contain this address`);
        } else gateway = subnet.base + 1;
        for (const b of this.bridges.values()) {
          if (overlaps(b.subnet, subnet)) throw new ForbiddenError('invalid pool request: Pool overlaps with other one on this address space');
        }
      } else {
        const taken = [...this.bridges.values()].map((b) => b.subnet).concat(this.userSubnets());
        subnet = pickSubnet(this.d.config.defaultAddressPools, taken, await this.foreignRoutes());
        gateway = subnet.base + 1;
      }
      const rec = this.newRecord(name, 'bridge');
      rec.Internal = req.Internal ?? false;
      rec.Attachable = req.Attachable ?? false;
      rec.Options = { ...(req.Options ?? {}) };
      rec.Labels = { ...(req.Labels ?? {}) };
      const range = cfg?.IPRange ? parseCidr(cfg.IPRange) : undefined;
      if (range && (range.ip !== range.subnet.base || !contains(subnet, range.subnet.base) || range.subnet.prefix < subnet.prefix)) {
        throw new InvalidParameterError(`invalid network config:\ninvalid ip-range ${cfg!.IPRange}: it must be a subnet of ${formatSubnet(subnet)}`);
      }
      const aux = cfg?.AuxiliaryAddresses ?? undefined;
      for (const [host, ip] of Object.entries(aux ?? {})) {
        if (!contains(subnet, parseIp(ip))) throw new InvalidParameterError(`invalid network config:\ninvalid auxiliary address ${host}: parent subnet ${formatSubnet(subnet)} doesn't contain ip address ${ip}`);
      }
      rec.IPAM = {
        Driver: 'default',
        // null when none were given, as dockerd shows it.
        Options: req.IPAM?.Options && Object.keys(req.IPAM.Options).length > 0 ? { ...req.IPAM.Options } : null,
        Config: [
          { Subnet: formatSubnet(subnet), Gateway: formatIp(gateway), ...(cfg?.IPRange ? { IPRange: cfg.IPRange } : {}), ...(aux && Object.keys(aux).length > 0 ? { AuxiliaryAddresses: { ...aux } } : {}) },
          ...(ipam6 ? [ipam6] : []),
        ],
      };
      rec.EnableIPv6 = req.EnableIPv6 === true;
      rec.Berth = { userSubnet, ...(duplicate ? { key: rec.Id } : {}) };
      const bridgeName = this.bridgeNameOf(rec);
      if (bridgeName.length > 15) throw new InvalidParameterError(`bridge name ${bridgeName} is too long: at most 15 characters`);
      if ([...this.bridges.values()].some((b) => b.bridge === bridgeName)) throw new ForbiddenError(`bridge name ${bridgeName} is already used by another network`);
      this.networks.set(keyOf(rec), rec);
      try {
        await this.activate(rec);
        await this.save();
        await this.syncFirewall();
      } catch (err) {
        this.networks.delete(keyOf(rec));
        await this.deactivate(keyOf(rec)).catch(() => undefined);
        await this.save().catch(() => undefined);
        throw err;
      }
      this.d.events.publish('network', 'create', rec.Id, { name: rec.Name, type: rec.Driver });
      return { Id: rec.Id, Warning: '' };
    });
  }

  async remove(idOrName: string): Promise<void> {
    const n = this.get(idOrName);
    if (PREDEFINED.includes(n.Name)) throw new ForbiddenError(`${n.Name} is a pre-defined network and cannot be removed`);
    await this.lock.run(async () => {
      const active = this.activeContainers(n.Name);
      if (active.length > 0) {
        const eps = active.map((c) => `name:${JSON.stringify(c.name)} id:${JSON.stringify(c.id.slice(0, 12))}`);
        throw new ForbiddenError(`error while removing network: network ${n.Name} has active endpoints (${eps.join(', ')})`);
      }
      await this.deactivate(keyOf(n));
      this.networks.delete(keyOf(n));
      await this.save();
      await this.syncFirewall();
    });
    this.d.events.publish('network', 'destroy', n.Id, { name: n.Name, type: n.Driver });
  }

  async prune(f: Filters): Promise<{ NetworksDeleted: string[] }> {
    const until = f.get('until').map((u) => parseTimestamp(u));
    const deleted: string[] = [];
    for (const n of this.all()) {
      if (PREDEFINED.includes(n.Name)) continue;
      if (!f.matchLabels('label', n.Labels) || !f.noneOfLabels('label!', n.Labels)) continue;
      if (until.length > 0 && !until.every((t) => Date.parse(n.Created) < t)) continue;
      if (this.activeContainers(n.Name).length > 0) continue;
      try {
        await this.remove(n.Id);
        deleted.push(n.Name);
      } catch (err) {
        this.d.log.warn('prune: could not remove network', { network: n.Name, err: messageOf(err) });
      }
    }
    this.d.events.publish('network', 'prune', '', { reclaimed: '0' });
    return { NetworksDeleted: deleted };
  }

  connect(idOrName: string, containerId: string, endpoint: Partial<EndpointSettings> | null | undefined): Promise<void> {
    return this.sandboxes.connect(this.get(idOrName), this.d.store.get(containerId), endpoint ?? {});
  }

  disconnect(idOrName: string, containerId: string, force: boolean): Promise<void> {
    const n = this.find(idOrName);
    const c = this.d.store.get(containerId);
    if (!n) {
      if (force && c.record.networks[idOrName]) return this.sandboxes.forget(c, idOrName);
      throw new NotFoundError(`network ${idOrName} not found`);
    }
    return this.sandboxes.disconnect(n, c);
  }

  // ---- container lifecycle --------------------------------------------------------

  /**
   * Validates NetworkMode at create time and returns the network names the
   * container joins. A network that does not exist (yet) is not an error
   * here — as in dockerd, starting the container fails instead.
   */
  validateMode(mode: string): string[] {
    if (mode === 'host' || mode === 'none' || mode === 'bridge') return [mode];
    if (mode.startsWith('container:')) {
      if (mode.length === 'container:'.length) throw new InvalidParameterError('Invalid network mode: invalid container format container:<name|id>');
      return [];
    }
    return [this.find(mode)?.Name ?? mode];
  }

  /** The endpoints a new container starts with (shown before it runs). */
  initialEndpoints(mode: string, requested: Record<string, Partial<EndpointSettings>> | undefined): Record<string, EndpointSettings> {
    const out: Record<string, EndpointSettings> = {};
    for (const name of this.validateMode(mode)) {
      const n = this.networks.get(name);
      const req = requested?.[name] ?? requested?.[mode] ?? (n ? requested?.[n.Id] : undefined) ?? (mode === 'bridge' ? requested?.default : undefined);
      const ep = emptyEndpoint(n?.Id ?? '');
      if (req?.Aliases) ep.Aliases = req.Aliases;
      if (req?.IPAMConfig) ep.IPAMConfig = req.IPAMConfig;
      if (req?.Links) ep.Links = req.Links;
      if (req?.MacAddress) ep.MacAddress = req.MacAddress;
      if (req?.DriverOpts) ep.DriverOpts = req.DriverOpts;
      out[name] = ep;
    }
    return out;
  }

  /** Create-time checks: endpoint settings, links, extra hosts. */
  async creating(r: ContainerRecord): Promise<void> {
    this.sandboxes.validateCreate(r);
  }

  prepare(c: Container): Promise<PreparedNetwork> {
    return this.sandboxes.prepare(c);
  }

  /** Starts plumbing the endpoints of a prepared container while the runtime creates it. */
  launching(c: Container): void {
    this.sandboxes.startPlumbing(c);
  }

  created(c: Container, pid: number): Promise<void> {
    return this.sandboxes.attach(c, pid);
  }

  released(c: Container): Promise<void> {
    return this.sandboxes.release(c);
  }

  /** NetworkSettings as inspect shows them (never null; Ports the live map while running, else empty). */
  settings(c: ContainerRecord, running: boolean): NetworkSettings {
    const ports: PortMap = running ? { ...(c.ports ?? {}) } : {};
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
      GlobalIPv6Address: c.networks.bridge?.GlobalIPv6Address ?? '',
      GlobalIPv6PrefixLen: c.networks.bridge?.GlobalIPv6PrefixLen ?? 0,
      IPAddress: c.networks.bridge?.IPAddress ?? '',
      IPPrefixLen: c.networks.bridge?.IPPrefixLen ?? 0,
      IPv6Gateway: c.networks.bridge?.IPv6Gateway ?? '',
      MacAddress: primary?.MacAddress ?? '',
      Networks: c.networks,
    };
  }
}
