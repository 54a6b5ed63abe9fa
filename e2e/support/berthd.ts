/**
 * A real berthd for tests: its own data root, exec root and socket, started
 * from the built dist/, driven with the stock docker CLI or dockerode, and
 * torn down so that nothing (containers, mounts, monitors) is left behind.
 */
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import Docker from 'dockerode';
import { DAEMON_NODE_FLAGS } from '../../engine/daemon/node-flags.js';
import { berthdBin, busyboxTar } from './paths.js';
import { claimNetSlot, cleanupDaemonNetwork, releaseNetSlot, type NetSlot } from './network.js';

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

let counter = 0;

export interface BerthdOptions {
  /** daemon.json content. */
  config?: Record<string, unknown>;
  /** Extra command-line flags. */
  args?: string[];
  /** Import the busybox test image as busybox:latest (default true). */
  busybox?: boolean;
}

export class Berthd {
  proc: ChildProcess | undefined;
  log = '';
  readonly socket: string;
  readonly dataRoot: string;
  readonly execRoot: string;
  readonly configFile: string;
  readonly dockerConfig: string;
  /** This instance's own default bridge, subnet and address pool (shared hosts run many daemons). */
  net: NetSlot | undefined;

  private constructor(
    readonly base: string,
    private opts: BerthdOptions,
  ) {
    this.dataRoot = path.join(base, 'data');
    this.socket = path.join(base, 'docker.sock');
    // Short: monitor sockets live under it and unix socket paths are limited to 108 bytes.
    this.execRoot = `/run/bt${process.pid % 100000}-${counter}`;
    this.configFile = path.join(base, 'daemon.json');
    this.dockerConfig = path.join(base, 'docker-cli');
  }

  static async start(opts: BerthdOptions = {}): Promise<Berthd> {
    counter++;
    const base = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-e2e-'));
    const d = new Berthd(base, opts);
    fs.mkdirSync(d.dockerConfig, { recursive: true });
    fs.writeFileSync(path.join(d.dockerConfig, 'config.json'), '{}');
    d.net = claimNetSlot(process.pid * 7 + counter * 13);
    fs.writeFileSync(d.configFile, JSON.stringify({ ...d.net.config, ...(opts.config ?? {}) }));
    await d.launch();
    if (opts.busybox !== false) await d.importBusybox();
    return d;
  }

  get host(): string {
    return `unix://${this.socket}`;
  }

  get env(): NodeJS.ProcessEnv {
    return { ...process.env, DOCKER_HOST: this.host, DOCKER_CONFIG: this.dockerConfig, DOCKER_CLI_HINTS: 'false', DOCKER_BUILDKIT: '0' };
  }

  async launch(): Promise<void> {
    const logLevel = this.opts.config && 'log-level' in this.opts.config ? [] : ['--log-level', 'debug'];
    const args = [...DAEMON_NODE_FLAGS, berthdBin, '--data-root', this.dataRoot, '--exec-root', this.execRoot, '-H', this.host, '--config-file', this.configFile, ...logLevel, ...(this.opts.args ?? [])];
    const proc = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.proc = proc;
    const collect = (d: Buffer) => {
      this.log += d.toString();
      if (this.log.length > 4_000_000) this.log = this.log.slice(-2_000_000);
    };
    proc.stdout!.on('data', collect);
    proc.stderr!.on('data', collect);
    const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline) {
      if (proc.exitCode !== null) break;
      if (await this.ping()) return;
      await sleep(50);
    }
    const code = await Promise.race([exited, sleep(100).then(() => 'running')]);
    throw new Error(`berthd did not become ready (exit ${code}):\n${this.log.slice(-4000)}`);
  }

  ping(): Promise<boolean> {
    return new Promise((resolve) => {
      const req = http.request({ socketPath: this.socket, path: '/_ping', method: 'GET', timeout: 1000 }, (res) => {
        res.resume();
        resolve(res.statusCode === 200);
      });
      req.on('error', () => resolve(false));
      req.on('timeout', () => {
        req.destroy();
        resolve(false);
      });
      req.end();
    });
  }

  /** Stops the daemon with SIGTERM (containers keep running). */
  async stop(): Promise<void> {
    const p = this.proc;
    if (!p || p.exitCode !== null) return;
    const exited = new Promise((r) => p.once('exit', r));
    p.kill('SIGTERM');
    await Promise.race([exited, sleep(10_000)]);
    if (p.exitCode === null) p.kill('SIGKILL');
  }

  /** Kills the daemon like a crash would. */
  async kill9(): Promise<void> {
    const p = this.proc;
    if (!p || p.exitCode !== null) return;
    const exited = new Promise((r) => p.once('exit', r));
    p.kill('SIGKILL');
    await exited;
  }

  async restart(): Promise<void> {
    await this.stop();
    await this.launch();
  }

  /** Changes the extra flags used by the next launch(). */
  setArgs(args: string[]): void {
    this.opts.args = args;
  }

  docker(args: string[], opts: { input?: string | Buffer; timeout?: number } = {}): Promise<RunResult> {
    return new Promise((resolve) => {
      const child = execFile('docker', args, { env: this.env, timeout: opts.timeout ?? 60_000, maxBuffer: 256 * 1024 * 1024, encoding: 'buffer' }, (err, stdout, stderr) => {
        const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : -1) : 0;
        resolve({ code, stdout: stdout.toString(), stderr: stderr.toString() });
      });
      // The CLI may exit before reading all of its input (the daemon refused the request early).
      child.stdin!.on('error', () => undefined);
      if (opts.input !== undefined) child.stdin!.end(opts.input);
      else child.stdin!.end();
    });
  }

  /** Runs docker and fails with its output if the exit code is not 0. */
  async dockerOk(args: string[], opts: { input?: string | Buffer; timeout?: number } = {}): Promise<string> {
    const r = await this.docker(args, opts);
    if (r.code !== 0) throw new Error(`docker ${args.join(' ')} exited ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
    return r.stdout;
  }

  client(): Docker {
    return new Docker({ socketPath: this.socket });
  }

  async importBusybox(tag = 'busybox:latest'): Promise<void> {
    await this.dockerOk(['import', '-c', 'CMD ["sh"]', busyboxTar, tag]);
  }

  /** Removes every container, stops the daemon and deletes its state. */
  async destroy(): Promise<void> {
    if (this.proc && this.proc.exitCode === null) {
      const ids = (await this.docker(['ps', '-aq'])).stdout.split('\n').filter(Boolean);
      if (ids.length > 0) await this.docker(['rm', '-f', ...ids], { timeout: 60_000 });
      await this.stop();
    }
    await cleanupRuntime(this.execRoot, this.dataRoot);
    if (this.net) {
      cleanupDaemonNetwork(String(this.opts.config?.bridge ?? this.net.bridge), this.dataRoot);
      releaseNetSlot(this.net);
      this.net = undefined;
    }
    fs.rmSync(this.base, { recursive: true, force: true });
  }
}

/** Last-resort cleanup of anything a test daemon left: runc containers, monitors, mounts. */
export async function cleanupRuntime(execRoot: string, dataRoot: string): Promise<void> {
  const runcRoot = path.join(execRoot, 'runc');
  const ids = await new Promise<string[]>((resolve) =>
    execFile('runc', ['--root', runcRoot, 'list', '-q'], (err, out) => resolve(err ? [] : String(out).split('\n').filter(Boolean))),
  );
  for (const id of ids) await new Promise((r) => execFile('runc', ['--root', runcRoot, 'delete', '--force', id], r));
  const mounts = fs
    .readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((l) => l.split(' ')[4])
    .filter((m): m is string => !!m && (m.startsWith(dataRoot) || m.startsWith(execRoot)))
    .sort((a, b) => b.length - a.length);
  for (const m of mounts) await new Promise((r) => execFile('umount', ['-l', m], r));
  fs.rmSync(execRoot, { recursive: true, force: true });
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Polls until fn returns a truthy value (or throws the last error after the timeout). */
export async function eventually<T>(fn: () => Promise<T> | T, timeoutMs = 10_000, intervalMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastErr: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
      lastErr = new Error('condition not met');
    } catch (err) {
      lastErr = err;
    }
    if (Date.now() > deadline) throw lastErr;
    await sleep(intervalMs);
  }
}
