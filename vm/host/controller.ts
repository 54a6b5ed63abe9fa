/**
 * Starting, stopping and asking about a VM from outside its host agent — what `berth vm ...` and
 * the app's VM engine use. Start spawns the host agent detached (it outlives the caller) and
 * follows its status until the engine answers or the start fails; everything else is a request on
 * the host agent's control socket.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { HostAgentConfig } from './host-agent.js';
import type { VmStatus } from './machine.js';
import type { VmPaths } from './paths.js';
import { tailText } from './provider.js';
import type { VmResources } from './resources.js';

const here = path.dirname(fileURLToPath(import.meta.url));

export interface HostStatus extends VmStatus {
  name: string;
  hostAgentPid: number;
  dockerHost: string;
  dockerContext: string | null;
  resources: VmResources;
  qemu: { binary: string; version: string };
  image: { base: string; payload: string; kernelRelease?: string };
  diskNote?: string;
  /** What each shared folder uses (9p or virtiofs) and why (file-sharing.ts). */
  fileSharing?: { why: string; shares: Array<{ path: string; readOnly: boolean; transport?: '9p' | 'virtiofs' }> };
}

export class VmControlError extends Error {
  constructor(
    message: string,
    readonly status = 500,
    readonly consoleTail?: string,
  ) {
    super(message);
  }
}

export interface VmControllerOptions {
  paths: VmPaths;
  resources: () => VmResources;
  imagesDir: string;
  dockerContext?: string | null;
  nodeBinary?: string;
  hostAgentScript?: string;
  qemuBinary?: string;
  forcedAccelerator?: string;
}

export class VmController {
  constructor(readonly o: VmControllerOptions) {}

  get paths(): VmPaths {
    return this.o.paths;
  }

  private request(method: string, p: string, timeoutMs = 10_000): Promise<{ status: number; body: string }> {
    return new Promise((resolve, reject) => {
      const req = http.request({ socketPath: this.o.paths.controlSocket, method, path: p, timeout: timeoutMs }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      });
      req.on('timeout', () => req.destroy(new Error(`the VM's host agent did not answer ${p} within ${Math.round(timeoutMs / 1000)} s`)));
      req.on('error', reject);
      req.end();
    });
  }

  private async json<T>(method: string, p: string, timeoutMs?: number): Promise<T> {
    const r = await this.request(method, p, timeoutMs);
    if (r.status >= 400) {
      let m: { message?: string; consoleTail?: string } = {};
      try {
        m = JSON.parse(r.body) as typeof m;
      } catch {
        m = { message: r.body };
      }
      throw new VmControlError(m.message ?? `HTTP ${r.status}`, r.status, m.consoleTail);
    }
    return JSON.parse(r.body) as T;
  }

  /** The host agent's status, or undefined when none runs (the VM is stopped). */
  async status(): Promise<HostStatus | undefined> {
    try {
      return await this.json<HostStatus>('GET', '/status', 5000);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ECONNREFUSED') return undefined;
      throw err;
    }
  }

  /** Starts the VM and resolves once berthd answers through it. */
  async start(onProgress?: (s: VmStatus) => void): Promise<HostStatus> {
    const running = await this.status();
    if (running) {
      if (running.state === 'running') throw new VmControlError(`the Berth VM is already running (${running.accelerator ?? '?'}, engine API ${running.dockerHost}); use \`berth vm restart\` to restart it`, 409);
      if (running.state === 'starting' || running.state === 'stopping') throw new VmControlError(`the Berth VM is ${running.state}; wait for it to finish`, 409);
      // A host agent left in `error` (or stopped) exits, and a fresh one starts with today's settings and image.
      await this.stop();
    }
    this.spawnHostAgent();
    return this.waitReady(onProgress);
  }

  private spawnHostAgent(): void {
    const p = this.o.paths;
    const cfg: HostAgentConfig = {
      paths: p,
      resources: this.o.resources(),
      imagesDir: this.o.imagesDir,
      dockerContext: this.o.dockerContext === undefined ? 'berth' : this.o.dockerContext,
      ...(this.o.qemuBinary ? { qemuBinary: this.o.qemuBinary } : {}),
      ...(this.o.forcedAccelerator ? { forcedAccelerator: this.o.forcedAccelerator } : {}),
    };
    fs.mkdirSync(p.stateDir, { recursive: true });
    fs.mkdirSync(path.dirname(p.hostLog), { recursive: true });
    fs.writeFileSync(p.hostAgentConfig, JSON.stringify(cfg, null, 2));
    this.logStart = fs.existsSync(p.hostLog) ? fs.statSync(p.hostLog).size : 0;
    const logFd = fs.openSync(p.hostLog, 'a');
    try {
      const child = spawn(this.o.nodeBinary ?? process.execPath, [this.o.hostAgentScript ?? path.join(here, 'host-agent.js'), '--config', p.hostAgentConfig], {
        detached: true,
        stdio: ['ignore', logFd, logFd],
        env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' },
      });
      child.unref();
      this.child = child;
      this.childExit = undefined;
      // Only this child's exit counts: the previous agent's may come late, after a restart spawned this one.
      child.once('exit', (code) => {
        if (this.child === child) this.childExit = code ?? -1;
      });
    } finally {
      fs.closeSync(logFd);
    }
  }

  private child: ReturnType<typeof spawn> | undefined;
  private childExit: number | undefined;
  private logStart = 0;

  private async waitReady(onProgress?: (s: VmStatus) => void): Promise<HostStatus> {
    let last = '';
    for (;;) {
      if (this.childExit !== undefined) {
        const lines = this.hostLogSince(this.logStart).trim().split('\n');
        const why = lines.filter((l) => /host agent: /.test(l)).at(-1)?.replace(/^\S+ host agent: /, '') ?? lines.at(-1) ?? `exit code ${this.childExit}`;
        this.childExit = undefined;
        throw new VmControlError(why);
      }
      let s: HostStatus | undefined;
      try {
        s = await this.status();
      } catch {
        s = undefined;
      }
      if (s) {
        const key = `${s.state}|${s.step ?? ''}|${s.accelerator ?? ''}`;
        if (key !== last) {
          last = key;
          onProgress?.(s);
        }
        if (s.state === 'running') return s;
        if (s.state === 'error') throw new VmControlError(s.error ?? 'the VM failed to start', 500, s.consoleTail);
        if (s.state === 'stopped' && last.startsWith('stopped') && this.child === undefined) throw new VmControlError('the VM stopped while starting');
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  private hostLogSince(offset: number): string {
    try {
      const buf = fs.readFileSync(this.o.paths.hostLog);
      return buf.subarray(Math.min(offset, buf.length)).toString('utf8');
    } catch {
      return '';
    }
  }

  /** Graceful stop (power button, then kill after the timeout); resolves when the host agent is gone. */
  async stop(): Promise<'stopped' | 'not-running'> {
    const s = await this.status();
    if (!s) return 'not-running';
    await this.json<HostStatus>('POST', '/stop', 120_000);
    const deadline = performance.now() + 15_000;
    while (performance.now() < deadline && (await this.status().catch(() => undefined))) await new Promise((r) => setTimeout(r, 100));
    // The VM is down but its agent did not go: it would refuse the next start, so it is ended here.
    const left = await this.status().catch(() => undefined);
    if (left && left.state === 'stopped' && left.hostAgentPid) {
      try {
        process.kill(left.hostAgentPid, 'SIGKILL');
      } catch {
        /* gone meanwhile */
      }
      fs.rmSync(this.o.paths.controlSocket, { force: true });
    }
    return 'stopped';
  }

  async restart(onProgress?: (s: VmStatus) => void): Promise<HostStatus> {
    await this.stop();
    return this.start(onProgress);
  }

  /** The resources the next start will use (the settings as they are now), for "restart to apply". */
  desiredResources(): VmResources {
    return this.o.resources();
  }

  /**
   * Factory reset: stops the VM, then deletes its data disk (every image, container and volume) and
   * the rest of its state (accelerator verdicts, host-agent config). Logs stay for Troubleshoot. The
   * next start formats a blank disk.
   */
  async reset(): Promise<void> {
    await this.stop();
    if (await this.status()) throw new VmControlError('the Berth VM did not stop, so its data was not deleted', 409);
    fs.rmSync(this.o.paths.stateDir, { recursive: true, force: true });
  }

  consoleLog(tail: number): string {
    return tailText(this.o.paths.consoleLog, tail);
  }

  hostLog(tail: number): string {
    return tailText(this.o.paths.hostLog, tail);
  }

  async engineLog(tail: number): Promise<string> {
    const r = await this.request('GET', `/engine-log?tail=${tail}`);
    if (r.status !== 200) throw new VmControlError(r.body, r.status);
    return r.body;
  }

  async guestInfo(): Promise<Record<string, unknown>> {
    return this.json('GET', '/info');
  }

  /** A root shell in the guest on a hijacked control connection; resolves with the socket and a resize function. */
  openShell(rows: number, cols: number, term: string): Promise<{ socket: net.Socket; resize: (rows: number, cols: number) => Promise<void> }> {
    return new Promise((resolve, reject) => {
      const req = http.request({
        socketPath: this.o.paths.controlSocket,
        method: 'POST',
        path: `/shell?rows=${rows}&cols=${cols}&term=${encodeURIComponent(term)}`,
        headers: { Connection: 'Upgrade', Upgrade: 'tcp' },
      });
      req.on('upgrade', (res, socket, head) => {
        const id = String(res.headers['berth-shell-id'] ?? '');
        if (head.length) socket.unshift(head);
        resolve({ socket, resize: async (r, c) => void (await this.request('POST', `/shell/resize?id=${id}&rows=${r}&cols=${c}`)) });
      });
      req.on('response', (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => reject(new VmControlError(Buffer.concat(chunks).toString('utf8').trim() || `HTTP ${res.statusCode}`, res.statusCode ?? 500)));
      });
      req.on('error', (err) => {
        const code = (err as NodeJS.ErrnoException).code;
        reject(code === 'ENOENT' || code === 'ECONNREFUSED' ? new VmControlError('the Berth VM is not running (start it with `berth vm start`)', 409) : err);
      });
      req.end();
    });
  }
}
