/**
 * berthd inside the guest, run and watched by the agent: the stock daemon with its data root on
 * the data disk, its socket where the agent's tunnels connect, its log on the data disk (kept
 * across boots, trimmed at start). It is restarted with backoff if it dies; stop() is SIGTERM
 * (containers keep running, as on any host) then SIGKILL after a grace period.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { DAEMON_NODE_FLAGS } from '../../engine/daemon/node-flags.js';
import { GUEST_ENGINE_SOCKET, GUEST_PORT_PUBLISHER_SOCKET } from '../channel/protocol.js';

export const GUEST_DATA = '/var/lib/berth';
export const ENGINE_LOG = path.join(GUEST_DATA, 'berthd.log');
/** The payload (vm/image/payload.ts) as stage 1 mounts it: the launcher and berthd's bundle. */
export const PAYLOAD_DIR = '/opt/berth';
/** V8 code caches of the bundles (vm/guest/launch.ts), kept on the data disk across boots. */
export const CODE_CACHE_DIR = path.join(GUEST_DATA, 'code-cache');
const MAX_LOG = 20 * 1024 * 1024;

export type EngineState = 'starting' | 'running' | 'restarting' | 'stopped';

export class GuestEngine {
  state: EngineState = 'stopped';
  readySince: number | undefined;
  private child: ChildProcess | undefined;
  private stopping = false;
  private failures = 0;
  private readonly waiters: Array<() => void> = [];

  constructor(private readonly log: (m: string) => void) {}

  start(): void {
    this.stopping = false;
    this.spawn();
  }

  private spawn(): void {
    fs.mkdirSync(GUEST_DATA, { recursive: true });
    const config = path.join(GUEST_DATA, 'daemon.json');
    if (!fs.existsSync(config)) fs.writeFileSync(config, '{}\n');
    try {
      if (fs.statSync(ENGINE_LOG).size > MAX_LOG) fs.renameSync(ENGINE_LOG, `${ENGINE_LOG}.1`);
    } catch {
      // No log yet.
    }
    const logFd = fs.openSync(ENGINE_LOG, 'a');
    const launch = [path.join(PAYLOAD_DIR, 'launch.mjs'), path.join(PAYLOAD_DIR, 'berthd.cjs')];
    const args = [...DAEMON_NODE_FLAGS, ...launch, '--config-file', config, '--data-root', path.join(GUEST_DATA, 'engine'), '--exec-root', '/run/berth', '-H', `unix://${GUEST_ENGINE_SOCKET}`];
    this.state = this.failures ? 'restarting' : 'starting';
    // Published ports are bound on the host too: berthd asks the agent (guest/ports.ts) before a start.
    const child = spawn(process.execPath, args, { stdio: ['ignore', logFd, logFd], env: { ...process.env, BERTH_CODE_CACHE_DIR: CODE_CACHE_DIR, BERTH_PORT_PUBLISHER: GUEST_PORT_PUBLISHER_SOCKET } });
    fs.closeSync(logFd);
    this.child = child;
    child.once('exit', (code, signal) => {
      if (this.child !== child) return;
      this.child = undefined;
      this.readySince = undefined;
      if (this.stopping) {
        this.state = 'stopped';
        return;
      }
      this.failures++;
      const delay = Math.min(30_000, 500 * 2 ** Math.min(this.failures, 6));
      this.log(`berthd ${signal ? `was killed by ${signal}` : `exited with code ${code}`}; restarting in ${delay} ms`);
      this.state = 'restarting';
      setTimeout(() => !this.stopping && this.spawn(), delay).unref();
    });
    void this.waitReady(child);
  }

  private async waitReady(child: ChildProcess): Promise<void> {
    while (this.child === child) {
      if (await ping()) {
        this.state = 'running';
        this.readySince = Date.now();
        this.failures = 0;
        for (const w of this.waiters.splice(0)) w();
        return;
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** Resolves once berthd answers /_ping (at once when it already does). */
  ready(): Promise<void> {
    if (this.state === 'running') return Promise.resolve();
    return new Promise((r) => this.waiters.push(r));
  }

  async stop(graceMs = 15_000): Promise<void> {
    this.stopping = true;
    const child = this.child;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    child.kill('SIGTERM');
    const t = setTimeout(() => child.kill('SIGKILL'), graceMs);
    await exited;
    clearTimeout(t);
  }
}

function ping(): Promise<boolean> {
  return new Promise((resolve) => {
    const req = http.get({ socketPath: GUEST_ENGINE_SOCKET, path: '/_ping', timeout: 1000 }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('error', () => resolve(false));
    req.on('timeout', () => {
      req.destroy();
      resolve(false);
    });
  });
}
