/**
 * Host folders in the guest: the host passes each share on the kernel command line
 * (`berth.share=<tag>,<ro|rw>[,virtiofs],<percent-encoded path>`, vm/host/qemu-args.ts); before
 * berthd starts, the agent mounts each tag (9p, or virtiofs) at the same path and tells berthd which folders bind mounts
 * may come from (daemon.json's `shared-host-paths`; anything else gets Docker Desktop's "Mounts
 * denied"). Also: the engine's socket at /var/run/docker.sock (as on a Linux host and in Docker
 * Desktop's VM), so `-v /var/run/docker.sock:/var/run/docker.sock` works.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { GUEST_ENGINE_SOCKET } from '../channel/protocol.js';

const execFileAsync = promisify(execFile);

export interface GuestShare {
  tag: string;
  readOnly: boolean;
  path: string;
  transport: '9p' | 'virtiofs';
}

/**
 * 9p mount options. msize: the largest virtio's transport takes (fewer round trips per read and
 * readdir). cache=mmap (readahead + writeback page cache, no metadata cache): the page cache is
 * dropped when QEMU's qid version (mtime/size) changes, so host edits are seen at the next open,
 * while reads stream and mmap works; `loose` would cache metadata too but never revalidate, so a
 * host edit could stay invisible. `berth.9p-cache=` on the command line overrides it (benchmarks).
 */
export const NINEP_MSIZE = 512000;
export const NINEP_DEFAULT_CACHE = 'mmap';

export function parseShares(cmdline: string): { shares: GuestShare[]; cache: string } {
  const shares: GuestShare[] = [];
  let cache = NINEP_DEFAULT_CACHE;
  for (const word of cmdline.trim().split(/\s+/)) {
    if (word.startsWith('berth.9p-cache=')) {
      const v = word.slice('berth.9p-cache='.length);
      if (/^(none|loose|fscache|mmap|readahead|0x[0-9a-f]+|\d+)$/.test(v)) cache = v;
      continue;
    }
    if (!word.startsWith('berth.share=')) continue;
    const m = /^berth\.share=(berth\d+),(ro|rw),(?:(virtiofs),)?(\/.*)$/.exec(word);
    if (!m) continue;
    let p: string;
    try {
      p = decodeURIComponent(m[4]!);
    } catch {
      continue;
    }
    if (!path.posix.isAbsolute(p) || p.includes('\0')) continue;
    shares.push({ tag: m[1]!, readOnly: m[2] === 'ro', path: path.posix.normalize(p), transport: m[3] === 'virtiofs' ? 'virtiofs' : '9p' });
  }
  return { shares, cache };
}

export function mountOptions(s: GuestShare, cache: string): string {
  // virtiofs: the daemon sets the caching (cache=auto, 1 s); only ro is the guest's to say.
  if (s.transport === 'virtiofs') return s.readOnly ? 'ro' : 'rw';
  return ['trans=virtio', 'version=9p2000.L', `msize=${NINEP_MSIZE}`, `cache=${cache}`, 'access=client', ...(s.readOnly ? ['ro'] : [])].join(',');
}

/** Mounts the shares (parents first, as the host orders them); returns the folders mounted. */
export async function mountShares(cmdline: string, log: (m: string) => void): Promise<string[]> {
  const { shares, cache } = parseShares(cmdline);
  if (shares.length === 0) return [];
  const modules = [...(shares.some((s) => s.transport === '9p') ? ['9pnet_virtio', '9p'] : []), ...(shares.some((s) => s.transport === 'virtiofs') ? ['virtiofs'] : [])];
  await execFileAsync('modprobe', ['-a', ...modules]).catch((err: Error) => log(`modprobe ${modules.join(' ')}: ${err.message}`));
  const mounted: GuestShare[] = [];
  for (const s of shares) {
    try {
      fs.mkdirSync(s.path, { recursive: true });
      await execFileAsync('mount', ['-t', s.transport, '-o', mountOptions(s, cache), s.tag, s.path]);
      mounted.push(s);
    } catch (err) {
      log(`cannot mount the shared folder ${s.path} (${s.transport}): ${((err as { stderr?: string }).stderr || (err as Error).message).trim()}`);
    }
  }
  const list = (t: GuestShare['transport']) => mounted.filter((s) => s.transport === t).map((s) => s.path);
  const parts = [list('virtiofs').length ? `virtiofs: ${list('virtiofs').join(', ')}` : '', list('9p').length ? `9p, cache=${cache}: ${list('9p').join(', ')}` : ''].filter(Boolean);
  log(`shared folders mounted (${parts.join('; ') || 'none'})`);
  return mounted.map((s) => s.path);
}

/** Writes `shared-host-paths` into berthd's daemon.json (kept otherwise), atomically. */
export function writeEngineSharedPaths(configFile: string, paths: string[]): void {
  let cfg: Record<string, unknown> = {};
  try {
    cfg = JSON.parse(fs.readFileSync(configFile, 'utf8')) as Record<string, unknown>;
  } catch {
    // First boot, or an unreadable file: start from an empty configuration.
  }
  cfg['shared-host-paths'] = paths;
  fs.mkdirSync(path.dirname(configFile), { recursive: true });
  fs.writeFileSync(`${configFile}.tmp`, JSON.stringify(cfg, null, 2) + '\n');
  fs.renameSync(`${configFile}.tmp`, configFile);
}

/** /var/run/docker.sock (= /run/docker.sock) → berthd's socket. */
export function linkEngineSocket(): void {
  try {
    fs.rmSync('/run/docker.sock', { force: true });
    fs.symlinkSync(GUEST_ENGINE_SOCKET, '/run/docker.sock');
  } catch {
    // Not fatal: only `-v /var/run/docker.sock` needs it.
  }
}
