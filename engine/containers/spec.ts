/**
 * Builds the OCI runtime spec (config.json for runc) from a container's
 * Docker configuration, with Docker's defaults: namespaces, /proc and /dev
 * mounts, masked paths, capabilities, seccomp and cgroup resources.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { HostConfig, Ulimit } from '../api/types.js';
import { defaultSeccompProfile } from '../security/seccomp.js';
import { defaultMaskedPaths, defaultReadonlyPaths } from '../security/paths.js';
import type { ResolvedUser } from './user.js';
import { parseDeviceCgroupRule } from './create-request.js';

export interface OciMount {
  destination: string;
  type: string;
  source: string;
  options: string[];
}

export interface OciDevice {
  type: 'c' | 'b' | 'p';
  path: string;
  major: number;
  minor: number;
  fileMode: number;
  uid: number;
  gid: number;
}

export interface OciProcess {
  terminal: boolean;
  consoleSize?: { height: number; width: number };
  user: { uid: number; gid: number; additionalGids?: number[] };
  args: string[];
  env: string[];
  cwd: string;
  capabilities: { bounding: string[]; effective: string[]; permitted: string[] };
  rlimits?: Array<{ type: string; hard: number; soft: number }>;
  noNewPrivileges?: boolean;
  oomScoreAdj?: number;
}

export interface OciSpec {
  ociVersion: string;
  process: OciProcess;
  root: { path: string; readonly: boolean };
  hostname?: string;
  mounts: OciMount[];
  linux: Record<string, unknown>;
  annotations?: Record<string, string>;
}

export interface SpecInput {
  id: string;
  hostConfig: HostConfig;
  rootfs: string;
  hostname: string;
  tty: boolean;
  args: string[];
  env: string[];
  cwd: string;
  user: ResolvedUser;
  capabilities: string[];
  noNewPrivileges: boolean;
  seccomp: 'default' | 'unconfined' | object;
  ulimits: Ulimit[];
  /** Network namespace to join; undefined means the host's. */
  netnsPath: string | undefined;
  /** Files bind-mounted at /etc/{hosts,hostname,resolv.conf}. */
  etcFiles: { hosts: string; hostname: string; resolvConf: string };
  initBinary?: string;
  extraMounts: OciMount[];
  cgroupsPath: string;
  labels: Record<string, string>;
}

export const INIT_PATH = '/sbin/docker-init';

function rlimitType(name: string): string {
  return `RLIMIT_${name.toUpperCase()}`;
}

/** Host devices for --privileged (Docker exposes every device node). */
function hostDevices(dir = '/dev'): OciDevice[] {
  const out: OciDevice[] = [];
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return out;
  }
  for (const name of names) {
    const p = path.join(dir, name);
    if (p === '/dev/pts' || p === '/dev/shm' || p === '/dev/mqueue' || p === '/dev/console') continue;
    let st: fs.Stats;
    try {
      st = fs.lstatSync(p);
    } catch {
      continue;
    }
    if (st.isDirectory()) out.push(...hostDevices(p));
    else if (st.isCharacterDevice() || st.isBlockDevice()) {
      const rdev = st.rdev;
      const major = Number((BigInt(rdev) >> 8n) & 0xfffn) | Number((BigInt(rdev) >> 32n) & ~0xfffn);
      const minor = Number(BigInt(rdev) & 0xffn) | Number((BigInt(rdev) >> 12n) & ~0xffn);
      if (p === '/dev/ptmx' || p === '/dev/tty') continue;
      out.push({ type: st.isCharacterDevice() ? 'c' : 'b', path: p, major, minor, fileMode: st.mode & 0o7777, uid: st.uid, gid: st.gid });
    }
  }
  return out;
}

function resources(hc: HostConfig): Record<string, unknown> {
  const r: Record<string, unknown> = { devices: [{ allow: false, access: 'rwm' }] };
  if (hc.Privileged) r.devices = [{ allow: true, access: 'rwm' }];
  // --device-cgroup-rule: allowed on top of the default deny (runc adds its standard devices).
  else for (const rule of hc.DeviceCgroupRules ?? []) (r.devices as unknown[]).push({ allow: true, ...parseDeviceCgroupRule(rule) });
  const memory: Record<string, unknown> = {};
  if (hc.Memory > 0) {
    memory.limit = hc.Memory;
    // Docker's default: swap limit = 2 × memory unless set (-1 = unlimited).
    memory.swap = hc.MemorySwap === 0 ? hc.Memory * 2 : hc.MemorySwap;
  }
  if (hc.MemoryReservation > 0) memory.reservation = hc.MemoryReservation;
  if (hc.MemorySwappiness !== null && hc.MemorySwappiness !== undefined && hc.MemorySwappiness >= 0) memory.swappiness = hc.MemorySwappiness;
  if (hc.OomKillDisable) memory.disableOOMKiller = true;
  if (Object.keys(memory).length > 0) r.memory = memory;
  const cpu: Record<string, unknown> = {};
  if (hc.CpuShares > 0) cpu.shares = hc.CpuShares;
  if (hc.NanoCpus > 0) {
    cpu.period = 100000;
    cpu.quota = Math.round((hc.NanoCpus * 100000) / 1e9);
  } else {
    if (hc.CpuPeriod > 0) cpu.period = hc.CpuPeriod;
    if (hc.CpuQuota !== 0) cpu.quota = hc.CpuQuota;
  }
  if (hc.CpuRealtimePeriod > 0) cpu.realtimePeriod = hc.CpuRealtimePeriod;
  if (hc.CpuRealtimeRuntime > 0) cpu.realtimeRuntime = hc.CpuRealtimeRuntime;
  if (hc.CpusetCpus) cpu.cpus = hc.CpusetCpus;
  if (hc.CpusetMems) cpu.mems = hc.CpusetMems;
  if (Object.keys(cpu).length > 0) r.cpu = cpu;
  if (hc.PidsLimit !== null && hc.PidsLimit !== undefined && hc.PidsLimit > 0) r.pids = { limit: hc.PidsLimit };
  if (hc.BlkioWeight > 0) r.blockIO = { weight: hc.BlkioWeight };
  return r;
}

export function buildSpec(i: SpecInput): OciSpec {
  const hc = i.hostConfig;
  const privileged = hc.Privileged;
  const mounts: OciMount[] = [
    { destination: '/proc', type: 'proc', source: 'proc', options: ['nosuid', 'noexec', 'nodev'] },
    { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
    { destination: '/dev/pts', type: 'devpts', source: 'devpts', options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5'] },
    { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', privileged ? 'rw' : 'ro'] },
    { destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup', options: ['nosuid', 'noexec', 'nodev', 'relatime', privileged ? 'rw' : 'ro'] },
    { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: ['nosuid', 'noexec', 'nodev'] },
    { destination: '/dev/shm', type: 'tmpfs', source: 'shm', options: ['nosuid', 'noexec', 'nodev', 'mode=1777', `size=${hc.ShmSize > 0 ? hc.ShmSize : 67108864}`] },
    { destination: '/etc/resolv.conf', type: 'bind', source: i.etcFiles.resolvConf, options: ['rbind', 'rprivate'] },
    { destination: '/etc/hostname', type: 'bind', source: i.etcFiles.hostname, options: ['rbind', 'rprivate'] },
    { destination: '/etc/hosts', type: 'bind', source: i.etcFiles.hosts, options: ['rbind', 'rprivate'] },
  ];
  if (i.initBinary) mounts.push({ destination: INIT_PATH, type: 'bind', source: i.initBinary, options: ['rbind', 'ro', 'rprivate'] });
  // User mounts replace defaults at the same destination (e.g. --tmpfs /dev/shm).
  const userDest = new Set(i.extraMounts.map((m) => m.destination));
  const finalMounts = [...mounts.filter((m) => !userDest.has(m.destination)), ...i.extraMounts];

  const namespaces: Array<{ type: string; path?: string }> = [{ type: 'mount' }];
  if (hc.PidMode !== 'host') namespaces.push({ type: 'pid' });
  if (hc.IpcMode !== 'host') namespaces.push({ type: 'ipc' });
  if (hc.UTSMode !== 'host') namespaces.push({ type: 'uts' });
  if (i.netnsPath !== undefined) namespaces.push(i.netnsPath ? { type: 'network', path: i.netnsPath } : { type: 'network' });

  const caps = i.capabilities;
  const process: OciProcess = {
    terminal: i.tty,
    user: { uid: i.user.uid, gid: i.user.gid, ...(i.user.additionalGids.length > 0 ? { additionalGids: i.user.additionalGids } : {}) },
    args: i.args,
    env: i.env,
    cwd: i.cwd,
    capabilities: { bounding: caps, effective: caps, permitted: caps },
    noNewPrivileges: i.noNewPrivileges,
  };
  if (i.tty && hc.ConsoleSize && hc.ConsoleSize[0] > 0 && hc.ConsoleSize[1] > 0) process.consoleSize = { height: hc.ConsoleSize[0], width: hc.ConsoleSize[1] };
  if (i.ulimits.length > 0) process.rlimits = i.ulimits.map((u) => ({ type: rlimitType(u.Name), hard: u.Hard, soft: u.Soft }));
  if (hc.OomScoreAdj !== 0) process.oomScoreAdj = hc.OomScoreAdj;

  const linux: Record<string, unknown> = {
    resources: resources(hc),
    cgroupsPath: i.cgroupsPath,
    namespaces,
  };
  if (!privileged) {
    linux.maskedPaths = hc.MaskedPaths ?? defaultMaskedPaths;
    linux.readonlyPaths = hc.ReadonlyPaths ?? defaultReadonlyPaths;
    if (i.seccomp === 'default') linux.seccomp = defaultSeccompProfile(caps);
    else if (i.seccomp !== 'unconfined') linux.seccomp = i.seccomp;
  } else {
    linux.devices = hostDevices();
  }
  if (hc.Sysctls && Object.keys(hc.Sysctls).length > 0) linux.sysctl = hc.Sysctls;

  return {
    ociVersion: '1.0.2',
    process,
    root: { path: i.rootfs, readonly: hc.ReadonlyRootfs },
    hostname: i.hostname,
    mounts: finalMounts,
    linux,
    annotations: { 'org.opencontainers.image.stopSignal': '', ...i.labels },
  };
}
