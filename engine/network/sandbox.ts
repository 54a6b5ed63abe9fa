/**
 * A container's network sandbox while it runs: its endpoints (address
 * leases, veth pairs into its namespace), its published ports, its
 * /etc/hosts and resolv.conf, legacy links, and what the embedded DNS
 * servers answer about it. Everything a start takes is given back when the
 * container exits, and taken back from the records after a daemon restart.
 */
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { ConflictError, ForbiddenError, InvalidParameterError, NotFoundError, SystemError, messageOf } from '../errdefs.js';
import type { EndpointSettings } from '../api/types.js';
import type { Container, ContainerRecord } from '../containers/container.js';
import { etcPaths, hostNameservers, hostsContent, resolvConfContent, rewriteInPlace, type HostsEntry } from './etc-files.js';
import { formatIp, macFor, parseIp, contains } from './ipnet.js';
import { createNetns, deleteLink, plumbEndpoint, removeNetns } from './netlink.js';
import { PortInUseError, isV6Address, portMap, portRequests, validatePortBindings, type HeldPort, type PortRequest } from './ports.js';
import { linkEnv, parseLink } from './links.js';
import type { DnsBackend, LocalAnswer } from './dns.js';
import type { PortRule } from './firewall.js';
import { emptyEndpoint, isIpv6Pool, type BridgeNet, type NetworkRecord } from './records.js';
import type { PortReserver } from './ports.js';
import { publishReserved, type PortPublisher } from './port-publisher.js';
import type { ContainerStore } from '../containers/store.js';
import type { DaemonConfig } from '../daemon/config.js';
import type { Logger } from '../daemon/log.js';
import type { EventBus } from '../events/bus.js';

/** What the sandboxes need of the network manager (which owns them). */
export interface SandboxHost {
  readonly store: ContainerStore;
  readonly config: DaemonConfig;
  readonly ports: PortReserver;
  /** Who else hears of published ports before a start (the VM's host); a no-op natively. */
  readonly publisher: PortPublisher;
  readonly log: Logger;
  readonly events: EventBus;
  find(idOrName: string): NetworkRecord | undefined;
  bridgeNet(name: string): BridgeNet | undefined;
  allBridges(): BridgeNet[];
  syncFirewall(): Promise<void>;
}
import { MiB, readUntrustedFile } from '../storage/confined.js';
import { contains6, formatIp6, parseCidr6, parseIp6 } from './ipnet6.js';

export interface PreparedNetwork {
  /** Network namespace to join; '' = a new one; undefined = the host's. */
  netnsPath: string | undefined;
  etc: { hosts: string; hostname: string; resolvConf: string };
  /** Extra environment (legacy link variables), below the container's own Env. */
  env: string[];
}

interface Endpoint {
  network: string;
  ip: number;
  /** Its IPv6 lease on a dual-stack network. */
  ip6?: bigint;
  hostIf: string;
  ifName: string;
  plumbed: boolean;
}

interface Sandbox {
  id: string;
  pid: number;
  /** The namespace berthd made for the container (bind-mounted file), or '' when runc makes it (--network none). */
  netns: string;
  /** Endpoint plumbing into `netns` and the port rules, running while runc creates the container. */
  plumbing?: Promise<void>;
  /** Its published ports have firewall rules (from the plumbing on, or restored). */
  portsLive: boolean;
  endpoints: Endpoint[];
  /** Ports published through the first endpoint with a gateway. */
  ports: HeldPort[];
  portIp: string;
  /** The port endpoint's IPv6 address on a dual-stack network, else ''. */
  portIp6: string;
  portNetwork: string;
  extraHosts: HostsEntry[];
}

const HOST_GATEWAY = 'host-gateway';

function setPortEndpoint(sb: Sandbox, e: Endpoint): void {
  sb.portIp = formatIp(e.ip);
  sb.portIp6 = e.ip6 !== undefined ? formatIp6(e.ip6) : '';
  sb.portNetwork = e.network;
}

/** What the VM's host is told of: an implicit "::" twin is covered by its 0.0.0.0 port's forward. */
export function announcedPorts(ports: HeldPort[]): HeldPort[] {
  return ports.filter((p) => !(p.hostIp === '::' && ports.some((q) => q.hostIp === '0.0.0.0' && q.proto === p.proto && q.hostPort === p.hostPort)));
}

function hostIfFor(endpointId: string): string {
  return `veth${endpointId.slice(0, 7)}`;
}

export class Sandboxes {
  private readonly boxes = new Map<string, Sandbox>();

  constructor(private readonly m: SandboxHost) {}

  // ---- create-time validation ---------------------------------------------------------

  validateCreate(r: ContainerRecord): void {
    const hc = r.hostConfig;
    const mode = hc.NetworkMode;
    validatePortBindings(hc.PortBindings);
    for (const h of hc.ExtraHosts ?? []) parseExtraHost(h);
    for (const s of hc.Dns ?? []) if (!net.isIP(s)) throw new InvalidParameterError(`${s} is not an ip address`);
    // Every network of EndpointsConfig is joined (API >= 1.44), not only the NetworkMode one.
    if (mode.startsWith('container:')) {
      // Joined by ID, so a rename of the other container keeps the link (dockerd does the same).
      const other = this.m.store.find(mode.slice('container:'.length));
      if (other) {
        if (other.id === r.id) throw new InvalidParameterError('cannot join own network namespace');
        hc.NetworkMode = `container:${other.id}`;
      }
    }
    for (const [key, cfg] of Object.entries(r.networkingConfig.EndpointsConfig ?? {})) {
      if (key === 'default' || key === mode) continue;
      const n = this.m.find(key);
      // Unknown networks fail the start, not the create.
      if (!n) {
        if (!r.networks[key]) r.networks[key] = { ...emptyEndpoint(''), ...(cfg?.Aliases ? { Aliases: cfg.Aliases } : {}), ...(cfg?.IPAMConfig ? { IPAMConfig: cfg.IPAMConfig } : {}) };
        continue;
      }
      if (r.networks[n.Name]) continue;
      if (mode === 'host' || mode === 'none' || mode.startsWith('container:') || n.Driver !== 'bridge') {
        throw new InvalidParameterError('container sharing network namespace with another container or host cannot be connected to any other network');
      }
      const ep = emptyEndpoint(n.Id);
      if (cfg?.Aliases) ep.Aliases = cfg.Aliases;
      if (cfg?.IPAMConfig) ep.IPAMConfig = cfg.IPAMConfig;
      if (cfg?.Links) ep.Links = cfg.Links;
      if (cfg?.MacAddress) ep.MacAddress = cfg.MacAddress;
      r.networks[n.Name] = ep;
    }
    for (const [name, ep] of Object.entries(r.networks)) {
      const n = this.m.find(name);
      if (n) this.validateEndpoint(n, ep);
    }
    if (hc.Links && hc.Links.length > 0) {
      if (mode.startsWith('container:')) throw new InvalidParameterError("conflicting options: container type network can't be used with links. This would result in undefined behavior");
      if (mode === 'host') throw new InvalidParameterError("conflicting options: host type networking can't be used with links. This would result in undefined behavior");
      const stored: string[] = [];
      for (const l of hc.Links) {
        const { target, alias } = parseLink(l);
        const child = this.m.store.find(target);
        if (!child) throw new InvalidParameterError(`could not get container for ${target}: No such container: ${target}`);
        if (child.record.hostConfig.NetworkMode === 'host') throw new InvalidParameterError("conflicting options: host type networking can't be used with links. This would result in undefined behavior");
        stored.push(`/${child.name}:/${r.name}/${alias}`);
      }
      if (mode === 'bridge') hc.Links = stored;
      else {
        // On user-defined networks a link is a DNS alias for this container only.
        const ep = r.networks[mode];
        if (ep) ep.Links = hc.Links.map((l) => {
          const { target, alias } = parseLink(l);
          return `${target}:${alias}`;
        });
      }
    }
  }

  private validateEndpoint(n: NetworkRecord, ep: Partial<EndpointSettings>): void {
    const errs: string[] = [];
    const ip = ep.IPAMConfig?.IPv4Address;
    const user = n.Name !== 'bridge' && n.Driver === 'bridge';
    if (ip) {
      if (!net.isIPv4(ip)) errs.push(`invalid IPv4 address: ${ip}`);
      else if (!user) errs.push('user-specified IP address is supported on user-defined networks only');
      else {
        const b = this.m.bridgeNet(n.Name);
        if (b && !b.userSubnet) errs.push('user specified IP address is supported only when connecting to networks with user configured subnets');
        else if (b && !contains(b.subnet, parseIp(ip))) errs.push(`no configured subnet contains IP address ${ip}`);
      }
    }
    const ip6 = ep.IPAMConfig?.IPv6Address;
    if (ip6) {
      const pool6 = n.IPAM.Config.find((c) => isIpv6Pool(c) && c.Subnet);
      if (!net.isIPv6(ip6)) errs.push(`invalid IPv6 address: ${ip6}`);
      else if (!user) errs.push('user-specified IP address is supported on user-defined networks only');
      else if (!pool6) errs.push('user specified IP address is supported only when connecting to networks with user configured subnets');
      else if (!contains6(parseCidr6(pool6.Subnet).subnet, parseIp6(ip6))) errs.push(`no configured subnet contains IP address ${ip6}`);
    }
    if (ep.Aliases && ep.Aliases.length > 0 && !user) errs.push('network-scoped aliases are only supported for user-defined networks');
    if (ep.MacAddress && !/^([0-9a-fA-F]{2}:){5}[0-9a-fA-F]{2}$/.test(ep.MacAddress)) errs.push(`invalid MAC address: ${ep.MacAddress}`);
    if (errs.length > 0) throw new InvalidParameterError(`invalid endpoint settings:\n${errs.join('\n')}`);
  }

  // ---- start ---------------------------------------------------------------------------

  async prepare(c: Container): Promise<PreparedNetwork> {
    const r = c.record;
    const hc = r.hostConfig;
    const cfg = r.config;
    const mode = hc.NetworkMode;
    const hostname = `${cfg.Hostname}\n`;
    const extraHosts = (hc.ExtraHosts ?? []).map((h) => this.extraHostEntry(h));
    const dns = hc.Dns && hc.Dns.length > 0 ? hc.Dns : this.m.config.dns;
    const search = hc.DnsSearch && hc.DnsSearch.length > 0 ? hc.DnsSearch : this.m.config.dnsSearch;
    const options = hc.DnsOptions && hc.DnsOptions.length > 0 ? hc.DnsOptions : this.m.config.dnsOpts;
    if (this.boxes.has(r.id)) await this.release(c);

    if (mode === 'host') {
      let hosts = readOr('/etc/hosts', hostsContent(undefined, []));
      for (const e of extraHosts) hosts += `${e.ip}\t${e.names.join(' ')}\n`;
      return { netnsPath: undefined, env: [], etc: { hosts, hostname, resolvConf: resolvConfContent({ dns, search, options, hostNetwork: true }) } };
    }
    if (mode.startsWith('container:')) {
      const ref = mode.slice('container:'.length);
      const other = this.m.store.find(ref);
      if (!other) throw new SystemError(`joining network namespace of container: No such container: ${ref}`);
      if (other.id === r.id) throw new SystemError('cannot join own network namespace');
      if (!other.isRunning()) throw new ConflictError(`cannot join network namespace of a non running container: container ${other.id} is not running`);
      const otherEtc = etcPaths(this.m.store.dir(other.id));
      return {
        netnsPath: `/proc/${other.record.state.pid}/ns/net`,
        env: [],
        // Those files are mounted read-write in the other container: their content is its to choose.
        etc: { hosts: await readContainerEtc(otherEtc.hosts, hostsContent(undefined, [])), hostname, resolvConf: await readContainerEtc(otherEtc.resolvConf, '') },
      };
    }

    const sb: Sandbox = { id: r.id, pid: 0, netns: '', portsLive: false, endpoints: [], ports: [], portIp: '', portIp6: '', portNetwork: '', extraHosts };
    this.boxes.set(r.id, sb);
    try {
      if (mode !== 'none') await this.allocateEndpoints(c, sb);
      const links = mode === 'bridge' ? this.linkInfo(c) : { hosts: [], env: [] };
      const userNet = sb.endpoints.map((e) => this.m.bridgeNet(e.network)!).find((b) => b.record.Name !== 'bridge');
      const resolvConf = resolvConfContent({ dns, search, options, hostNetwork: false, ...(userNet ? { embeddedDns: formatIp(userNet.gateway) } : {}) });
      if (sb.endpoints.length > 0) {
        // As Docker's libnetwork does: the namespace exists before the container, so its veths are
        // plumbed while runc creates the container (attach() waits for it before the process runs).
        sb.netns = this.netnsFile(r.id);
        await createNetns(sb.netns);
      }
      return { netnsPath: sb.netns, env: links.env, etc: { hosts: hostsContent(this.ownEntries(c, sb), extraHosts, links.hosts), hostname, resolvConf } };
    } catch (err) {
      await this.release(c).catch(() => undefined);
      throw err;
    }
  }

  private async allocateEndpoints(c: Container, sb: Sandbox): Promise<void> {
    const r = c.record;
    const mode = r.hostConfig.NetworkMode;
    // The NetworkMode network comes first: it gets eth0 and, unless internal, the default route.
    const names = Object.keys(r.networks).sort((a, b) => (a === mode ? -1 : b === mode ? 1 : 0));
    for (const name of names) {
      const b = this.m.bridgeNet(name);
      if (!b) throw new NotFoundError(`failed to set up container networking: network ${name} not found`);
      this.addEndpoint(c, sb, b, r.networks[name]!);
    }
    const gw = sb.endpoints.find((e) => !this.m.bridgeNet(e.network)!.record.Internal);
    const requests = portRequests(r.config.ExposedPorts, r.hostConfig.PortBindings ?? {}, r.hostConfig.PublishAllPorts);
    if (gw) {
      setPortEndpoint(sb, gw);
      for (let i = 0; i < requests.length; i++) {
        const req = requests[i]!;
        const sibling = req.twin ? sb.ports[sb.ports.length - 1] : undefined;
        let held: HeldPort;
        try {
          held = sibling ? await this.reserveTwin(req, sibling.hostPort) : await this.m.ports.reserve(req);
        } catch (err) {
          const ep = r.networks[gw.network]!;
          const msg = err instanceof PortInUseError ? err.message : messageOf(err);
          throw new SystemError(`failed to set up container networking: driver failed programming external connectivity on endpoint ${r.name} (${ep.EndpointID}): ${msg}`);
        }
        // The VM's host forwards both families of a 0.0.0.0 port already: an implicit "::" twin on the same port is not announced.
        const announced = sibling && sibling.hostPort === held.hostPort ? held : await publishReserved(this.m.ports, this.m.publisher, r.id, req, held);
        sb.ports.push(announced);
        this.forwardHeld(sb, announced);
      }
    }
    r.ports = portMap(r.config.ExposedPorts, r.hostConfig.PortBindings ?? {}, sb.ports);
  }

  /** Leases an address on a network and fills the endpoint's runtime fields. */
  private addEndpoint(c: Container, sb: Sandbox, b: BridgeNet, ep: EndpointSettings): Endpoint {
    const r = c.record;
    const requested = ep.IPAMConfig?.IPv4Address;
    let ip: number;
    if (requested) {
      try {
        b.pool.claim(parseIp(requested));
      } catch (err) {
        throw new ForbiddenError(`failed to set up container networking: ${messageOf(err)}`);
      }
      ip = parseIp(requested);
    } else ip = b.pool.allocate();
    const used = new Set(sb.endpoints.map((e) => e.ifName));
    let i = 0;
    while (used.has(`eth${i}`)) i++;
    let ip6: bigint | undefined;
    if (b.v6) {
      const want6 = ep.IPAMConfig?.IPv6Address;
      try {
        if (want6) b.v6.pool.claim(parseIp6(want6));
        ip6 = want6 ? parseIp6(want6) : b.v6.pool.allocate();
      } catch (err) {
        b.pool.release(ip);
        throw new ForbiddenError(`failed to set up container networking: ${messageOf(err)}`);
      }
    }
    const endpointId = randomBytes(32).toString('hex');
    const e: Endpoint = { network: b.record.Name, ip, ...(ip6 !== undefined ? { ip6 } : {}), hostIf: hostIfFor(endpointId), ifName: `eth${i}`, plumbed: false };
    sb.endpoints.push(e);
    ep.NetworkID = b.record.Id;
    ep.EndpointID = endpointId;
    ep.Gateway = b.record.Internal ? '' : formatIp(b.gateway);
    ep.IPAddress = formatIp(ip);
    ep.IPPrefixLen = b.subnet.prefix;
    ep.MacAddress = ep.MacAddress || macFor(ip);
    if (ip6 !== undefined && b.v6) {
      ep.GlobalIPv6Address = formatIp6(ip6);
      ep.GlobalIPv6PrefixLen = b.v6.subnet.prefix;
      ep.IPv6Gateway = b.record.Internal ? '' : formatIp6(b.v6.gateway);
    }
    ep.DNSNames = b.record.Name === 'bridge' ? null : [...new Set([r.name, ...(ep.Aliases ?? []), r.id.slice(0, 12)])];
    return e;
  }

  private ownEntries(c: Container, sb: Sandbox): HostsEntry[] {
    const cfg = c.record.config;
    const names = cfg.Domainname ? [`${cfg.Hostname}.${cfg.Domainname}`, cfg.Hostname] : [cfg.Hostname];
    return sb.endpoints.flatMap((e) => [{ ip: formatIp(e.ip), names }, ...(e.ip6 !== undefined ? [{ ip: formatIp6(e.ip6), names }] : [])]);
  }

  private extraHostEntry(spec: string): HostsEntry {
    const { host, ip } = parseExtraHost(spec);
    if (ip === HOST_GATEWAY) return { ip: formatIp(this.m.bridgeNet('bridge')!.gateway), names: [host] };
    return { ip, names: [host] };
  }

  /** Legacy links of a container on the default bridge: hosts entries and environment. */
  private linkInfo(c: Container): { hosts: HostsEntry[]; env: string[] } {
    const hosts: HostsEntry[] = [];
    const env: string[] = [];
    for (const l of c.record.hostConfig.Links ?? []) {
      const { target, alias } = parseLink(l);
      const child = this.m.store.find(target);
      const linkName = `/${c.name}/${alias}`;
      if (!child) throw new InvalidParameterError(`could not get container for ${target}: No such container: ${target}`);
      if (!child.isRunning()) throw new ConflictError(`Cannot link to a non running container: /${child.name} AS ${linkName}`);
      const ep = child.record.networks.bridge;
      if (!ep?.IPAddress) throw new ConflictError(`Cannot link to /${child.name}, as it does not belong to the default network`);
      const names = [alias, child.record.config.Hostname];
      if (alias !== child.name) names.push(child.name);
      hosts.push({ ip: ep.IPAddress, names });
      env.push(...linkEnv(linkName, ep.IPAddress, child.record.config.Env ?? [], child.record.config.ExposedPorts));
    }
    return { hosts, env };
  }

  /**
   * Plumbs a prepared sandbox's endpoints, in the background: called once conmon is spawned, so the
   * forks for `ip` come after the one that starts runc, and the work overlaps `runc create`.
   */
  startPlumbing(c: Container): void {
    const sb = this.boxes.get(c.id);
    if (!sb?.netns || sb.plumbing) return;
    sb.plumbing = this.plumb(c, sb);
    sb.plumbing.catch(() => undefined);
  }

  /** The container's veth pairs, into the namespace berthd made for it (loopback up, eth0 with the default route). */
  private async plumb(c: Container, sb: Sandbox): Promise<void> {
    let gatewaySet = false;
    for (const [i, e] of sb.endpoints.entries()) {
      const b = this.m.bridgeNet(e.network)!;
      const ep = c.record.networks[e.network]!;
      const withGateway = !gatewaySet && !b.record.Internal;
      if (withGateway) gatewaySet = true;
      await plumbEndpoint({ netns: sb.netns, hostIf: e.hostIf, ifName: e.ifName, bridge: b.bridge, ip: e.ip, subnet: b.subnet, mac: ep.MacAddress, ...(withGateway ? { gateway: b.gateway } : {}), ...ip6Plumbing(b, e, withGateway), setupLoopback: i === 0 });
      e.plumbed = true;
    }
    sb.portsLive = true;
    if (sb.ports.length > 0) await this.m.syncFirewall();
  }

  private netnsFile(id: string): string {
    return path.join(this.m.config.execRoot, 'netns', id);
  }

  /** After `runc create`, before the process runs: the endpoints are ready and the ports published. */
  async attach(c: Container, pid: number): Promise<void> {
    const sb = this.boxes.get(c.id);
    if (!sb) return;
    const started = performance.now();
    sb.pid = pid;
    // With --network none, runc made the namespace and brought its loopback up (as it does for
    // every network namespace it creates): nothing to do here.
    this.startPlumbing(c);
    await sb.plumbing;
    c.record.sandboxKey = sb.netns || `/proc/${pid}/ns/net`;
    for (const e of sb.endpoints) this.event('connect', c, e.network);
    await this.updateLinkingContainers(c);
    this.m.log.debug('container network attached', { container: c.id.slice(0, 12), endpoints: sb.endpoints.length, ports: sb.ports.length, ms: (performance.now() - started).toFixed(1) });
  }

  /** When the container exited (or its start failed): gives back addresses, ports and interfaces. */
  async release(c: Container): Promise<void> {
    const sb = this.boxes.get(c.id);
    this.boxes.delete(c.id);
    const r = c.record;
    if (sb?.netns) {
      // A start that failed mid-plumbing: let the ip commands finish before the namespace goes.
      await sb.plumbing?.catch(() => undefined);
      await removeNetns(sb.netns).catch((err) => this.m.log.warn('could not remove a network namespace', { file: sb.netns, err: messageOf(err) }));
    }
    if (sb) {
      for (const e of sb.endpoints) {
        if (!e.plumbed) continue;
        // The kernel removes the veth with the container's namespace. Without a namespace of ours
        // (containers started by an older berthd) this catches one that outlived the container;
        // the exit path does not wait for it (names are never reused).
        if (!sb.netns) void deleteLink(e.hostIf).catch((err) => this.m.log.warn('could not remove veth', { veth: e.hostIf, err: messageOf(err) }));
        this.event('disconnect', c, e.network);
      }
      const leases = () => {
        for (const e of sb.endpoints) {
          const b = this.m.bridgeNet(e.network);
          b?.pool.release(e.ip);
          if (e.ip6 !== undefined) b?.v6?.pool.release(e.ip6);
        }
      };
      for (const p of sb.ports) this.m.ports.release(p);
      void this.m.publisher.unpublish(c.id, announcedPorts(sb.ports));
      if (sb.ports.length > 0) {
        // The rules go in the background (the exit path need not wait for iptables); the addresses
        // are leased again only once no rule can send a published port's traffic to them.
        void this.m
          .syncFirewall()
          .catch((err) => this.m.log.warn('firewall update failed', { err: messageOf(err) }))
          .finally(leases);
      } else leases();
    }
    for (const ep of Object.values(r.networks)) clearRuntime(ep);
    r.ports = {};
    r.sandboxKey = '';
  }

  /** After a daemon restart: takes back what running containers hold, from their records. */
  async restore(): Promise<void> {
    for (const c of this.m.store.all()) {
      if (!c.isRunning() || this.boxes.has(c.id)) continue;
      const r = c.record;
      const mode = r.hostConfig.NetworkMode;
      if (mode === 'host' || mode.startsWith('container:')) continue;
      const netns = this.netnsFile(c.id);
      const sb: Sandbox = { id: c.id, pid: r.state.pid, netns: fs.existsSync(netns) ? netns : '', portsLive: true, endpoints: [], ports: [], portIp: '', portIp6: '', portNetwork: '', extraHosts: [] };
      for (const [name, ep] of Object.entries(r.networks)) {
        const b = this.m.bridgeNet(name);
        if (!b || !ep.IPAddress) continue;
        const ip = parseIp(ep.IPAddress);
        try {
          b.pool.claim(ip);
        } catch (err) {
          this.m.log.warn('restored container address is taken', { container: c.id.slice(0, 12), ip: ep.IPAddress, err: messageOf(err) });
        }
        let ip6: bigint | undefined;
        if (b.v6 && ep.GlobalIPv6Address) {
          ip6 = parseIp6(ep.GlobalIPv6Address);
          try {
            b.v6.pool.claim(ip6);
          } catch (err) {
            this.m.log.warn('restored container IPv6 address is taken', { container: c.id.slice(0, 12), ip: ep.GlobalIPv6Address, err: messageOf(err) });
          }
        }
        sb.endpoints.push({ network: name, ip, ...(ip6 !== undefined ? { ip6 } : {}), hostIf: hostIfFor(ep.EndpointID), ifName: '', plumbed: true });
      }
      const gw = sb.endpoints.find((e) => !this.m.bridgeNet(e.network)!.record.Internal);
      if (gw) setPortEndpoint(sb, gw);
      for (const [key, list] of Object.entries(r.ports ?? {})) {
        const [num = '0', proto = 'tcp'] = key.split('/');
        for (const b of list ?? []) {
          const h: HeldPort = { proto: proto as HeldPort['proto'], hostIp: b.HostIp || '0.0.0.0', hostPort: Number(b.HostPort), containerPort: Number(num) };
          try {
            await this.m.ports.restore(h);
          } catch (err) {
            this.m.log.warn('could not re-reserve a published port', { container: c.id.slice(0, 12), port: `${h.hostIp}:${h.hostPort}/${h.proto}`, err: messageOf(err) });
          }
          sb.ports.push(h);
          this.forwardHeld(sb, h);
        }
      }
      // A restarted berthd tells the publisher again (it may have restarted too); refusals only log.
      await this.m.publisher.publish(c.id, announcedPorts(sb.ports)).catch((err) => this.m.log.warn('could not publish a restored port', { container: c.id.slice(0, 12), err: messageOf(err) }));
      this.boxes.set(c.id, sb);
    }
    // Namespaces of containers that are gone (they exited while berthd was down, or a start was cut short).
    const dir = path.join(this.m.config.execRoot, 'netns');
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    for (const name of fs.readdirSync(dir)) {
      if (this.boxes.get(name)?.netns) continue;
      await removeNetns(path.join(dir, name)).catch((err) => this.m.log.warn('could not remove a stale network namespace', { name, err: messageOf(err) }));
    }
  }

  /** Host-side interface names of live endpoints (everything else on our bridges is stale). */
  hostInterfaces(): Set<string> {
    const out = new Set<string>();
    for (const sb of this.boxes.values()) for (const e of sb.endpoints) out.add(e.hostIf);
    return out;
  }

  /**
   * The DNAT rules of published ports: IPv4 ports to the container's IPv4 address, IPv6 ones to its
   * IPv6 address (ip6tables). An IPv6 port of a container without one has no rule: its held socket
   * relays it (forwardHeld), as dockerd's userland proxy does.
   */
  portRules(): PortRule[] {
    const out: PortRule[] = [];
    for (const sb of this.boxes.values()) {
      if (!sb.portIp || !sb.portsLive) continue;
      for (const p of sb.ports) {
        const v6 = isV6Address(p.hostIp);
        if (v6 && !sb.portIp6) continue;
        out.push({ proto: p.proto, hostIp: p.hostIp, hostPort: p.hostPort, containerIp: v6 ? sb.portIp6 : sb.portIp, containerPort: p.containerPort });
      }
    }
    return out;
  }

  /** The implicit "::" sibling takes the port its 0.0.0.0 request got; when that is taken on IPv6, any port of the request. */
  private async reserveTwin(req: PortRequest, port: number): Promise<HeldPort> {
    try {
      return await this.m.ports.reserve({ ...req, hostPortStart: port, hostPortEnd: port });
    } catch (err) {
      if (req.hostPortStart !== 0 && req.hostPortStart === req.hostPortEnd) throw err;
      return this.m.ports.reserve(req);
    }
  }

  /** An IPv6 TCP port's held socket relays what the kernel does not DNAT ([::1], or a container without IPv6). */
  private forwardHeld(sb: Sandbox, h: HeldPort): void {
    if (h.proto !== 'tcp' || !isV6Address(h.hostIp) || !sb.portIp) return;
    this.m.ports.forward(h, { host: sb.portIp6 || sb.portIp, port: h.containerPort });
  }

  /** Containers linking to `child` get its (new) address in their /etc/hosts. */
  private async updateLinkingContainers(child: Container): Promise<void> {
    for (const p of this.m.store.all()) {
      if (p.id === child.id || !p.isRunning() || !(p.record.hostConfig.Links ?? []).some((l) => parseLink(l).target === child.name)) continue;
      const sb = this.boxes.get(p.id);
      if (!sb) continue;
      await this.rewriteHosts(p, sb).catch((err) => this.m.log.warn('could not update /etc/hosts of a linking container', { container: p.id.slice(0, 12), err: messageOf(err) }));
    }
  }

  private async rewriteHosts(c: Container, sb: Sandbox): Promise<void> {
    let links: HostsEntry[] = [];
    if (c.record.hostConfig.NetworkMode === 'bridge') {
      for (const l of c.record.hostConfig.Links ?? []) {
        const { target, alias } = parseLink(l);
        const child = this.m.store.find(target);
        const ip = child?.isRunning() ? child.record.networks.bridge?.IPAddress : undefined;
        if (!child || !ip) continue;
        const names = [alias, child.record.config.Hostname];
        if (alias !== child.name) names.push(child.name);
        links.push({ ip, names });
      }
    } else links = [];
    await rewriteInPlace(etcPaths(this.m.store.dir(c.id)).hosts, hostsContent(this.ownEntries(c, sb), sb.extraHosts, links));
  }

  // ---- connect / disconnect --------------------------------------------------------------

  async connect(n: NetworkRecord, c: Container, req: Partial<EndpointSettings>): Promise<void> {
    await c.lock.run(async () => {
      const r = c.record;
      const mode = r.hostConfig.NetworkMode;
      if (c.status === 'removing' || c.status === 'dead' || c.removed) throw new ConflictError(`Container ${c.id} is marked for removal and cannot be connected or disconnected to the network`);
      if (n.Driver === 'host' || mode === 'host') throw new ForbiddenError('container cannot be disconnected from host network or connected to host network');
      if (mode.startsWith('container:')) throw new InvalidParameterError('container sharing network namespace with another container or host cannot be connected to any other network');
      if (r.networks[n.Name]) throw new ForbiddenError(`endpoint with name ${c.name} already exists in network ${n.Name}`);
      if (n.Driver === 'null' || mode === 'none' || r.networks.none) throw new InvalidParameterError('container cannot be connected to multiple networks with one of the networks in private (none) mode');
      const ep = emptyEndpoint(n.Id);
      if (req.Aliases) ep.Aliases = req.Aliases;
      if (req.IPAMConfig) ep.IPAMConfig = req.IPAMConfig;
      if (req.Links) ep.Links = req.Links;
      if (req.MacAddress) ep.MacAddress = req.MacAddress;
      if (req.DriverOpts) ep.DriverOpts = req.DriverOpts;
      this.validateEndpoint(n, ep);
      if (c.isRunning()) {
        const sb = this.boxes.get(c.id);
        const b = this.m.bridgeNet(n.Name);
        if (!sb || !b || sb.pid === 0) throw new ConflictError(`container ${c.id} has no network namespace to connect`);
        const e = this.addEndpoint(c, sb, b, ep);
        try {
          const first = sb.endpoints.length === 1 && !b.record.Internal;
          await plumbEndpoint({ netns: sb.netns || `/proc/${sb.pid}/ns/net`, hostIf: e.hostIf, ifName: e.ifName, bridge: b.bridge, ip: e.ip, subnet: b.subnet, mac: ep.MacAddress, setupLoopback: false, ...(first ? { gateway: b.gateway } : {}), ...ip6Plumbing(b, e, first) });
          e.plumbed = true;
        } catch (err) {
          sb.endpoints = sb.endpoints.filter((x) => x !== e);
          b.pool.release(e.ip);
          if (e.ip6 !== undefined) b.v6?.pool.release(e.ip6);
          throw err;
        }
        r.networks[n.Name] = ep;
        await this.rewriteHosts(c, sb).catch(() => undefined);
        this.event('connect', c, n.Name);
      } else {
        r.networks[n.Name] = ep;
      }
      await this.m.store.save(c);
    });
  }

  async disconnect(n: NetworkRecord, c: Container): Promise<void> {
    await c.lock.run(async () => {
      const r = c.record;
      if (c.status === 'removing' || c.status === 'dead' || c.removed) throw new ConflictError(`Container ${c.id} is marked for removal and cannot be connected or disconnected to the network`);
      if (n.Driver === 'host' && r.hostConfig.NetworkMode === 'host') throw new InvalidParameterError('cannot disconnect container from host network - container was created in host network mode');
      if (!r.networks[n.Name]) throw new ConflictError(`container ${c.id} is not connected to network ${n.Name}`);
      const sb = this.boxes.get(c.id);
      const e = sb?.endpoints.find((x) => x.network === n.Name);
      if (sb && e) {
        await deleteLink(e.hostIf);
        this.m.bridgeNet(n.Name)?.pool.release(e.ip);
        if (e.ip6 !== undefined) this.m.bridgeNet(n.Name)?.v6?.pool.release(e.ip6);
        sb.endpoints = sb.endpoints.filter((x) => x !== e);
        if (sb.portNetwork === n.Name) {
          for (const p of sb.ports) this.m.ports.release(p);
          void this.m.publisher.unpublish(c.id, announcedPorts(sb.ports));
          sb.ports = [];
          sb.portIp = '';
          sb.portIp6 = '';
          sb.portNetwork = '';
          r.ports = portMap(r.config.ExposedPorts, r.hostConfig.PortBindings ?? {}, []);
          await this.m.syncFirewall();
        }
        delete r.networks[n.Name];
        await this.rewriteHosts(c, sb).catch(() => undefined);
        this.event('disconnect', c, n.Name);
      } else delete r.networks[n.Name];
      await this.m.store.save(c);
    });
  }

  /** disconnect --force of a network that no longer exists. */
  async forget(c: Container, name: string): Promise<void> {
    await c.lock.run(async () => {
      delete c.record.networks[name];
      await this.m.store.save(c);
    });
  }

  // ---- embedded DNS -----------------------------------------------------------------------

  dnsBackend(network: string): DnsBackend {
    return {
      resolve: (client, name, type) => this.resolve(network, client, name, type),
      upstreams: (client) => this.upstreams(network, client),
    };
  }

  private clientOf(ip: string): { sb: Sandbox; c: Container } | undefined {
    let n: number;
    try {
      n = parseIp(ip.replace(/^::ffff:/, ''));
    } catch {
      return undefined;
    }
    for (const sb of this.boxes.values()) {
      if (sb.endpoints.some((e) => e.ip === n)) {
        const c = this.m.store.find(sb.id);
        if (c) return { sb, c };
      }
    }
    return undefined;
  }

  private resolve(network: string, client: string, name: string, type: 'A' | 'PTR'): LocalAnswer {
    const who = this.clientOf(client);
    // Names resolve on every user-defined network the asking container is on.
    const nets = who ? who.sb.endpoints.map((e) => e.network).filter((n) => n !== 'bridge') : [network];
    if (nets.length === 0) nets.push(network);
    if (type === 'PTR') {
      const m = /^(\d+)\.(\d+)\.(\d+)\.(\d+)\.in-addr\.arpa$/.exec(name);
      if (!m) return undefined;
      const ip = parseIp(`${m[4]}.${m[3]}.${m[2]}.${m[1]}`);
      for (const sb of this.boxes.values()) {
        const e = sb.endpoints.find((x) => x.ip === ip && nets.includes(x.network));
        const c = e ? this.m.store.find(sb.id) : undefined;
        if (e && c) return { kind: 'ptr', name: `${c.name}.${e.network}` };
      }
      return undefined;
    }
    const ips = new Set<string>();
    const ips6 = new Set<string>();
    // Link aliases of the asking container (links on user-defined networks).
    if (who) {
      for (const netName of nets) {
        for (const l of who.c.record.networks[netName]?.Links ?? []) {
          const { target, alias } = parseLink(l);
          if (alias.toLowerCase() !== name) continue;
          const t = this.m.store.find(target);
          const ep = t?.isRunning() ? t.record.networks[netName] : undefined;
          if (ep?.IPAddress) ips.add(ep.IPAddress);
          if (ep?.GlobalIPv6Address) ips6.add(ep.GlobalIPv6Address);
        }
      }
    }
    for (const sb of this.boxes.values()) {
      if (sb.pid === 0) continue;
      const c = this.m.store.find(sb.id);
      if (!c) continue;
      for (const e of sb.endpoints) {
        if (!nets.includes(e.network)) continue;
        const ep = c.record.networks[e.network];
        const names = [c.name, c.id.slice(0, 12), ...(ep?.Aliases ?? [])].map((x) => x.toLowerCase());
        if (names.includes(name) || names.some((x) => `${x}.${e.network.toLowerCase()}` === name)) {
          ips.add(formatIp(e.ip));
          if (e.ip6 !== undefined) ips6.add(formatIp6(e.ip6));
        }
      }
    }
    return ips.size > 0 || ips6.size > 0 ? { kind: 'a', ips: [...ips], ips6: [...ips6] } : undefined;
  }

  private upstreams(network: string, client: string): string[] {
    const b = this.m.bridgeNet(network);
    if (!b || b.record.Internal) return [];
    const who = this.clientOf(client);
    // A container on an internal network asking through another network's server gets no forwarding either.
    if (who && who.sb.endpoints.every((e) => this.m.bridgeNet(e.network)?.record.Internal)) return [];
    const own = new Set(this.m.allBridges().map((x) => formatIp(x.gateway)));
    const dns = who?.c.record.hostConfig.Dns?.length ? who.c.record.hostConfig.Dns : this.m.config.dns.length > 0 ? this.m.config.dns : hostNameservers();
    return dns.filter((s) => !own.has(s));
  }

  private event(action: 'connect' | 'disconnect', c: Container, network: string): void {
    const n = this.m.find(network);
    if (!n) return;
    this.m.events.publish('network', action, n.Id, { container: c.id, name: n.Name, type: n.Driver });
  }
}

function clearRuntime(ep: EndpointSettings): void {
  // A MAC derived from the lease goes with it; one the user asked for stays.
  if (ep.IPAddress && ep.MacAddress === macFor(parseIp(ep.IPAddress))) ep.MacAddress = '';
  ep.EndpointID = '';
  ep.Gateway = '';
  ep.IPAddress = '';
  ep.IPPrefixLen = 0;
  ep.GlobalIPv6Address = '';
  ep.GlobalIPv6PrefixLen = 0;
  ep.IPv6Gateway = '';
  ep.DNSNames = null;
}

/** The IPv6 part of an endpoint's plumbing on a dual-stack network. */
function ip6Plumbing(b: BridgeNet, e: Endpoint, withGateway: boolean): { ip6?: { address: string; prefix: number; gateway?: string } } {
  if (!b.v6 || e.ip6 === undefined) return {};
  return { ip6: { address: formatIp6(e.ip6), prefix: b.v6.subnet.prefix, ...(withGateway ? { gateway: formatIp6(b.v6.gateway) } : {}) } };
}

/** "name:ip" from --add-host (the IP may be IPv6, or "host-gateway"). */
export function parseExtraHost(spec: string): { host: string; ip: string } {
  const i = spec.indexOf(':');
  const eq = spec.indexOf('=');
  const at = eq >= 0 && (i < 0 || eq < i) ? eq : i;
  if (at <= 0) throw new InvalidParameterError(`bad format for add-host: "${spec}"`);
  const host = spec.slice(0, at);
  const ip = spec.slice(at + 1).replace(/^\[(.*)\]$/, '$1');
  if (ip !== HOST_GATEWAY && !net.isIP(ip)) throw new InvalidParameterError(`invalid IP address in add-host: "${ip}"`);
  return { host, ip };
}

/** A file a container can write (capped, never blocking: storage/confined.ts), or the fallback. */
async function readContainerEtc(file: string, fallback: string): Promise<string> {
  try {
    return (await readUntrustedFile(file, { maxBytes: MiB }))?.toString('utf8') ?? fallback;
  } catch {
    return fallback;
  }
}

function readOr(file: string, fallback: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return fallback;
  }
}
