/**
 * A pseudo-terminal for `berth vm shell`, through libc (posix_openpt, grantpt, unlockpt, ptsname_r,
 * ioctl TIOCSWINSZ) via koffi, which the payload already carries for berthd. The shell runs under
 * `setsid -c` so the terminal is its controlling tty (job control, ^C).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import { Duplex } from 'node:stream';
import tty from 'node:tty';

const O_RDWR = 2;
const O_NOCTTY = 0o400;
/** asm-generic ioctl numbers (x86_64 and arm64 both use them). */
const TIOCSWINSZ = 0x5414;

interface PtyLibc {
  posix_openpt(flags: number): number;
  grantpt(fd: number): number;
  unlockpt(fd: number): number;
  ptsname_r(fd: number, buf: Buffer, len: number): number;
  setWinsize(fd: number, rows: number, cols: number): number;
}

let libc: PtyLibc | undefined;

async function load(): Promise<PtyLibc> {
  if (libc) return libc;
  const koffi = (await import('koffi')).default;
  const lib = koffi.load('libc.so.6');
  const ioctl = lib.func('int ioctl(int fd, unsigned long request, _Inout_ uint16_t *arg)');
  libc = {
    posix_openpt: lib.func('int posix_openpt(int flags)'),
    grantpt: lib.func('int grantpt(int fd)'),
    unlockpt: lib.func('int unlockpt(int fd)'),
    ptsname_r: lib.func('int ptsname_r(int fd, _Out_ uint8_t *buf, size_t len)'),
    setWinsize: (fd, rows, cols) => ioctl(fd, TIOCSWINSZ, [rows, cols, 0, 0]),
  };
  return libc;
}

export interface Pty {
  /** The master side: write input, read output. */
  io: Duplex;
  child: ChildProcess;
  resize(rows: number, cols: number): void;
}

export async function spawnPty(command: string[], o: { rows: number; cols: number; env: NodeJS.ProcessEnv; cwd: string }): Promise<Pty> {
  const c = await load();
  const master = c.posix_openpt(O_RDWR | O_NOCTTY);
  if (master < 0) throw new Error('posix_openpt failed');
  if (c.grantpt(master) !== 0 || c.unlockpt(master) !== 0) throw new Error('grantpt/unlockpt failed');
  const name = Buffer.alloc(128);
  if (c.ptsname_r(master, name, name.length) !== 0) throw new Error('ptsname_r failed');
  const slavePath = name.subarray(0, name.indexOf(0)).toString();
  c.setWinsize(master, o.rows, o.cols);
  const slave = fs.openSync(slavePath, fs.constants.O_RDWR | fs.constants.O_NOCTTY);
  let child: ChildProcess;
  try {
    child = spawn('setsid', ['-c', ...command], { stdio: [slave, slave, slave], env: o.env, cwd: o.cwd });
  } finally {
    fs.closeSync(slave);
  }
  // libuv sees the master as a TTY, which net.Socket refuses; tty streams read and write it.
  const io = Duplex.from({ readable: new tty.ReadStream(master), writable: new tty.WriteStream(master) });
  return { io, child, resize: (rows, cols) => void c.setWinsize(master, rows, cols) };
}
