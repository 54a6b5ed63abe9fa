/**
 * The Berth VM (issue 11): launch → engine ready broken down, the cost of the engine socket's
 * forwarding, and what an idle VM costs the host.
 *
 *   npx tsx bench/vm.ts [--boots 2] [--runs 10] [--idle-seconds 30] [--out bench/results/vm.json]
 *
 * Needs `npm run build` and an image (`npm run vm:build`, or the e2e cache's: BERTH_VM_IMAGES
 * defaults to it). Each boot is `berth vm start` in a fresh BERTH_HOME (the first formats the data
 * disk and compiles the code caches; later ones reuse both, as a user's every start after the first):
 * - phases from `berth vm status --json` (QEMU up, kernel until stage 1, init until the agent runs,
 *   berthd until /_ping answers), the guest's own uptime markers from the console, berthd's start
 *   steps and the code-cache verdicts from its log;
 * - `docker run --rm busybox true` with the stock CLI through the VM's socket, and the same API
 *   sequence (create, wait, start; AutoRemove) from one Node client through the socket and inside the
 *   guest (a privileged container enters the guest's mount namespace and runs the guest's node on
 *   berthd's own socket):
 *   the difference is the forwarding;
 * - idle: QEMU's and the host agent's CPU over --idle-seconds, QEMU's RSS, the guest's memory.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { vmImagesDir } from '../e2e/support/vm-image.js';
import { docker, dockerOk, ensureBusyboxTar, machine, repoRoot, rssKiB, stats } from './lib/engines.js';

const { values } = parseArgs({ options: { boots: { type: 'string', default: '2' }, runs: { type: 'string', default: '10' }, 'idle-seconds': { type: 'string', default: '30' }, out: { type: 'string' } }, strict: true });
const dist = path.resolve(repoRoot, process.env.BERTH_DIST ?? 'dist');
const berthCli = path.join(dist, 'electron', 'cli', 'berth.js');
const home = fs.mkdtempSync(path.join(os.tmpdir(), 'bvm-bench-'));
const env: NodeJS.ProcessEnv = { ...process.env, BERTH_HOME: home, BERTH_VM_IMAGES: process.env.BERTH_VM_IMAGES ?? vmImagesDir, DOCKER_CONFIG: path.join(home, 'docker'), BERTH_VM_CONTEXT: '', BERTH_VM_CPUS: process.env.BERTH_VM_CPUS ?? '2', BERTH_VM_MEMORY_MIB: process.env.BERTH_VM_MEMORY_MIB ?? '1024', BERTH_VM_DISK_GIB: '8' };
const runDir = path.join(home, 'run', 'vm-default');
const socket = path.join(runDir, 'docker.sock');

function berth(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => execFile(process.execPath, [berthCli, ...args], { env, maxBuffer: 16 << 20 }, (err, stdout, stderr) => resolve({ code: err ? 1 : 0, stdout, stderr })));
}
function control(p: string): Promise<string> {
  return new Promise((resolve, reject) => {
    http.get({ socketPath: path.join(runDir, 'control.sock'), path: p }, (res) => {
      let b = '';
      res.on('data', (c: Buffer) => (b += c.toString()));
      res.on('end', () => resolve(b));
    }).on('error', reject);
  });
}
const load = () => os.loadavg().map((l) => l.toFixed(1)).join(' ');
const cpuTicks = (pid: number) => {
  const f = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return Number(f[11]) + Number(f[12]);
};
const pidOf = (name: string) => Number(fs.readFileSync(path.join(runDir, name), 'utf8').trim());

/** `docker run --rm` as API calls, from Node: the same client on the host (through the VM) and in the guest. */
const CLIENT = `
const http = require('http');
const sock = process.argv[1], runs = Number(process.argv[2]);
const call = (method, p, body) => new Promise((res, rej) => { const r = http.request({ socketPath: sock, method, path: p, headers: { 'content-type': 'application/json' } }, (x) => { let b = ''; x.on('data', (c) => (b += c)); x.on('end', () => res({ status: x.statusCode, body: b })); }); r.on('error', rej); r.end(body ? JSON.stringify(body) : undefined); });
(async () => { const ms = [];
  for (let i = 0; i < runs + 1; i++) { const t = performance.now();
    const c = await call('POST', '/v1.43/containers/create', { Image: 'busybox', Cmd: ['true'], HostConfig: { AutoRemove: true } });
    const id = JSON.parse(c.body).Id; const wait = call('POST', '/v1.43/containers/' + id + '/wait?condition=removed');
    await call('POST', '/v1.43/containers/' + id + '/start'); await wait; if (i) ms.push(performance.now() - t); }
  console.log(JSON.stringify(ms)); })().catch((e) => { console.error(e); process.exit(1); });
`;
function nodeClient(args: string[]): Promise<number[]> {
  return new Promise((resolve, reject) => execFile(process.execPath, ['-e', CLIENT, ...args], (err, stdout, stderr) => (err ? reject(new Error(stderr)) : resolve(JSON.parse(stdout) as number[]))));
}

interface Boot {
  at: string;
  load: string;
  timings: Record<string, unknown>;
  console: Record<string, number>;
  berthd: Record<string, unknown> | undefined;
  codeCache: string[];
}

async function boot(): Promise<Boot> {
  const at = new Date().toISOString();
  const before = load();
  const start = await berth(['vm', 'start']);
  if (start.code !== 0) throw new Error(`berth vm start: ${start.stderr}`);
  const status = JSON.parse((await berth(['vm', 'status', '--json'])).stdout) as { timings: Record<string, unknown> };
  const consoleText = fs.readFileSync(path.join(home, 'logs', 'vm-default-console.log'), 'utf8');
  const markers: Record<string, number> = {};
  for (const m of consoleText.matchAll(/berth-(?:init|agent): ([\w-]+) ([\d.]+)$/gm)) markers[m[1]!] ??= Number(m[2]);
  const log = await control('/engine-log?tail=200');
  const ready = [...log.matchAll(/msg="berthd is ready".*uptimeMs=(\d+) startMs="(.*)"/g)].at(-1);
  const codeCache = [...`${consoleText}\n${log}`.matchAll(/berth-launch: (.*)$/gm)].map((m) => m[1]!);
  return { at, load: `${before} → ${load()}`, timings: status.timings, console: markers, berthd: ready ? { uptimeMs: Number(ready[1]), steps: JSON.parse(ready[2]!.replace(/\\"/g, '"')) as unknown } : undefined, codeCache };
}

async function main(): Promise<void> {
  const result: Record<string, unknown> = { date: new Date().toISOString(), machine: machine(), boots: [] as Boot[] };
  try {
    for (let i = 0; i < Number(values.boots); i++) {
      const b = await boot();
      (result.boots as Boot[]).push(b);
      console.log(`boot ${i + 1}: ${JSON.stringify(b)}`);
      if (i < Number(values.boots) - 1) await berth(['vm', 'stop']);
    }
    await dockerOk(socket, ['import', '-c', 'CMD ["sh"]', ensureBusyboxTar(), 'busybox:latest']);
    const runs = Number(values.runs);
    const cli: number[] = [];
    for (let i = 0; i < runs + 1; i++) {
      const r = await docker(socket, ['run', '--rm', 'busybox', 'true']);
      if (r.code !== 0) throw new Error(r.stderr);
      if (i) cli.push(r.ms);
    }
    const viaSocket = await nodeClient([socket, String(runs)]);
    // The guest's node, on berthd's socket inside the guest: a container entering the guest's mount
    // namespace (a bind of the guest's / is refused: it is not a folder shared from the host).
    const inGuest = await docker(socket, ['run', '--rm', '--privileged', '--pid', 'host', 'busybox', 'nsenter', '-t', '1', '-m', '--', '/usr/bin/node', '-e', CLIENT, '/run/berth/docker.sock', String(runs)]);
    if (inGuest.code !== 0) throw new Error(`in the guest: ${inGuest.stderr}`);
    const guestMs = JSON.parse(inGuest.stdout.trim().split('\n').at(-1)!) as number[];
    result.run = { cli: stats(cli), apiViaSocket: stats(viaSocket), apiInGuest: stats(guestMs), load: load() };
    console.log(`run --rm: ${JSON.stringify(result.run)}`);

    await new Promise((r) => setTimeout(r, 10_000));
    const qemu = pidOf('qemu.pid');
    const agent = pidOf('host-agent.pid');
    const t0 = [cpuTicks(qemu), cpuTicks(agent)];
    const idleMs = Number(values['idle-seconds']) * 1000;
    await new Promise((r) => setTimeout(r, idleMs));
    const hz = 100;
    const pct = (a: number, b: number) => Math.round(((b - a) / hz / (idleMs / 1000)) * 1000) / 10;
    const info = JSON.parse(await control('/info')) as { memory?: { total: number; available: number } };
    result.idle = {
      seconds: idleMs / 1000,
      qemuCpuPercent: pct(t0[0]!, cpuTicks(qemu)),
      hostAgentCpuPercent: pct(t0[1]!, cpuTicks(agent)),
      qemuRssMiB: Math.round(rssKiB(qemu) / 102.4) / 10,
      hostAgentRssMiB: Math.round(rssKiB(agent) / 102.4) / 10,
      guestMemoryUsedMiB: info.memory ? Math.round((info.memory.total - info.memory.available) / 1048576) : undefined,
      load: load(),
    };
    console.log(`idle: ${JSON.stringify(result.idle)}`);
  } finally {
    await berth(['vm', 'stop']);
    fs.rmSync(home, { recursive: true, force: true });
  }
  if (values.out) fs.writeFileSync(values.out, JSON.stringify(result, null, 2) + '\n');
}

void main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
