/**
 * How host folders reach the guest, chosen per host and per share, with the reason said.
 *
 * - virtiofs: one virtiofsd per share (vhost-user; the guest's RAM in a shared memfd so the daemon
 *   can read the guest's buffers). The guest's FUSE client caches entries and attributes (1 s,
 *   `cache=auto`) and READDIRPLUS answers a directory with its attributes, so a stat walk is not a
 *   round trip per file as 9p's is. Chosen on Linux when a virtiofsd is found and Berth runs as
 *   root: the daemon switches to each caller's uid and needs CAP_SYS_ADMIN for its namespace
 *   sandbox (an unprivileged one would need a user namespace Berth does not set up yet).
 * - 9p: QEMU's own server, no helper and no privileges: macOS, unprivileged Linux, and read-only
 *   shares with QEMU's C virtiofsd (bookworm), which has no read-only mode — only the guest's `ro`
 *   mount would stop writes, where 9p's `readonly=on` refuses them on the host.
 *
 * `BERTH_VM_FILE_SHARING=9p|virtiofs` (or the setting vm.fileSharing) asks for one; virtiofs where
 * it cannot run is an error, not a silent 9p.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';

export type FileSharing = '9p' | 'virtiofs';
export type FileSharingSetting = FileSharing | 'auto';

export interface Virtiofsd {
  path: string;
  /** `c`: QEMU's (up to 8.0; Debian bookworm). `rust`: the virtiofsd project's (Debian trixie, Fedora). */
  flavor: 'c' | 'rust';
  version: string;
}

/** Where distributions install it: the Rust one in libexec, QEMU's C one with QEMU's helpers. */
export const VIRTIOFSD_PATHS = ['/usr/libexec/virtiofsd', '/usr/lib/qemu/virtiofsd', '/usr/lib/virtiofsd'];

/** `virtiofsd --version`'s first line: QEMU's prints "virtiofsd version 7.2.22 (...)", the Rust one "virtiofsd 1.13.0". */
export function parseVirtiofsdVersion(out: string): Pick<Virtiofsd, 'flavor' | 'version'> | undefined {
  const line = out.split('\n').find((l) => l.trim()) ?? '';
  const c = /^virtiofsd version (\S+)/.exec(line);
  if (c) return { flavor: 'c', version: c[1]! };
  const rust = /^virtiofsd v?(\d+\.\d+\S*)/.exec(line);
  if (rust) return { flavor: 'rust', version: rust[1]! };
  return undefined;
}

/** Where to look: BERTH_VIRTIOFSD alone when set. */
export function virtiofsdCandidates(env: NodeJS.ProcessEnv = process.env): string[] {
  return env.BERTH_VIRTIOFSD ? [env.BERTH_VIRTIOFSD] : VIRTIOFSD_PATHS;
}

export function findVirtiofsd(
  env: NodeJS.ProcessEnv = process.env,
  probe: (file: string) => string | undefined = probeVersion,
): Virtiofsd | undefined {
  for (const p of virtiofsdCandidates(env)) {
    const out = probe(p);
    const v = out === undefined ? undefined : parseVirtiofsdVersion(out);
    if (v) return { path: p, ...v };
  }
  return undefined;
}

function probeVersion(file: string): string | undefined {
  try {
    if (!fs.statSync(file).isFile()) return undefined;
    return execFileSync(file, ['--version'], { encoding: 'utf8', timeout: 5000, stdio: ['ignore', 'pipe', 'pipe'] });
  } catch {
    return undefined;
  }
}

export interface SharingHost {
  platform: NodeJS.Platform;
  /** Effective uid 0. */
  root: boolean;
  virtiofsd: Virtiofsd | undefined;
  /** Where a virtiofsd was looked for (for the message); default VIRTIOFSD_PATHS. */
  searched?: string[];
}

export interface SharingChoice {
  /** What the read-write shares use. */
  readWrite: FileSharing;
  /** What the read-only shares use. */
  readOnly: FileSharing;
  /** One sentence: what was chosen and why (logged, shown in `berth vm status`). */
  why: string;
}

export function chooseFileSharing(host: SharingHost, wanted: FileSharingSetting = 'auto'): SharingChoice {
  const ninep = (why: string): SharingChoice => ({ readWrite: '9p', readOnly: '9p', why: `9p: ${why}` });
  if (wanted === '9p') return ninep('asked for (vm.fileSharing / BERTH_VM_FILE_SHARING)');
  const cannot =
    host.platform !== 'linux'
      ? `virtiofs needs a Linux host (virtiofsd is Linux-only); QEMU's 9p runs here without a helper`
      : !host.virtiofsd
        ? `no virtiofsd on this host (looked in ${(host.searched ?? VIRTIOFSD_PATHS).join(', ')}; Debian: qemu-system-common or virtiofsd)`
        : !host.root
          ? `virtiofsd (${host.virtiofsd.path}) needs root to act as each caller's user; the VM runs unprivileged, and QEMU's 9p needs no privileges`
          : undefined;
  if (cannot) {
    if (wanted === 'virtiofs') throw new Error(`invalid VM settings: vm.fileSharing is virtiofs, but ${cannot.replace(/; QEMU's 9p.*$/, '')}`);
    return ninep(cannot);
  }
  const d = host.virtiofsd!;
  if (d.flavor === 'c') {
    return {
      readWrite: 'virtiofs',
      readOnly: '9p',
      why: `virtiofs (${d.path}, QEMU's ${d.version}, as root) for read-write folders; 9p for read-only ones, which this virtiofsd cannot refuse writes to`,
    };
  }
  return { readWrite: 'virtiofs', readOnly: 'virtiofs', why: `virtiofs (${d.path}, ${d.version}, as root)` };
}

/** The daemon's command line for one share. `cache=auto`: entries and attributes kept 1 s, so host edits show within a second. */
export function virtiofsdArgs(d: Pick<Virtiofsd, 'flavor'>, share: { path: string; readOnly: boolean }, socket: string): string[] {
  if (d.flavor === 'c') {
    if (share.readOnly) throw new Error(`QEMU's virtiofsd cannot share ${share.path} read-only`);
    return [`--socket-path=${socket}`, '-o', `source=${share.path.replace(/[\\,]/g, '\\$&')}`, '-o', 'cache=auto', '-o', 'sandbox=namespace', '-o', 'announce_submounts', '-o', 'no_posix_lock', '-o', 'no_flock'];
  }
  return [`--socket-path=${socket}`, `--shared-dir=${share.path}`, '--cache=auto', '--sandbox=namespace', '--announce-submounts', ...(share.readOnly ? ['--readonly'] : [])];
}
