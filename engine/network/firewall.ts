/**
 * berthd's iptables rules: outbound NAT, published ports (kernel DNAT for
 * every path, loopback and hairpin included: no proxy process), isolation
 * between networks and of internal networks.
 *
 * All rules live in chains named after this daemon's default bridge, jumped
 * to from the built-in chains, so several engines (or several berthd
 * instances) share a host without touching each other's rules. The chains
 * are rewritten as a whole from the desired state in one iptables-restore
 * transaction: what is not in the state does not exist afterwards, which is
 * also how a restart after a crash drops rules of containers that died.
 *
 * IPv6 gets the same chains through ip6tables, for dual-stack bridges and ports published on an
 * IPv6 host address, except that [::1] is never DNAT'ed (the kernel has no route_localnet for
 * IPv6: a packet from ::1 may not leave the host's loopback) — the held socket relays it instead
 * (ports.ts), as dockerd's userland proxy does.
 */
import { run, type CommandResult } from '../system/command.js';
import { CoalescedRun } from '../concurrency/coalesced-run.js';
import { Mutex } from '../concurrency/mutex.js';

export interface BridgeRules {
  name: string;
  subnet: string;
  /** Its IPv6 subnet on a dual-stack network. */
  subnet6?: string;
  internal: boolean;
}

export type Family = 4 | 6;

export interface PortRule {
  proto: 'tcp' | 'udp';
  /** '' or 0.0.0.0 for every IPv4 host address, '::' for every IPv6 one. */
  hostIp: string;
  hostPort: number;
  /** Of the host address's family. */
  containerIp: string;
  containerPort: number;
}

export interface FirewallState {
  bridges: BridgeRules[];
  ports: PortRule[];
}

export interface ChainNames {
  dnat: string;
  post: string;
  fwd: string;
  iso: string;
  raw: string;
}

/** Chain names for a daemon, derived from its default bridge (iptables allows 28 characters). */
export function chainNames(bridge: string): ChainNames {
  const tag = bridge.replace(/[^A-Za-z0-9_.-]/g, '_').slice(0, 15);
  return { dnat: `BERTH-${tag}`, post: `BERTH-${tag}-POST`, fwd: `BERTH-${tag}-FWD`, iso: `BERTH-${tag}-ISO`, raw: `BERTH-${tag}-RAW` };
}

export interface Jump {
  table: 'nat' | 'filter' | 'raw';
  chain: string;
  spec: string[];
  insert: boolean;
}

const loopback = (f: Family): string => (f === 4 ? '127.0.0.0/8' : '::1/128');

/** The rules in built-in chains that lead to this daemon's chains. */
export function jumps(c: ChainNames, family: Family = 4): Jump[] {
  const lo = loopback(family);
  return [
    // Not for 127/8 arriving from outside: a packet to 127.0.0.1 from another host must stay a dropped martian.
    { table: 'nat', chain: 'PREROUTING', spec: ['-m', 'addrtype', '--dst-type', 'LOCAL', '!', '-d', lo, '-j', c.dnat], insert: false },
    // IPv4 DNATs 127.0.0.1 too (route_localnet on the bridges); IPv6 cannot, so [::1] reaches the held socket.
    { table: 'nat', chain: 'OUTPUT', spec: ['-m', 'addrtype', '--dst-type', 'LOCAL', ...(family === 6 ? ['!', '-d', lo] : []), '-j', c.dnat], insert: false },
    { table: 'nat', chain: 'POSTROUTING', spec: ['-j', c.post], insert: true },
    { table: 'filter', chain: 'FORWARD', spec: ['-j', c.fwd], insert: true },
    { table: 'raw', chain: 'PREROUTING', spec: ['-j', c.raw], insert: true },
  ];
}

/** The daemon's own chains, by table (what a teardown flushes and deletes). */
export function ownChains(c: ChainNames): Array<[table: Jump['table'], chain: string]> {
  return [
    ['raw', c.raw],
    ['nat', c.dnat],
    ['nat', c.post],
    ['filter', c.fwd],
    ['filter', c.iso],
  ];
}

/**
 * The chains' restore input plus, in each table's transaction, the jumps: every rule of a built-in
 * chain that leads to one of this daemon's chains in `saved` (iptables-save's output; a crashed
 * daemon may have left several) is deleted by its saved text, then one of each is added.
 */
export function withJumps(rules: string, c: ChainNames, family: Family, saved: string): string {
  const own = new Set(ownChains(c).map(([, chain]) => chain));
  const extra = new Map<string, string[]>();
  const add = (table: string, line: string) => extra.set(table, [...(extra.get(table) ?? []), line]);
  let table = '';
  for (const line of saved.split('\n')) {
    if (line.startsWith('*')) table = line.slice(1).trim();
    if (!line.startsWith('-A ')) continue;
    const words = line.trim().split(/\s+/);
    const target = words[words.indexOf('-j') + 1];
    if (words.includes('-j') && target !== undefined && own.has(target) && !own.has(words[1]!)) add(table, `-D ${words.slice(1).join(' ')}`);
  }
  for (const j of jumps(c, family)) add(j.table, `${j.insert ? '-I' : '-A'} ${j.chain} ${j.spec.join(' ')}`);
  const out: string[] = [];
  table = '';
  for (const line of rules.split('\n')) {
    if (line.startsWith('*')) table = line.slice(1).trim();
    if (line === 'COMMIT') {
      out.push(...(extra.get(table) ?? []));
      extra.delete(table);
    }
    out.push(line);
  }
  if (extra.size > 0) throw new Error(`no ${[...extra.keys()].join(', ')} table in the rules`);
  return out.join('\n');
}

const isV6 = (ip: string): boolean => ip.includes(':');

/** The chains' content for one family: IPv6 covers dual-stack bridges and ports on IPv6 host addresses. */
export function renderRules(c: ChainNames, s: FirewallState, family: Family = 4): string {
  const raw: string[] = [];
  const nat: string[] = [];
  const post: string[] = [];
  const fwd: string[] = [];
  const iso: string[] = [];
  const bridges = s.bridges.flatMap((b) => (family === 4 ? [b] : b.subnet6 ? [{ ...b, subnet: b.subnet6 }] : []));
  for (const b of bridges) {
    // Containers have CAP_NET_RAW: a crafted packet to the loopback via the bridge must not reach host-local services.
    raw.push(`-A ${c.raw} -i ${b.name} -d ${loopback(family)} -j DROP`);
    if (!b.internal) post.push(`-A ${c.post} -s ${b.subnet} ! -o ${b.name} -j MASQUERADE`);
    // Published ports reached from the host's own addresses (127.0.0.1 as source needs rewriting) and hairpin traffic.
    post.push(`-A ${c.post} -o ${b.name} -m addrtype --src-type LOCAL -j MASQUERADE`);
    post.push(`-A ${c.post} -s ${b.subnet} -o ${b.name} -m conntrack --ctstate DNAT -j MASQUERADE`);
    iso.push(`-A ${c.iso} -o ${b.name} -j DROP`);
  }
  for (const b of bridges) {
    if (b.internal) {
      fwd.push(`-A ${c.fwd} -i ${b.name} ! -o ${b.name} -j DROP`);
      fwd.push(`-A ${c.fwd} -o ${b.name} ! -i ${b.name} -j DROP`);
      fwd.push(`-A ${c.fwd} -i ${b.name} -o ${b.name} -j ACCEPT`);
      continue;
    }
    // Separate networks never talk to each other, except through a published port (DNAT'ed connections).
    fwd.push(`-A ${c.fwd} -i ${b.name} ! -o ${b.name} -m conntrack ! --ctstate DNAT -j ${c.iso}`);
    fwd.push(`-A ${c.fwd} -o ${b.name} -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT`);
    fwd.push(`-A ${c.fwd} -i ${b.name} -o ${b.name} -j ACCEPT`);
    fwd.push(`-A ${c.fwd} -i ${b.name} ! -o ${b.name} -j ACCEPT`);
    fwd.push(`-A ${c.fwd} -o ${b.name} -m conntrack --ctstate DNAT -j ACCEPT`);
    // Unpublished ports are not reachable by routing to the container address from outside.
    fwd.push(`-A ${c.fwd} -o ${b.name} -j DROP`);
  }
  for (const p of s.ports) {
    if (isV6(p.hostIp || '0.0.0.0') !== (family === 6) || isV6(p.containerIp) !== (family === 6)) continue;
    const any = family === 4 ? '0.0.0.0' : '::';
    const dst = p.hostIp && p.hostIp !== any ? ` -d ${p.hostIp}/${family === 4 ? 32 : 128}` : '';
    const to = family === 4 ? `${p.containerIp}:${p.containerPort}` : `[${p.containerIp}]:${p.containerPort}`;
    nat.push(`-A ${c.dnat}${dst} -p ${p.proto} -m ${p.proto} --dport ${p.hostPort} -j DNAT --to-destination ${to}`);
  }
  return [
    '*raw',
    `:${c.raw} - [0:0]`,
    ...raw,
    'COMMIT',
    '*nat',
    `:${c.dnat} - [0:0]`,
    `:${c.post} - [0:0]`,
    ...nat,
    ...post,
    'COMMIT',
    '*filter',
    `:${c.fwd} - [0:0]`,
    `:${c.iso} - [0:0]`,
    ...fwd,
    ...iso,
    'COMMIT',
    '',
  ].join('\n');
}

export class Firewall {
  readonly chains: ChainNames;
  private readonly lock = new Mutex();
  private readonly writes = new CoalescedRun(() =>
    this.lock.run(async () => {
      const state = this.state();
      for (const f of this.families) await restore(f, renderRules(this.chains, state, f));
    }),
  );
  /** The families with working tables (IPv6 is skipped on a host without ip6tables' nat table). */
  private families: Family[] = [4];

  constructor(
    bridge: string,
    private readonly state: () => FirewallState,
  ) {
    this.chains = chainNames(bridge);
  }

  /** Whether IPv6 rules are written (after init). */
  get ipv6(): boolean {
    return this.families.includes(6);
  }

  /**
   * Creates the chains and makes sure each built-in chain jumps to them exactly once: per family one
   * iptables-save and one iptables-restore (not a delete/insert exec per jump: in the VM, under
   * software emulation, each iptables exec took most of a second and the 23 of them 17 s of the boot).
   */
  async init(): Promise<void> {
    await this.lock.run(async () => {
      const v6 = await tables(6, ['-t', 'nat', '-S', 'OUTPUT']).then(
        () => true,
        () => false,
      );
      this.families = v6 ? [4, 6] : [4];
      for (const f of this.families) {
        const saved = (await save(f)).stdout;
        await restore(f, withJumps(renderRules(this.chains, { bridges: [], ports: [] }, f), this.chains, f, saved));
      }
    });
  }

  /**
   * Rewrites the chains from the current state. Concurrent callers are
   * coalesced: whoever calls while a write runs is served by the next write,
   * which reads the state when it starts.
   */
  sync(): Promise<void> {
    return this.writes.run();
  }

  /** Removes the jumps and the chains (used when berthd is uninstalled or by test cleanup). */
  async teardown(): Promise<void> {
    await this.lock.run(async () => {
      for (const f of [4, 6] as const) {
        for (const j of jumps(this.chains, f)) while (await tables(f, ['-t', j.table, '-D', j.chain, ...j.spec]).then(() => true, () => false));
        for (const [table, chain] of ownChains(this.chains)) {
          await tables(f, ['-t', table, '-F', chain]).catch(() => undefined);
          await tables(f, ['-t', table, '-X', chain]).catch(() => undefined);
        }
      }
    });
  }
}

function tables(family: Family, args: string[]): Promise<unknown> {
  return run(family === 4 ? 'iptables' : 'ip6tables', ['-w', ...args]);
}

function save(family: Family): Promise<CommandResult> {
  return run(family === 4 ? 'iptables-save' : 'ip6tables-save', []);
}

function restore(family: Family, rules: string): Promise<unknown> {
  return run(family === 4 ? 'iptables-restore' : 'ip6tables-restore', ['-w', '--noflush'], { input: rules });
}
