/**
 * The VM provider: what the state machine (machine.ts) drives. `QemuProvider` is the real one —
 * it spawns QEMU with the line from qemu-args.ts, waits for QMP, follows the serial console for
 * the guest's boot markers, and connects the agent channel. Unit tests of the state machine use a
 * fake with the same interface (machine.test.ts), as Rancher Desktop's VMBackend is faked.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import { AgentChannel, endpointPath } from './agent-channel.js';
import { AcceleratorFailed } from './accelerator.js';
import { QmpClient } from './qmp.js';
import { qemuArgs, type Accelerator, type QemuLaunch } from './qemu-args.js';
import type { Virtiofsd } from './file-sharing.js';
import { VirtiofsDaemons } from './virtiofsd.js';

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** Boot markers the guest prints on its console (vm/image/assets/initramfs-init, vm/guest/init.sh, agent). */
export type GuestMarker = 'stage1' | 'stage2' | 'data-mounted' | 'agent' | 'engine-ready';

export interface VmInstance {
  readonly pid: number | undefined;
  /** Settles when QEMU exits, whatever the reason. */
  readonly exited: Promise<ExitInfo>;
  /** Resolves when the guest printed `marker` (with the guest's uptime then, in seconds). */
  marker(m: GuestMarker): Promise<number>;
  connectAgent(timeoutMs: number): Promise<AgentChannel>;
  /** QMP system_powerdown: the guest's power button. */
  powerdown(): Promise<void>;
  /** QMP query-status. */
  status(): Promise<string>;
  kill(): void;
  consoleTail(lines: number): string;
}

export interface VmProvider {
  /** Starts the VM with this accelerator; resolves once QEMU's QMP answers. */
  launch(accelerator: Accelerator): Promise<VmInstance>;
}

export interface QemuProviderOptions {
  qemuBinary: string;
  /** Everything but the accelerator. */
  launch: Omit<QemuLaunch, 'accelerator'>;
  log: (m: string) => void;
  qmpTimeoutMs?: number;
  /** The daemon for the shares whose transport is virtiofs (file-sharing.ts). */
  virtiofsd?: Virtiofsd;
}

export class QemuProvider implements VmProvider {
  constructor(private readonly o: QemuProviderOptions) {}

  async launch(accelerator: Accelerator): Promise<VmInstance> {
    const l: QemuLaunch = { ...this.o.launch, accelerator };
    const args = qemuArgs(l);
    for (const e of [l.qmp, l.agent]) if (e.kind === 'unix') fs.rmSync(e.path, { force: true });
    // A fresh console log per boot: the tail shown on a crash is this boot's.
    fs.writeFileSync(l.consoleLog, '');
    fs.rmSync(l.pidFile, { force: true });
    const daemons = await this.startDaemons(l);
    try {
      return await this.spawnQemu(l, args, accelerator, daemons);
    } catch (err) {
      daemons?.stop();
      throw err;
    }
  }

  private async startDaemons(l: QemuLaunch): Promise<VirtiofsDaemons | undefined> {
    if (!(l.shares ?? []).some((s) => s.transport === 'virtiofs')) return undefined;
    if (!this.o.virtiofsd) throw new Error('a shared folder uses virtiofs, but no virtiofsd was found');
    return VirtiofsDaemons.start(this.o.virtiofsd, l.shares ?? [], this.o.log);
  }

  private async spawnQemu(l: QemuLaunch, args: string[], accelerator: Accelerator, daemons: VirtiofsDaemons | undefined): Promise<VmInstance> {
    this.o.log(`${this.o.qemuBinary} ${args.join(' ')}`);
    let child: ChildProcess;
    try {
      child = spawn(this.o.qemuBinary, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    } catch (err) {
      throw new Error(`cannot run ${this.o.qemuBinary}: ${(err as Error).message}`);
    }
    let stderr = '';
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (d: string) => {
      stderr = (stderr + d).slice(-8192);
      for (const line of d.split('\n')) if (line.trim()) this.o.log(`qemu: ${line.trim()}`);
    });
    const exited = new Promise<ExitInfo>((resolve) => {
      child.once('exit', (code, signal) => resolve({ code, signal }));
      child.once('error', (err) => {
        stderr += err.message;
        resolve({ code: -1, signal: null });
      });
    });
    const qmpPath = endpointPath(l.qmp);
    const deadline = performance.now() + (this.o.qmpTimeoutMs ?? 15_000);
    let qmp: QmpClient | undefined;
    let lastErr: Error | undefined;
    while (!qmp) {
      const gone = await Promise.race([exited, sleep(50).then(() => undefined)]);
      if (gone) {
        const why = stderr.trim() || `exit code ${gone.code}`;
        // QEMU refuses an accelerator it cannot initialise at once ("failed to initialize kvm", "HV_ERROR", "WHPX: No accelerator found").
        if (accelerator !== 'tcg' && new RegExp(`${accelerator}|accel|HV_|hypervisor|Hypervisor`, 'i').test(why)) throw new AcceleratorFailed(accelerator, `QEMU could not use ${accelerator}: ${why}`);
        if ((child as ChildProcess & { spawnfile?: string }).pid === undefined) throw new Error(`cannot run ${this.o.qemuBinary}: ${why}`);
        throw new Error(`QEMU exited while starting: ${why}`);
      }
      try {
        qmp = await QmpClient.connect(qmpPath, 2000);
      } catch (err) {
        lastErr = err as Error;
        if (performance.now() > deadline) {
          child.kill('SIGKILL');
          throw new Error(`QEMU did not open its control socket ${qmpPath} within ${this.o.qmpTimeoutMs ?? 15_000} ms: ${lastErr.message}`);
        }
      }
    }
    void exited.then(() => daemons?.stop());
    return new QemuInstance(child, exited, qmp, l, this.o.log);
  }
}

class QemuInstance implements VmInstance {
  private readonly markers = new Map<GuestMarker, number>();
  private readonly waiters: Array<{ m: GuestMarker; resolve: (v: number) => void }> = [];
  private offset = 0;
  private partial = '';
  private readonly poll: NodeJS.Timeout;

  constructor(
    private readonly child: ChildProcess,
    readonly exited: Promise<ExitInfo>,
    private readonly qmp: QmpClient,
    private readonly l: QemuLaunch,
    log: (m: string) => void,
  ) {
    this.poll = setInterval(() => this.readConsole(), 50);
    void exited.then(() => {
      clearInterval(this.poll);
      this.readConsole();
      qmp.close();
    });
    qmp.on('event', (e: { event: string }) => log(`qmp event ${e.event}`));
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  private readConsole(): void {
    let fd: number;
    try {
      fd = fs.openSync(this.l.consoleLog, 'r');
    } catch {
      return;
    }
    try {
      const buf = Buffer.alloc(64 * 1024);
      let n: number;
      while ((n = fs.readSync(fd, buf, 0, buf.length, this.offset)) > 0) {
        this.offset += n;
        this.partial += buf.subarray(0, n).toString('latin1');
      }
    } finally {
      fs.closeSync(fd);
    }
    const lines = this.partial.split('\n');
    this.partial = lines.pop() ?? '';
    for (const line of lines) {
      const m = /berth-(?:init|agent): (stage1|stage2|data-mounted|started|engine-ready) ([\d.]+)/.exec(line);
      if (!m) continue;
      const marker = (m[1] === 'started' ? 'agent' : m[1]) as GuestMarker;
      const uptime = Number(m[2]);
      if (this.markers.has(marker)) continue;
      this.markers.set(marker, uptime);
      for (const w of this.waiters.filter((x) => x.m === marker)) w.resolve(uptime);
    }
    // engine-ready is the last marker of a boot (the earlier ones come before it in the file): an
    // idle VM's host agent then stops opening the console log 20 times a second.
    if (this.markers.has('engine-ready')) clearInterval(this.poll);
  }

  marker(m: GuestMarker): Promise<number> {
    const seen = this.markers.get(m);
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise((resolve) => this.waiters.push({ m, resolve }));
  }

  async connectAgent(timeoutMs: number): Promise<AgentChannel> {
    return AgentChannel.connect(this.l.agent, { timeoutMs });
  }

  async powerdown(): Promise<void> {
    await this.qmp.execute('system_powerdown');
  }

  async status(): Promise<string> {
    const r = await this.qmp.execute<{ status: string }>('query-status');
    return r.status;
  }

  kill(): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
  }

  consoleTail(lines: number): string {
    return tailText(this.l.consoleLog, lines);
  }
}

/** The last `lines` lines of a (small) text file, '' when it cannot be read. */
export function tailText(file: string, lines: number): string {
  try {
    const st = fs.statSync(file);
    const fd = fs.openSync(file, 'r');
    try {
      const len = Math.min(st.size, 256 * 1024);
      const buf = Buffer.alloc(len);
      fs.readSync(fd, buf, 0, len, st.size - len);
      const all = buf.toString('utf8').replace(/\r/g, '').split('\n');
      if (all.at(-1) === '') all.pop();
      return all.slice(-lines).join('\n');
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    return '';
  }
}

/** True when something accepts connections on a unix socket. */
export function socketAnswers(p: string, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(p);
    const t = setTimeout(() => {
      s.destroy();
      resolve(false);
    }, timeoutMs);
    s.once('connect', () => {
      clearTimeout(t);
      s.destroy();
      resolve(true);
    });
    s.once('error', () => {
      clearTimeout(t);
      resolve(false);
    });
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
