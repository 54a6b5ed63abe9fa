/**
 * The few Linux syscalls berthd makes directly — mount(2) and umount2(2), once each per
 * container start and exit — through koffi (an FFI to libc). Running mount(8)/umount(8) instead
 * means forking the whole daemon: about 3 ms of blocked event loop each, on the critical path
 * of every `docker run`. The syscalls take about 0.1 ms. koffi is loaded on first use (idle
 * memory stays low); without it, callers fall back to the util-linux tools.
 */
import { SystemError } from '../errdefs.js';

interface Libc {
  mount(source: string, target: string, fstype: string, flags: number, data: string | null): number;
  umount2(target: string, flags: number): number;
  strerror(errnum: number): string;
  errno(): number;
}

let libc: Libc | null | undefined;

async function load(): Promise<Libc | null> {
  if (libc !== undefined) return libc;
  try {
    const koffi = (await import('koffi')).default;
    const lib = koffi.load('libc.so.6');
    libc = {
      mount: lib.func('int mount(const char *source, const char *target, const char *fstype, unsigned long flags, const char *data)'),
      umount2: lib.func('int umount2(const char *target, int flags)'),
      strerror: lib.func('const char *strerror(int errnum)'),
      errno: () => koffi.errno(),
    };
  } catch {
    libc = null;
  }
  return libc;
}

/** Linux's page-sized limit on mount data, less room for the terminating NUL. */
export const MOUNT_DATA_MAX = 4095;

export const MNT_DETACH = 2;

export class SyscallError extends SystemError {
  constructor(
    readonly call: string,
    readonly errno: number,
    message: string,
  ) {
    super(message);
  }
}

/**
 * mount(2) with fs-specific data only (no flag words such as "ro" or "bind": those are parsed by
 * mount(8)). Resolves false when the syscall path is unavailable, so the caller can use mount(8).
 */
export async function sysMount(source: string, target: string, fstype: string, data: string): Promise<boolean> {
  const c = await load();
  if (!c || data.length > MOUNT_DATA_MAX) return false;
  // Synchronous on purpose: a mount of an existing filesystem type returns in well under a millisecond.
  if (c.mount(source, target, fstype, 0, data) !== 0) {
    const errno = c.errno();
    throw new SyscallError('mount', errno, `mount ${fstype} on ${target}: ${c.strerror(errno)}`);
  }
  return true;
}

/** umount2(2); resolves false when unavailable. EINVAL (not a mount point) is reported as an error like umount(8) does. */
export async function sysUnmount(target: string, flags = 0): Promise<boolean> {
  const c = await load();
  if (!c) return false;
  if (c.umount2(target, flags) !== 0) {
    const errno = c.errno();
    throw new SyscallError('umount2', errno, `umount ${target}: ${c.strerror(errno)}`);
  }
  return true;
}
