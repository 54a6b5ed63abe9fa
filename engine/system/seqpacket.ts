/**
 * A write-only SOCK_SEQPACKET client, for conmon's attach socket (containers/attach.ts). Node's
 * net module cannot connect to SEQPACKET sockets (EPROTOTYPE), so the socket is made with
 * socket(2)/connect(2)/send(2) through koffi (system/syscalls.ts), which already ships prebuilt
 * for every platform Berth runs berthd on. A dedicated npm package for this had no builds the
 * registry could serve for most platforms, which broke `npm ci` (scripts/README.md).
 *
 * Only input is sent; output is read from the log file. The read side is shut down right after
 * connecting: conmon writes container output to every attach client with blocking writes, so a
 * client that never reads would stall the container once the socket buffer filled. After
 * shutdown(SHUT_RD) those writes fail with EPIPE and conmon stops sending output to this client,
 * while still reading its input (conmon ignores SIGPIPE).
 *
 * The socket is non-blocking: a full send buffer (the process is not reading its stdin) is
 * retried on a timer instead of blocking the event loop or a worker thread.
 */
import fs from 'node:fs';
import path from 'node:path';
import { loadLibc, SyscallError, type Libc } from './syscalls.js';

const AF_UNIX = 1;
const SOCK_SEQPACKET = 5;
// Same values on x86-64 and arm64 (the O_NONBLOCK / O_CLOEXEC flags of the asm-generic ABI).
const SOCK_NONBLOCK = 0o4000;
const SOCK_CLOEXEC = 0o2000000;
const SHUT_RD = 0;
const MSG_DONTWAIT = 0x40;
const MSG_NOSIGNAL = 0x4000;
const EINTR = 4;
const EAGAIN = 11;
/** sizeof(sockaddr_un.sun_path), less the terminating NUL. */
const SUN_PATH_MAX = 107;

export class SeqpacketClient {
  private fd: number;

  private constructor(
    private readonly c: Libc,
    fd: number,
  ) {
    this.fd = fd;
  }

  /**
   * Connects to the listening socket at `socketPath`. Paths longer than sun_path are reached
   * through /proc/self/fd of their directory. Rejects with the system's message.
   */
  static async connect(socketPath: string): Promise<SeqpacketClient> {
    const c = await loadLibc();
    if (!c) throw new SyscallError('socket', 0, `connecting to ${socketPath}: the FFI (koffi) is not available on this platform`);
    let dirFd: number | undefined;
    let target = socketPath;
    if (Buffer.byteLength(socketPath) > SUN_PATH_MAX) {
      dirFd = fs.openSync(path.dirname(socketPath), fs.constants.O_RDONLY | fs.constants.O_DIRECTORY);
      target = `/proc/self/fd/${dirFd}/${path.basename(socketPath)}`;
      if (Buffer.byteLength(target) > SUN_PATH_MAX) {
        fs.closeSync(dirFd);
        throw new SyscallError('connect', 36, `connecting to ${socketPath}: socket name too long`);
      }
    }
    const fd = c.socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
      const errno = c.errno();
      if (dirFd !== undefined) fs.closeSync(dirFd);
      throw new SyscallError('socket', errno, `connecting to ${socketPath}: ${c.strerror(errno)}`);
    }
    try {
      const addr = Buffer.alloc(2 + SUN_PATH_MAX + 1);
      addr.writeUInt16LE(AF_UNIX, 0);
      const len = 2 + addr.write(target, 2) + 1;
      // A non-blocking connect to a unix socket completes at once, or says EAGAIN while the
      // listener's backlog is full: the monitor accepts promptly, so wait a little.
      for (let attempt = 0; ; attempt++) {
        if (c.connect(fd, addr, len) === 0) break;
        const errno = c.errno();
        if ((errno === EAGAIN || errno === EINTR) && attempt < 50) {
          await sleep(Math.min(2 ** attempt, 20));
          continue;
        }
        throw new SyscallError('connect', errno, `connecting to ${socketPath}: ${c.strerror(errno)}`);
      }
      c.shutdown(fd, SHUT_RD);
      return new SeqpacketClient(c, fd);
    } catch (err) {
      c.close(fd);
      throw err;
    } finally {
      if (dirFd !== undefined) fs.closeSync(dirFd);
    }
  }

  get closed(): boolean {
    return this.fd < 0;
  }

  /**
   * Sends `data` as one packet, waiting (without blocking) while the peer's buffer is full.
   * Rejects once the peer is gone or this client was closed.
   */
  async send(data: Buffer): Promise<void> {
    for (let delay = 1; ; delay = Math.min(delay * 2, 50)) {
      if (this.fd < 0) throw new SyscallError('send', 9, 'send on a closed attach socket');
      const n = this.c.send(this.fd, data, data.length, MSG_DONTWAIT | MSG_NOSIGNAL);
      if (n >= 0) return;
      const errno = this.c.errno();
      if (errno === EINTR) continue;
      if (errno !== EAGAIN) throw new SyscallError('send', errno, `send on attach socket: ${this.c.strerror(errno)}`);
      await sleep(delay);
    }
  }

  /** Closes the socket: the peer sees the connection end. Idempotent. */
  close(): void {
    if (this.fd < 0) return;
    this.c.close(this.fd);
    this.fd = -1;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
