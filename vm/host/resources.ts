/**
 * The VM's resources (CPUs, memory, disk size), architecture and shared host folders, from the
 * `vm` key of Berth's settings with defaults sized for a laptop. Applied at start: CPUs and memory
 * on QEMU's command line, the disk by growing data.qcow2 (the guest grows its filesystem at boot;
 * shrinking is refused, it would lose data), the shared folders as 9p/virtiofs shares mounted in
 * the guest at the same path (absent: the user's home folder, read-write), by the file sharing the
 * host can run (`vm.fileSharing`, file-sharing.ts).
 */
import os from 'node:os';
import path from 'node:path';
import { hostArch, type GuestArch } from './qemu-args.js';
import type { FileSharingSetting } from './file-sharing.js';

/** A host folder shared into the VM at the same path (settings `vm.sharedFolders`). */
export interface SharedFolderSetting {
  path: string;
  readOnly?: boolean | undefined;
}

export interface SharedFolder {
  /** Absolute, normalized host path; the guest mounts it at the same path. */
  path: string;
  readOnly: boolean;
}

export interface VmResources {
  cpus: number;
  memoryMiB: number;
  diskGiB: number;
  arch: GuestArch;
  /** How the folders are shared: `auto` picks per host (file-sharing.ts). */
  fileSharing: FileSharingSetting;
  /** Host folders shared into the VM, outermost first (a nested folder is mounted over its parent). */
  sharedFolders: SharedFolder[];
}

export interface VmSettingsInput {
  cpus?: number | undefined;
  memoryMiB?: number | undefined;
  diskGiB?: number | undefined;
  arch?: GuestArch | undefined;
  /** Absent: the user's home folder, read-write. An empty list shares nothing. */
  sharedFolders?: SharedFolderSetting[] | undefined;
  /** Absent: auto. */
  fileSharing?: FileSharingSetting | undefined;
}

export function defaultResources(cpuCount = os.cpus().length, totalBytes = os.totalmem(), arch: string = process.arch): VmResources {
  return {
    cpus: Math.max(1, Math.min(4, Math.floor(cpuCount / 2) || 1)),
    memoryMiB: Math.max(1024, Math.min(4096, Math.floor(totalBytes / 1048576 / 4 / 256) * 256)),
    diskGiB: 64,
    arch: hostArch(arch) ?? 'amd64',
    fileSharing: 'auto',
    sharedFolders: [{ path: os.homedir(), readOnly: false }],
  };
}

/**
 * Guest folders a share may not cover: the guest's own system (its root, kernel filesystems, the
 * engine's data disk and payload). Sharing a host folder there would hide what the guest runs on.
 */
const GUEST_RESERVED = ['/proc', '/sys', '/dev', '/run', '/etc', '/usr', '/bin', '/sbin', '/lib', '/lib64', '/boot', '/opt/berth', '/var/lib/berth'];

/** Is `p` the folder `dir` or inside it (both absolute, normalized, posix)? */
export function isWithin(p: string, dir: string): boolean {
  if (dir === '/') return p.startsWith('/');
  return p === dir || p.startsWith(dir.endsWith('/') ? dir : `${dir}/`);
}

/**
 * Checks and normalizes the shared-folder list: absolute paths, no duplicates, none over the
 * guest's system folders; sorted so a parent is mounted before a folder nested in it. Host paths
 * are posix here (Linux, macOS): Windows' QEMU has no 9p, so shares are refused there.
 */
export function resolveSharedFolders(list: SharedFolderSetting[] | undefined, platform: NodeJS.Platform = process.platform, home = os.homedir()): SharedFolder[] {
  const input = list ?? [{ path: home, readOnly: false }];
  if (!Array.isArray(input)) throw new Error('invalid VM settings: vm.sharedFolders must be a list of { path, readOnly? }');
  if (platform === 'win32' && input.length > 0 && list !== undefined) throw new Error('invalid VM settings: vm.sharedFolders: sharing host folders into the VM is not supported on Windows yet (QEMU for Windows has no 9p or virtiofs)');
  if (platform === 'win32') return [];
  const out: SharedFolder[] = [];
  const problems: string[] = [];
  for (const f of input) {
    const raw = typeof f?.path === 'string' ? f.path : '';
    if (f?.readOnly !== undefined && typeof f.readOnly !== 'boolean') {
      problems.push(`readOnly of ${raw || '(no path)'} must be true or false`);
      continue;
    }
    if (!raw || !path.posix.isAbsolute(raw)) {
      problems.push(`${JSON.stringify(raw)} is not an absolute path`);
      continue;
    }
    if (raw.includes('\0')) {
      problems.push(`${JSON.stringify(raw)} contains a NUL character`);
      continue;
    }
    const p = path.posix.normalize(raw).replace(/(.)\/+$/, '$1');
    if (p === '/') {
      problems.push('/ cannot be shared whole (share the folders you use, such as your home folder)');
      continue;
    }
    const reserved = GUEST_RESERVED.find((r) => isWithin(p, r) || isWithin(r, p));
    if (reserved) {
      problems.push(`${p} cannot be shared: it ${isWithin(p, reserved) ? 'is inside' : 'contains'} the VM's own ${reserved}`);
      continue;
    }
    const dup = out.find((o) => o.path === p);
    if (dup) {
      if (dup.readOnly !== (f.readOnly === true)) problems.push(`${p} is listed twice, read-only and read-write`);
      continue;
    }
    out.push({ path: p, readOnly: f.readOnly === true });
  }
  if (out.length > 64) problems.push(`at most 64 folders can be shared (got ${out.length})`);
  if (problems.length) throw new Error(`invalid VM settings: vm.sharedFolders: ${problems.join('; ')}`);
  // Parents first: a nested folder's mount goes over its parent's.
  return out.sort((a, b) => a.path.split('/').length - b.path.split('/').length || a.path.localeCompare(b.path));
}

/** BERTH_VM_SHARED_FOLDERS: a JSON list as in the settings (`[{"path":"/x","readOnly":true}]`), or `none`. */
export function sharedFoldersFromEnv(v: string | undefined): SharedFolderSetting[] | undefined {
  if (v === undefined || v === '') return undefined;
  if (v === 'none') return [];
  try {
    const parsed = JSON.parse(v) as unknown;
    if (!Array.isArray(parsed)) throw new Error('not a list');
    return parsed as SharedFolderSetting[];
  } catch (err) {
    throw new Error(`invalid BERTH_VM_SHARED_FOLDERS: expected a JSON list such as [{"path":"/Users/me","readOnly":false}] or none (${(err as Error).message})`);
  }
}

export function resolveResources(s: VmSettingsInput | undefined, env: NodeJS.ProcessEnv = process.env): VmResources {
  const d = defaultResources();
  const num = (v: string | undefined) => (v === undefined || v === '' ? undefined : Number(v));
  const r: VmResources = {
    cpus: num(env.BERTH_VM_CPUS) ?? s?.cpus ?? d.cpus,
    memoryMiB: num(env.BERTH_VM_MEMORY_MIB) ?? s?.memoryMiB ?? d.memoryMiB,
    diskGiB: num(env.BERTH_VM_DISK_GIB) ?? s?.diskGiB ?? d.diskGiB,
    arch: (env.BERTH_VM_ARCH as GuestArch | undefined) ?? s?.arch ?? d.arch,
    fileSharing: ((env.BERTH_VM_FILE_SHARING || undefined) as FileSharingSetting | undefined) ?? s?.fileSharing ?? d.fileSharing,
    sharedFolders: resolveSharedFolders(sharedFoldersFromEnv(env.BERTH_VM_SHARED_FOLDERS) ?? s?.sharedFolders),
  };
  const problems: string[] = [];
  if (!Number.isInteger(r.cpus) || r.cpus < 1 || r.cpus > 64) problems.push(`CPUs must be a whole number from 1 to 64 (got ${r.cpus})`);
  if (!Number.isInteger(r.memoryMiB) || r.memoryMiB < 512 || r.memoryMiB > 262144) problems.push(`memory must be 512–262144 MiB (got ${r.memoryMiB})`);
  if (!Number.isInteger(r.diskGiB) || r.diskGiB < 4 || r.diskGiB > 8192) problems.push(`the disk must be 4–8192 GiB (got ${r.diskGiB})`);
  if (r.arch !== 'amd64' && r.arch !== 'arm64') problems.push(`the architecture must be amd64 or arm64 (got ${String(r.arch)})`);
  if (!['auto', 'virtiofs', '9p'].includes(r.fileSharing)) problems.push(`file sharing must be auto, virtiofs or 9p (got ${String(r.fileSharing)})`);
  if (problems.length) throw new Error(`invalid VM settings: ${problems.join('; ')}`);
  return r;
}
