/**
 * The few Linux syscalls berthd makes directly — mount(2), umount2(2), and the unshare/setns
 * pair that makes a network namespace — once each per container start and exit, through koffi
 * (an FFI to libc). Running mount(8), umount(8) or unshare(1) instead means forking the whole
 * daemon: about 3 ms of blocked event loop each, on the critical path of every `docker run`.
 * The syscalls take about 0.1 ms. koffi is loaded on first use (idle memory stays low); without
 * it, callers fall back to the util-linux tools.
 */
import fs from 'node:fs';
import { SystemError } from '../errdefs.js';

export interface Libc {
  mount(source: string | null, target: string, fstype: string | null, flags: number, data: string | null): number;
  umount2(target: string, flags: number): number;
  /** umount2 on a koffi worker thread: unmounting a filesystem that syncs can take milliseconds. */
  umount2Async(target: string, flags: number): Promise<number>;
  unshare(flags: number): number;
  setns(fd: number, nstype: number): number;
  strerror(errnum: number): string;
  errno(): number;
  // Sockets Node's net module cannot make (SOCK_SEQPACKET): system/seqpacket.ts.
  socket(domain: number, type: number, protocol: number): number;
  connect(fd: number, addr: Buffer, len: number): number;
  send(fd: number, buf: Buffer, len: number, flags: number): number;
  shutdown(fd: number, how: number): number;
  close(fd: number): number;
}

let libc: Libc | null | undefined;

/** libc through koffi, loaded on first use; null where koffi cannot load (callers fall back). */
export async function loadLibc(): Promise<Libc | null> {
  if (libc !== undefined) return libc;
  try {
    const koffi = (await import('koffi')).default;
    const lib = koffi.load('libc.so.6');
    const umount2Fn = lib.func('int umount2(const char *target, int flags)');
    libc = {
      mount: lib.func('int mount(const char *source, const char *target, const char *fstype, unsigned long flags, const char *data)'),
      umount2: lib.func('int umount2(const char *target, int flags)'),
      umount2Async: (target, flags) =>
        new Promise((resolve, reject) => umount2Fn.async(target, flags, (err: unknown, r: number) => (err ? reject(err as Error) : resolve(r)))),
      unshare: lib.func('int unshare(int flags)'),
      setns: lib.func('int setns(int fd, int nstype)'),
      strerror: lib.func('const char *strerror(int errnum)'),
      errno: () => koffi.errno(),
      socket: lib.func('int socket(int domain, int type, int protocol)'),
      connect: lib.func('int connect(int fd, const void *addr, uint32_t len)'),
      send: lib.func('intptr_t send(int fd, const void *buf, size_t len, int flags)'),
      shutdown: lib.func('int shutdown(int fd, int how)'),
      close: lib.func('int close(int fd)'),
    };
  } catch {
    libc = null;
  }
  return libc;
}

/** Linux's page-sized limit on mount data, less room for the terminating NUL. */
export const MOUNT_DATA_MAX = 4095;

export const MNT_DETACH = 2;
const MS_BIND = 0x1000;
const CLONE_NEWNET = 0x40000000;

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
  const c = await loadLibc();
  if (!c || data.length > MOUNT_DATA_MAX) return false;
  // Synchronous on purpose: a mount of an existing filesystem type returns in well under a millisecond.
  if (c.mount(source, target, fstype, 0, data) !== 0) {
    const errno = c.errno();
    throw new SyscallError('mount', errno, `mount ${fstype} on ${target}: ${c.strerror(errno)}`);
  }
  return true;
}

/**
 * umount2(2), off the event loop (an overlay's unmount syncs its upper filesystem: 2–3 ms here, far
 * more under write load); resolves false when unavailable. EINVAL (not a mount point) is an error,
 * as with umount(8).
 */
export async function sysUnmount(target: string, flags = 0): Promise<boolean> {
  const c = await loadLibc();
  if (!c) return false;
  // errno of a worker-thread call is not ours to read: a failure is repeated here, where it is.
  if ((await c.umount2Async(target, flags)) !== 0 && c.umount2(target, flags) !== 0) {
    const errno = c.errno();
    throw new SyscallError('umount2', errno, `umount ${target}: ${c.strerror(errno)}`);
  }
  return true;
}

/**
 * Makes a new network namespace that lives on without a process: bind-mounted on `file` (an
 * existing empty file), as `ip netns add` and Docker do. The calling (main) thread unshares into
 * it only for the bind mount and returns to its own namespace before any other JS runs.
 * Resolves false when the syscall path is unavailable.
 */
export async function sysCreateNetns(file: string): Promise<boolean> {
  const c = await loadLibc();
  if (!c) return false;
  const own = fs.openSync('/proc/thread-self/ns/net', 'r');
  try {
    if (c.unshare(CLONE_NEWNET) !== 0) {
      const errno = c.errno();
      throw new SyscallError('unshare', errno, `creating a network namespace: ${c.strerror(errno)}`);
    }
    let failure: SyscallError | undefined;
    if (c.mount('/proc/thread-self/ns/net', file, null, MS_BIND, null) !== 0) {
      const errno = c.errno();
      failure = new SyscallError('mount', errno, `binding the network namespace on ${file}: ${c.strerror(errno)}`);
    }
    if (c.setns(own, CLONE_NEWNET) !== 0) {
      // Every socket the daemon opened from now on would be in the wrong namespace: stop here.
      process.stderr.write(`berthd: cannot return to its own network namespace: ${c.strerror(c.errno())}\n`);
      process.abort();
    }
    if (failure) throw failure;
  } finally {
    fs.closeSync(own);
  }
  return true;
}
