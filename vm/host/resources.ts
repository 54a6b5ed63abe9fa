/**
 * The VM's resources (CPUs, memory, disk size) and architecture, from the `vm` key of Berth's
 * settings with defaults sized for a laptop. Applied at start: CPUs and memory on QEMU's command
 * line, the disk by growing data.qcow2 (the guest grows its filesystem at boot; shrinking is
 * refused, it would lose data).
 */
import os from 'node:os';
import { hostArch, type GuestArch } from './qemu-args.js';

export interface VmResources {
  cpus: number;
  memoryMiB: number;
  diskGiB: number;
  arch: GuestArch;
}

export interface VmSettingsInput {
  cpus?: number | undefined;
  memoryMiB?: number | undefined;
  diskGiB?: number | undefined;
  arch?: GuestArch | undefined;
}

export function defaultResources(cpuCount = os.cpus().length, totalBytes = os.totalmem(), arch: string = process.arch): VmResources {
  return {
    cpus: Math.max(1, Math.min(4, Math.floor(cpuCount / 2) || 1)),
    memoryMiB: Math.max(1024, Math.min(4096, Math.floor(totalBytes / 1048576 / 4 / 256) * 256)),
    diskGiB: 64,
    arch: hostArch(arch) ?? 'amd64',
  };
}

export function resolveResources(s: VmSettingsInput | undefined, env: NodeJS.ProcessEnv = process.env): VmResources {
  const d = defaultResources();
  const num = (v: string | undefined) => (v === undefined || v === '' ? undefined : Number(v));
  const r: VmResources = {
    cpus: num(env.BERTH_VM_CPUS) ?? s?.cpus ?? d.cpus,
    memoryMiB: num(env.BERTH_VM_MEMORY_MIB) ?? s?.memoryMiB ?? d.memoryMiB,
    diskGiB: num(env.BERTH_VM_DISK_GIB) ?? s?.diskGiB ?? d.diskGiB,
    arch: (env.BERTH_VM_ARCH as GuestArch | undefined) ?? s?.arch ?? d.arch,
  };
  const problems: string[] = [];
  if (!Number.isInteger(r.cpus) || r.cpus < 1 || r.cpus > 64) problems.push(`CPUs must be a whole number from 1 to 64 (got ${r.cpus})`);
  if (!Number.isInteger(r.memoryMiB) || r.memoryMiB < 512 || r.memoryMiB > 262144) problems.push(`memory must be 512–262144 MiB (got ${r.memoryMiB})`);
  if (!Number.isInteger(r.diskGiB) || r.diskGiB < 4 || r.diskGiB > 8192) problems.push(`the disk must be 4–8192 GiB (got ${r.diskGiB})`);
  if (r.arch !== 'amd64' && r.arch !== 'arm64') problems.push(`the architecture must be amd64 or arm64 (got ${String(r.arch)})`);
  if (problems.length) throw new Error(`invalid VM settings: ${problems.join('; ')}`);
  return r;
}
