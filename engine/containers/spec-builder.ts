/**
 * The OCI spec of one start: the user resolved against the container's own passwd/group,
 * its working dir, /etc files and namespace from networking, tmpfs and volume mounts,
 * environment (image, links, user's), init, security options and rlimits.
 */
import fs from 'node:fs';
import path from 'node:path';
import { InvalidParameterError, SystemError, messageOf } from '../errdefs.js';
import type { Ulimit as DaemonUlimit } from '../daemon/config.js';
import type { HostConfig, Ulimit } from '../api/types.js';
import { ownHardLimits } from '../system/proc.js';
import { resolveCapabilities } from '../security/capabilities.js';
import { mkdirInRoot } from '../storage/rootpath.js';
import { etcPaths, writeEtcFiles } from '../network/etc-files.js';
import type { Container } from './container.js';
import { buildSpec, INIT_PATH, type OciMount } from './spec.js';
import { resolveUser } from './user.js';
import { parseSecurityOpts } from './create-request.js';
import { DEFAULT_PATH, mergeEnv } from './env.js';
import type { Lifecycle } from './lifecycle.js';

const KNOWN_ULIMITS = ['nofile', 'nproc', 'core', 'stack', 'memlock', 'fsize', 'cpu', 'data', 'as', 'locks', 'sigpending', 'msgqueue', 'nice', 'rtprio', 'rss', 'rttime'];

let hardLimits: Map<string, number> | undefined;

/** Container rlimits: daemon defaults overlaid by the container's, never above the daemon's own hard limits. */
export function containerUlimits(defaults: Record<string, DaemonUlimit>, hc: HostConfig, caps: Map<string, number> = (hardLimits ??= ownHardLimits())): Ulimit[] {
  const byName = new Map<string, Ulimit>();
  for (const [name, u] of Object.entries(defaults)) byName.set(name, { Name: name, Soft: u.Soft, Hard: u.Hard });
  for (const u of hc.Ulimits ?? []) byName.set(u.Name, u);
  const out: Ulimit[] = [];
  for (const u of byName.values()) {
    const cap = caps.get(u.Name);
    if (cap === undefined && !KNOWN_ULIMITS.includes(u.Name)) throw new InvalidParameterError(`invalid ulimit type: ${u.Name}`);
    const hard = cap !== undefined ? Math.min(u.Hard, cap) : u.Hard;
    out.push({ Name: u.Name, Hard: hard, Soft: Math.min(u.Soft, hard) });
  }
  return out;
}

export async function buildStartSpec(lc: Lifecycle, c: Container, rootfs: string): Promise<object> {
  const r = c.record;
  const hc = r.hostConfig;
  const cfg = r.config;
  const user = await resolveUser(rootfs, cfg.User, hc.GroupAdd ?? []);
  const cwd = cfg.WorkingDir || '/';
  if (cwd !== '/') {
    try {
      mkdirInRoot(rootfs, cwd, user.uid, user.gid);
    } catch (err) {
      throw new InvalidParameterError(`cannot create working directory ${cwd}: ${messageOf(err)}`);
    }
  }
  const etc = etcPaths(lc.d.store.dir(r.id));
  // Networking (engine/network) picks the namespace, leases addresses and ports for this start,
  // and renders /etc/hosts, /etc/hostname and resolv.conf; its release gives them back.
  const net = await lc.d.networking.prepare(c);
  await writeEtcFiles(etc, net.etc);
  const extraMounts: OciMount[] = [];
  for (const [dest, opts] of Object.entries(hc.Tmpfs ?? {})) {
    const userOpts = opts ? opts.split(',').filter(Boolean) : [];
    const base = ['noexec', 'nosuid', 'nodev'].filter((o) => !userOpts.some((u) => u === o.replace(/^no/, '') || u === o));
    extraMounts.push({ destination: dest, type: 'tmpfs', source: 'tmpfs', options: [...base, ...userOpts] });
  }
  extraMounts.push(...(await lc.d.volumes.mounts(c, rootfs)));

  let env = [DEFAULT_PATH, `HOSTNAME=${cfg.Hostname}`];
  if (cfg.Tty) env.push('TERM=xterm');
  // Legacy link variables sit below the container's own Env, as in Docker.
  env = mergeEnv(mergeEnv(env, net.env), cfg.Env);
  if (!env.some((e) => e.startsWith('HOME='))) env.push(`HOME=${user.home || '/'}`);
  let args = [r.path, ...r.args];
  let initBinary: string | undefined;
  if (hc.Init ?? false) {
    initBinary = findInit(lc.d.config.initPath);
    args = [INIT_PATH, '--', ...args];
  }
  const security = parseSecurityOpts(hc.SecurityOpt);
  const caps = resolveCapabilities(hc.CapAdd, hc.CapDrop, hc.Privileged);
  return buildSpec({
    id: r.id,
    hostConfig: hc,
    rootfs,
    hostname: cfg.Hostname,
    tty: cfg.Tty,
    args,
    env,
    cwd,
    user,
    capabilities: caps,
    noNewPrivileges: security.noNewPrivileges,
    seccomp: hc.Privileged ? 'unconfined' : security.seccomp,
    ulimits: containerUlimits(lc.d.config.defaultUlimits, hc),
    netnsPath: net.netnsPath,
    etcFiles: etc,
    ...(initBinary ? { initBinary } : {}),
    extraMounts,
    cgroupsPath: `/berth/${r.id}`,
    labels: {},
  });
}

function findInit(p: string): string {
  if (p.startsWith('/')) {
    if (fs.existsSync(p)) return p;
  } else {
    for (const dir of (process.env.PATH ?? '/usr/bin:/bin').split(':')) {
      const full = path.join(dir, p);
      if (fs.existsSync(full)) return full;
    }
  }
  throw new SystemError(`docker-init binary not found: ${p} (install tini, or set "init-path")`);
}
