/**
 * Watches that a daemon keeps answering while something hostile happens: `GET /_ping` on a new
 * connection every 20 ms (as each CLI command starts), fired without waiting for the previous one,
 * each timed from connect to the end of the answer. A blocked event loop leaves every ping of that
 * moment unanswered.
 *
 * On a shared two-core machine the scheduler alone delays processes by 100–300 ms now and then (an
 * empty Node HTTP server shows it), which says nothing about the daemon. So every ping goes out
 * together with one to a control server — a bare Node HTTP server in its own process — and time
 * is cut into 200 ms windows: a window is late when no ping sent in it was answered within the
 * limit, unless the control server was as slow at that moment (the machine, not the daemon).
 * Pinger and control run at raised priority (as root), and so can the daemon (`raisePriority`).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';

export interface PingReport {
  count: number;
  /** Pings not answered within 2 s. */
  failures: number;
  maxMs: number;
  p99Ms: number;
  /** The same figures for the control server. */
  control: { maxMs: number; p99Ms: number };
  windows: number;
  /** Windows where the daemon answered no ping within the limit while the control server did. */
  late: Array<{ atMs: number; bestMs: number; controlBestMs: number }>;
}

export function pingOnce(socket: string, timeoutMs = 2_000): Promise<number | undefined> {
  const t0 = performance.now();
  return new Promise((resolve) => {
    const req = http.request({ socketPath: socket, path: '/_ping', method: 'GET', agent: false, timeout: timeoutMs }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode === 200 ? performance.now() - t0 : undefined));
    });
    req.on('error', () => resolve(undefined));
    req.on('timeout', () => {
      req.destroy();
      resolve(undefined);
    });
    req.end();
  });
}

/** Raises the scheduling priority of every thread of a process (root only; a no-op elsewhere). */
export function raisePriority(pid: number, nice = -10): void {
  let tids: string[];
  try {
    tids = fs.readdirSync(`/proc/${pid}/task`);
  } catch {
    tids = [String(pid)];
  }
  for (const tid of tids) {
    try {
      os.setPriority(Number(tid), nice);
    } catch {
      /* not root, or gone: measure as is */
    }
  }
}

const control = `require('node:http').createServer((q, s) => s.end('OK')).listen(process.argv[1]);`;

const pinger = `
const http = require('node:http');
const [socket, controlSocket, interval] = [process.argv[1], process.argv[2], Number(process.argv[3])];
const t0 = performance.now();
const samples = []; let running = true; let outstanding = 0; let done;
process.stdin.on('end', () => { running = false; if (outstanding === 0) finish(); });
process.stdin.resume();
function ping(sock) {
  const s = performance.now();
  return new Promise((resolve) => {
    const req = http.request({ socketPath: sock, path: '/_ping', agent: false, timeout: 2000 }, (res) => {
      res.resume(); res.on('end', () => resolve(res.statusCode === 200 ? performance.now() - s : -1));
    });
    req.on('error', () => resolve(-1));
    req.on('timeout', () => { req.destroy(); resolve(-1); });
    req.end();
  });
}
function finish() { if (done) return; done = true; process.stdout.write(JSON.stringify(samples)); }
const tick = setInterval(() => {
  if (!running) { clearInterval(tick); return; }
  const at = performance.now() - t0;
  outstanding++;
  Promise.all([ping(socket), ping(controlSocket)]).then(([ms, controlMs]) => {
    samples.push({ at, ms, controlMs });
    if (--outstanding === 0 && !running) finish();
  });
}, interval);
`;

const WINDOW_MS = 200;

export class PingWatch {
  private readonly control: ChildProcess;
  private readonly child: ChildProcess;
  private readonly result: Promise<Array<{ at: number; ms: number; controlMs: number }>>;
  private readonly controlSocket: string;

  constructor(
    readonly socket: string,
    readonly limitMs = 100,
    readonly intervalMs = 20,
  ) {
    this.controlSocket = `${os.tmpdir()}/ping-control-${process.pid}-${Math.random().toString(36).slice(2, 8)}.sock`;
    this.control = spawn(process.execPath, ['-e', control, this.controlSocket], { stdio: 'ignore' });
    if (this.control.pid) raisePriority(this.control.pid);
    this.child = spawn(process.execPath, ['-e', pinger, socket, this.controlSocket, String(intervalMs)], { stdio: ['pipe', 'pipe', 'inherit'] });
    if (this.child.pid) raisePriority(this.child.pid);
    let out = '';
    this.child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    this.result = new Promise((resolve, reject) => {
      this.child.once('error', reject);
      this.child.once('exit', () => {
        try {
          resolve(JSON.parse(out) as Array<{ at: number; ms: number; controlMs: number }>);
        } catch {
          reject(new Error(`ping watcher ended without a report: ${out.slice(0, 200)}`));
        }
      });
    });
  }

  async stop(): Promise<PingReport> {
    this.child.stdin!.end();
    let samples: Array<{ at: number; ms: number; controlMs: number }>;
    try {
      samples = await this.result;
    } finally {
      this.control.kill();
      fs.rmSync(this.controlSocket, { force: true });
    }
    // The first pings may race the control server's start: a control failure only ever excuses.
    const answered = samples.filter((s) => s.ms >= 0).map((s) => s.ms).sort((a, b) => a - b);
    const controlAnswered = samples.filter((s) => s.controlMs >= 0).map((s) => s.controlMs).sort((a, b) => a - b);
    const q = (xs: number[], p: number) => xs[Math.min(xs.length - 1, Math.floor(p * xs.length))] ?? 0;
    const windows = new Map<number, { best: number; controlBest: number }>();
    for (const s of samples) {
      const w = Math.floor(s.at / WINDOW_MS);
      const cur = windows.get(w) ?? { best: Infinity, controlBest: Infinity };
      if (s.ms >= 0) cur.best = Math.min(cur.best, s.ms);
      cur.controlBest = Math.min(cur.controlBest, s.controlMs >= 0 ? s.controlMs : Infinity);
      windows.set(w, cur);
    }
    const late: PingReport['late'] = [];
    for (const [w, { best, controlBest }] of windows) {
      if (best < this.limitMs) continue;
      if (controlBest >= this.limitMs && best < controlBest + this.limitMs) continue; // the whole machine stalled
      late.push({ atMs: w * WINDOW_MS, bestMs: Math.round(best), controlBestMs: Math.round(controlBest) });
    }
    return {
      count: samples.length,
      failures: samples.length - answered.length,
      maxMs: Math.round(answered[answered.length - 1] ?? 0),
      p99Ms: Math.round(q(answered, 0.99)),
      control: { maxMs: Math.round(controlAnswered[controlAnswered.length - 1] ?? 0), p99Ms: Math.round(q(controlAnswered, 0.99)) },
      windows: windows.size,
      late,
    };
  }
}
