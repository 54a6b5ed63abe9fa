/**
 * Engines under benchmark: a berthd from this checkout and, where Debian's
 * docker.io is installed (bench/install-dockerd.sh), a dockerd 20.10 run
 * side by side with its own state directories and socket.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { claimNetSlot, cleanupDaemonNetwork, releaseNetSlot } from '../../e2e/support/network.js';
import { ensureBusyboxRootfs } from '../../e2e/support/rootfs.js';
import { DAEMON_NODE_FLAGS } from '../../engine/daemon/node-flags.js';

/** The busybox image tar the e2e suite uses (from busybox-static), built and validated by its cache. */
export function ensureBusyboxTar(): string {
  return ensureBusyboxRootfs();
}

export interface Engine {
  name: string;
  socket: string;
  pid(): number;
  /** Process IDs whose memory counts as the engine's own (daemon, containerd). */
  enginePids(): number[];
  stop(): Promise<void>;
}

export const repoRoot = path.resolve(import.meta.dirname, '..', '..');

function waitForSocket(socket: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const tick = () => {
      const req = http.request({ socketPath: socket, path: '/_ping' }, (res) => {
        res.resume();
        if (res.statusCode === 200) resolve();
        else retry();
      });
      req.on('error', retry);
      req.end();
    };
    const retry = () => (Date.now() > deadline ? reject(new Error(`engine on ${socket} not ready`)) : setTimeout(tick, 100));
    tick();
  });
}

export function docker(socket: string, args: string[], input?: Buffer | string): Promise<{ code: number; stdout: string; stderr: string; ms: number }> {
  const started = performance.now();
  return new Promise((resolve) => {
    const child = execFile('docker', args, { env: { ...process.env, DOCKER_HOST: `unix://${socket}`, DOCKER_CLI_HINTS: 'false' }, maxBuffer: 1024 * 1024 * 1024 }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout: String(stdout), stderr: String(stderr), ms: performance.now() - started });
    });
    child.stdin?.end(input);
  });
}

export async function dockerOk(socket: string, args: string[], input?: Buffer | string): Promise<string> {
  const r = await docker(socket, args, input);
  if (r.code !== 0) throw new Error(`docker ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

/** A berthd from this checkout with its own state, exec root, socket, bridge and subnet; all removed on stop. */
export async function startBerthd(dist = process.env.BERTH_DIST ?? 'dist', instance = 0, config: Record<string, unknown> = {}): Promise<Engine & { execRoot: string; dataRoot: string }> {
  const base = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-bench-'));
  const socket = path.join(base, 'docker.sock');
  const execRoot = `/run/bb${process.pid % 100000}${instance ? `-${instance}` : ''}`;
  // Its own bridge and subnet (other daemons may run), removed again on stop.
  const slot = claimNetSlot(process.pid + instance * 7919);
  fs.writeFileSync(path.join(base, 'daemon.json'), JSON.stringify({ ...slot.config, ...config }));
  const proc: ChildProcess = spawn(
    process.execPath,
    [...DAEMON_NODE_FLAGS, path.join(repoRoot, dist, 'engine/daemon/main.js'), '--data-root', path.join(base, 'data'), '--exec-root', execRoot, '-H', `unix://${socket}`, '--config-file', path.join(base, 'daemon.json'), '--log-level', 'warn'],
    { stdio: ['ignore', 'ignore', 'inherit'] },
  );
  await waitForSocket(socket);
  return {
    name: instance ? `berthd(${dist})` : 'berthd',
    socket,
    execRoot,
    dataRoot: path.join(base, 'data'),
    pid: () => proc.pid!,
    enginePids: () => [proc.pid!],
    stop: async () => {
      const ids = (await docker(socket, ['ps', '-aq'])).stdout.split('\n').filter(Boolean);
      if (ids.length) await docker(socket, ['rm', '-f', ...ids]);
      proc.kill('SIGTERM');
      await new Promise((r) => proc.once('exit', r));
      cleanupDaemonNetwork(slot.bridge, path.join(base, 'data'));
      releaseNetSlot(slot);
      fs.rmSync(base, { recursive: true, force: true });
      fs.rmSync(execRoot, { recursive: true, force: true });
    },
  };
}

export function dockerdAvailable(): boolean {
  return fs.existsSync('/usr/sbin/dockerd') || fs.existsSync('/usr/bin/dockerd');
}

/**
 * dockerd 20.10 with its own containerd, data root and socket. `network` replaces the network flags
 * (bip, pools); `isolated` leaves the host's network alone (no default bridge, no iptables rules):
 * for checks that run with --network none.
 */
export async function startDockerd(opts: { isolated?: boolean; network?: string[] } = {}): Promise<Engine & { dataRoot: string }> {
  const network = opts.isolated ? ['--bridge', 'none', '--iptables=false', '--ip-masq=false'] : (opts.network ?? ['--bip', '10.253.0.1/24', '--default-address-pool', 'base=10.254.0.0/16,size=24']);
  const base = fs.mkdtempSync(path.join(os.tmpdir(), 'dockerd-bench-'));
  const socket = path.join(base, 'docker.sock');
  const bin = fs.existsSync('/usr/sbin/dockerd') ? '/usr/sbin/dockerd' : '/usr/bin/dockerd';
  const proc = spawn(
    bin,
    ['--data-root', path.join(base, 'data'), '--exec-root', path.join(base, 'exec'), '--pidfile', path.join(base, 'dockerd.pid'), '-H', `unix://${socket}`, ...network, '--storage-driver', 'overlay2', '--log-level', 'warn'],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let log = '';
  proc.stderr!.on('data', (d: Buffer) => (log += d.toString()));
  await waitForSocket(socket).catch((err) => {
    throw new Error(`${err.message}\n${log.slice(-2000)}`);
  });
  const childPids = () => {
    try {
      return fs.readFileSync(`/proc/${proc.pid}/task/${proc.pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
    } catch {
      return [];
    }
  };
  return {
    name: 'dockerd 20.10',
    socket,
    dataRoot: path.join(base, 'data'),
    pid: () => proc.pid!,
    enginePids: () => [proc.pid!, ...childPids()],
    stop: async () => {
      const ids = (await docker(socket, ['ps', '-aq'])).stdout.split('\n').filter(Boolean);
      if (ids.length) await docker(socket, ['rm', '-f', ...ids]);
      proc.kill('SIGTERM');
      await new Promise((r) => proc.once('exit', r));
      await new Promise((r) => execFile('sh', ['-c', `grep ' ${base}' /proc/self/mounts | cut -d' ' -f2 | sort -r | xargs -r -n1 umount -l`], r));
      fs.rmSync(base, { recursive: true, force: true });
    },
  };
}

export function rssKiB(pid: number): number {
  try {
    const m = /^VmRSS:\s+(\d+) kB/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

/** PIDs of processes whose command line matches. */
export function pidsMatching(re: RegExp): number[] {
  const out: number[] = [];
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const cmd = fs.readFileSync(`/proc/${d}/cmdline`, 'utf8').replace(/\0/g, ' ');
      if (re.test(cmd)) out.push(Number(d));
    } catch {
      /* gone */
    }
  }
  return out;
}

export function stats(ms: number[]): { median: number; p90: number; min: number; n: number } {
  const s = [...ms].sort((a, b) => a - b);
  const q = (p: number) => s[Math.min(s.length - 1, Math.floor(p * s.length))]!;
  return { median: q(0.5), p90: q(0.9), min: s[0]!, n: s.length };
}

export function machine(): string {
  return `${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, Linux ${os.release()}`;
}
