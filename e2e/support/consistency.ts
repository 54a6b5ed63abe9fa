/**
 * Does what a test daemon says about its containers match what exists on the host? Every
 * record is checked against monitors (conmon processes), runc state, root filesystem
 * mounts, network namespaces and veths, and everything on the host that belongs to this
 * daemon must belong to a record. Used by the race and crash tests and bench/engine-races.ts.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

export interface DaemonPaths {
  dataRoot: string;
  execRoot: string;
  /** The daemon's default bridge. */
  bridge: string;
  /** Runs `docker` against the daemon; resolves with stdout. */
  docker(args: string[]): Promise<{ code: number; stdout: string; stderr: string }>;
}

export interface ContainerFacts {
  id: string;
  status: string;
  pid: number;
  networkMode: string;
}

export interface HostFacts {
  /** Container IDs with a live conmon (by its -c argument). */
  monitors: Map<string, number>;
  runcState: Set<string>;
  rootfsMounts: Set<string>;
  netns: Set<string>;
  veths: number;
  /** Mount points under the daemon's roots that are neither rootfs nor netns (volumes). */
  otherMounts: string[];
}

function alive(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

export function hostFacts(d: Pick<DaemonPaths, 'dataRoot' | 'execRoot' | 'bridge'>): HostFacts {
  const monitors = new Map<string, number>();
  for (const p of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(p)) continue;
    let args: string[];
    try {
      args = fs.readFileSync(`/proc/${p}/cmdline`, 'utf8').split('\0');
    } catch {
      continue;
    }
    if (!args[0]?.endsWith('conmon') || !args.some((a) => a.startsWith(d.execRoot + '/'))) continue;
    // Exec sessions run their own conmon with -e; only containers' monitors count here.
    if (args.includes('-e') || !alive(Number(p))) continue;
    const id = args[args.indexOf('-c') + 1];
    if (id) monitors.set(id, Number(p));
  }
  const runcRoot = path.join(d.execRoot, 'runc');
  const runcState = new Set(fs.existsSync(runcRoot) ? fs.readdirSync(runcRoot).filter((n) => /^[a-f0-9]{64}$/.test(n)) : []);
  const mountPoints = fs
    .readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((l) => l.split(' ')[4] ?? '')
    .filter((m) => m.startsWith(d.dataRoot) || m.startsWith(d.execRoot));
  const rootfsMounts = new Set<string>();
  const otherMounts: string[] = [];
  const ovl = path.join(d.dataRoot, 'overlay', 'containers') + '/';
  const nsDir = path.join(d.execRoot, 'netns') + '/';
  for (const m of mountPoints) {
    if (m.startsWith(ovl) && m.endsWith('/merged')) rootfsMounts.add(m.slice(ovl.length, -'/merged'.length));
    else if (!m.startsWith(nsDir)) otherMounts.push(m);
  }
  const netnsDir = path.join(d.execRoot, 'netns');
  const netns = new Set(fs.existsSync(netnsDir) ? fs.readdirSync(netnsDir) : []);
  const links = JSON.parse(execFileSync('ip', ['-j', 'link', 'show'], { encoding: 'utf8' })) as Array<{ ifname: string; master?: string }>;
  const veths = links.filter((l) => l.master === d.bridge).length;
  return { monitors, runcState, rootfsMounts, netns, veths, otherMounts };
}

export async function containerFacts(d: DaemonPaths): Promise<ContainerFacts[]> {
  const ids = (await d.docker(['ps', '-aq', '--no-trunc'])).stdout.split('\n').filter(Boolean);
  if (ids.length === 0) return [];
  const r = await d.docker(['inspect', '-f', '{{.Id}} {{.State.Status}} {{.State.Pid}} {{.HostConfig.NetworkMode}}', ...ids]);
  return r.stdout
    .split('\n')
    .filter(Boolean)
    .map((l) => {
      const [id = '', status = '', pid = '0', networkMode = ''] = l.split(' ');
      return { id, status, pid: Number(pid), networkMode };
    });
}

/** What does not match; empty when the daemon's records and the host agree. */
export async function inconsistencies(d: DaemonPaths): Promise<string[]> {
  const containers = await containerFacts(d);
  const host = hostFacts(d);
  const problems: string[] = [];
  const known = new Set(containers.map((c) => c.id));
  let bridged = 0;
  for (const c of containers) {
    const short = `${c.id.slice(0, 12)} (${c.status})`;
    const running = c.status === 'running' || c.status === 'paused';
    if (running) {
      if (!alive(c.pid)) problems.push(`${short}: its process ${c.pid} is gone`);
      if (!host.monitors.has(c.id)) problems.push(`${short}: no monitor`);
      if (c.networkMode === 'bridge' || c.networkMode === 'default') bridged++;
    } else {
      if (host.monitors.has(c.id)) problems.push(`${short}: a monitor (pid ${host.monitors.get(c.id)}) runs for it`);
      if (host.runcState.has(c.id)) problems.push(`${short}: runc still has state for it`);
      if (host.rootfsMounts.has(c.id)) problems.push(`${short}: its root filesystem is still mounted`);
      if (host.netns.has(c.id)) problems.push(`${short}: its network namespace is still there`);
    }
  }
  for (const [id, pid] of host.monitors) if (!known.has(id)) problems.push(`monitor ${pid} for unknown container ${id.slice(0, 12)}`);
  for (const id of host.runcState) if (!known.has(id)) problems.push(`runc state of unknown container ${id.slice(0, 12)}`);
  for (const id of host.rootfsMounts) if (!known.has(id)) problems.push(`root filesystem of unknown container ${id.slice(0, 12)} is mounted`);
  for (const id of host.netns) if (!known.has(id)) problems.push(`network namespace of unknown container ${id.slice(0, 12)}`);
  if (host.veths !== bridged) problems.push(`${host.veths} veths on ${d.bridge}, ${bridged} running containers on it`);
  return problems;
}
