/**
 * The virtiofsd processes of one QEMU launch: one per virtiofs share, started before QEMU (which
 * connects to their sockets at start) and owned here until QEMU is gone. A daemon serves a single
 * vhost-user session and exits when QEMU disconnects, so every launch gets fresh ones.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import { virtiofsdArgs, type Virtiofsd } from './file-sharing.js';
import type { FolderShare } from './qemu-args.js';

export class VirtiofsDaemons {
  private constructor(
    private readonly children: ChildProcess[],
    private readonly sockets: string[],
  ) {}

  /** Starts a daemon for each virtiofs share and resolves once all listen; none is left running if one fails. */
  static async start(d: Virtiofsd, shares: readonly FolderShare[], log: (m: string) => void, timeoutMs = 10_000): Promise<VirtiofsDaemons> {
    const set = new VirtiofsDaemons([], []);
    try {
      for (const s of shares) {
        if (s.transport !== 'virtiofs') continue;
        if (!s.socket) throw new Error(`virtiofs share ${s.path} has no socket path`);
        await set.startOne(d, s, s.socket, log, timeoutMs);
      }
    } catch (err) {
      set.stop();
      throw err;
    }
    return set;
  }

  get pids(): number[] {
    return this.children.map((c) => c.pid).filter((p): p is number => p !== undefined);
  }

  private async startOne(d: Virtiofsd, s: FolderShare, socket: string, log: (m: string) => void, timeoutMs: number): Promise<void> {
    fs.rmSync(socket, { force: true });
    const args = virtiofsdArgs(d, s, socket);
    log(`${d.path} ${args.join(' ')}`);
    const child = spawn(d.path, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    this.children.push(child);
    this.sockets.push(socket);
    let stderr = '';
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (chunk: string) => {
      stderr = (stderr + chunk).slice(-4096);
      for (const line of chunk.split('\n')) if (line.trim()) log(`virtiofsd ${s.path}: ${line.trim()}`);
    });
    let exit: string | undefined;
    child.once('exit', (code, signal) => (exit = signal ? `signal ${signal}` : `exit code ${code}`));
    child.once('error', (err) => (exit = err.message));
    const deadline = performance.now() + timeoutMs;
    // It creates the socket, then blocks in accept(): a socket file means it is ready for QEMU.
    while (!fs.existsSync(socket)) {
      if (exit !== undefined) throw new Error(`virtiofsd for ${s.path} exited while starting (${exit}): ${stderr.trim() || 'no output'}`);
      if (performance.now() > deadline) throw new Error(`virtiofsd for ${s.path} did not open ${socket} within ${timeoutMs} ms: ${stderr.trim() || 'no output'}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /** Kills what is still running and removes the sockets (QEMU's exit usually ended them already). */
  stop(): void {
    for (const c of this.children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGTERM');
    for (const s of this.sockets) fs.rmSync(s, { force: true });
  }
}
