/**
 * Networking benchmarks (issue: berthd part 2), with the stock docker CLI
 * against a berthd from this checkout:
 *   - HTTP throughput (wrk) to a busybox httpd through a published port
 *     (127.0.0.1 and the host's address) versus straight to the container IP
 *   - `docker run --rm busybox true` with the default bridge, next to
 *     --network none (the part 1 path)
 *   - memory cost of 50 published ports (berthd RSS, and processes added)
 * Usage: BERTH_DIST=.build/x npx tsx bench/networking.ts [--runs 30] [--duration 10] [--json out.json]
 * Needs wrk (scripts/install-system-deps.sh).
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import { parseArgs } from 'node:util';
import { docker, dockerOk, machine, pidsMatching, rssKiB, startBerthd, stats, type Engine, ensureBusyboxTar } from './lib/engines.js';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '30' }, duration: { type: 'string', default: '5' }, json: { type: 'string' } } });
const runs = Number(values.runs);
const duration = Number(values.duration);
function sh(cmd: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => execFile(cmd, args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 }, (err, out, errOut) => (err ? reject(new Error(`${cmd}: ${errOut || err.message}`)) : resolve(out))));
}

/** Requests per second and transfer reported by wrk. */
async function wrk(url: string, seconds = duration): Promise<{ rps: number; errors: number; latencyMs: number }> {
  const out = await sh('wrk', ['-t', '2', '-c', '32', '-d', `${seconds}s`, '--latency', url]);
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1] ?? 0);
  const errs = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  const non2xx = Number(/Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1] ?? 0);
  const lat = /50%\s+([\d.]+)(us|ms|s)/.exec(out);
  const latencyMs = lat ? Number(lat[1]) * (lat[2] === 'us' ? 0.001 : lat[2] === 's' ? 1000 : 1) : NaN;
  return { rps, errors: (errs ? errs.slice(1).reduce((n, x) => n + Number(x), 0) : 0) + non2xx, latencyMs };
}

function hostAddress(): string | undefined {
  for (const [name, addrs] of Object.entries(os.networkInterfaces())) {
    if (/^(lo|br-|bte|bb|bn|berth|veth|docker)/.test(name)) continue;
    const a = addrs?.find((x) => x.family === 'IPv4' && !x.internal);
    if (a) return a.address;
  }
  return undefined;
}

async function timeRuns(e: Engine, args: string[], n: number, warmup = 3): Promise<number[]> {
  for (let i = 0; i < warmup; i++) await dockerOk(e.socket, args);
  const ms: number[] = [];
  for (let i = 0; i < n; i++) {
    const r = await docker(e.socket, args);
    if (r.code !== 0) throw new Error(`docker ${args.join(' ')}: ${r.stderr}`);
    ms.push(r.ms);
  }
  return ms;
}

/** RSS of berthd, sampled a few times after things settle (Node's heap moves). */
async function settledRss(e: Engine): Promise<number> {
  const samples: number[] = [];
  for (let i = 0; i < 5; i++) {
    await new Promise((r) => setTimeout(r, 1000));
    samples.push(e.enginePids().reduce((n, p) => n + rssKiB(p), 0));
  }
  return stats(samples).median;
}

const NODE_SERVER = "const b=Buffer.alloc(1024,120);require('http').createServer((q,s)=>s.end(b)).listen(8080)";

/**
 * Throughput to one server by the three paths, in interleaved rounds so
 * machine noise hits each path alike. Medians of the rounds.
 */
async function compare(e: Engine, name: string, containerPort: number, hostPort: number, rounds: number): Promise<Record<string, number>> {
  const ip = (await dockerOk(e.socket, ['inspect', '-f', '{{.NetworkSettings.IPAddress}}', name])).trim();
  const addr = hostAddress();
  const direct: number[] = [];
  const loopback: number[] = [];
  const viaAddr: number[] = [];
  for (let round = 0; round < rounds; round++) {
    direct.push((await wrk(`http://${ip}:${containerPort}/`)).rps);
    loopback.push((await wrk(`http://127.0.0.1:${hostPort}/`)).rps);
    if (addr) viaAddr.push((await wrk(`http://${addr}:${hostPort}/`)).rps);
  }
  const med = (xs: number[]) => stats(xs).median;
  const out: Record<string, number> = { directRps: med(direct), loopbackRps: med(loopback), loopbackRatio: med(loopback) / med(direct) };
  if (addr) Object.assign(out, { hostAddrRps: med(viaAddr), hostAddrRatio: med(viaAddr) / med(direct) });
  return out;
}

async function hostPort(e: Engine, name: string, port: string): Promise<number> {
  const out = (await dockerOk(e.socket, ['port', name, port])).trim();
  return Number(out.slice(out.lastIndexOf(':') + 1));
}

async function throughput(e: Engine): Promise<Record<string, unknown>> {
  // Keep-alive HTTP (what forwarding costs per packet): Node's http server, run from the host's root inside the container.
  await dockerOk(e.socket, ['run', '-d', '--name', 'bench-node', '-p', '8080', '-v', '/:/host:ro', 'busybox', 'chroot', '/host', process.execPath, '-e', NODE_SERVER]);
  await new Promise((r) => setTimeout(r, 1500));
  const keepAlive = await compare(e, 'bench-node', 8080, await hostPort(e, 'bench-node', '8080'), 5);
  await dockerOk(e.socket, ['rm', '-f', 'bench-node']);
  // One connection per request (busybox httpd closes each): connection setup through NAT. A fresh
  // server per path, and short runs, keep TIME_WAIT pile-ups of one path from slowing the next.
  const perConn: Record<string, number[]> = { direct: [], loopback: [], hostAddr: [] };
  const addr = hostAddress();
  for (const [key, target] of [
    ['direct', ''],
    ['loopback', '127.0.0.1'],
    ['hostAddr', addr ?? ''],
  ] as const) {
    if (key === 'hostAddr' && !addr) continue;
    await dockerOk(e.socket, ['run', '-d', '--name', 'bench-httpd', '-p', '80', 'busybox', 'sh', '-c', 'mkdir /www && head -c 1024 /dev/zero | tr "\\0" x > /www/index.html && exec httpd -f -p 80 -h /www']);
    await new Promise((r) => setTimeout(r, 500));
    const ip = (await dockerOk(e.socket, ['inspect', '-f', '{{.NetworkSettings.IPAddress}}', 'bench-httpd'])).trim();
    const port = await hostPort(e, 'bench-httpd', '80');
    perConn[key]!.push((await wrk(key === 'direct' ? `http://${ip}:80/` : `http://${target}:${port}/`, 5)).rps);
    await dockerOk(e.socket, ['rm', '-f', 'bench-httpd']);
  }
  return {
    keepAlive,
    connectionPerRequest: {
      directRps: perConn.direct[0],
      loopbackRps: perConn.loopback[0],
      loopbackRatio: perConn.loopback[0]! / perConn.direct[0]!,
      ...(addr ? { hostAddrRps: perConn.hostAddr[0], hostAddrRatio: perConn.hostAddr[0]! / perConn.direct[0]! } : {}),
    },
  };
}

async function portsMemory(e: Engine): Promise<Record<string, unknown>> {
  // Growth of berthd's RSS when ports are published (Node keeps its heap once grown, so each step
  // is measured against the one before, and a warm-up publish comes first).
  const engineProcs = () => pidsMatching(new RegExp(`${execRoot}/`)).length;
  await dockerOk(e.socket, ['run', '-d', '--name', 'bench-noports', 'busybox', 'sleep', '600']);
  await dockerOk(e.socket, ['run', '--rm', '-p', '80', 'busybox', 'true']);
  const procsWithoutPorts = engineProcs();
  const base = await settledRss(e);
  await dockerOk(e.socket, ['run', '-d', '--name', 'bench-50ports', '-p', '21000-21049:21000-21049', 'busybox', 'sleep', '600']);
  const with50 = await settledRss(e);
  // The engine runs the same processes for a container with ports as for one without (its monitor): more would be proxies.
  const procsWithPorts = engineProcs();
  await dockerOk(e.socket, ['run', '-d', '--name', 'bench-manyports', '-p', '22000-26999:22000-26999', 'busybox', 'sleep', '600']);
  const with5050 = await settledRss(e);
  await dockerOk(e.socket, ['rm', '-f', 'bench-50ports', 'bench-manyports', 'bench-noports']);
  return {
    rssBaseMiB: base / 1024,
    costOf50PortsMiB: (with50 - base) / 1024,
    costOf5000PortsMiB: (with5050 - with50) / 1024,
    extraProcesses: procsWithPorts - 2 * procsWithoutPorts,
  };
}

const busyboxTar = ensureBusyboxTar();
const e = await startBerthd();
const execRoot = e.execRoot;
const result: Record<string, unknown> = { engine: 'berthd' };
try {
  await dockerOk(e.socket, ['import', '-c', 'CMD ["sh"]', busyboxTar, 'busybox:latest']);
  result.runRmBridge = stats(await timeRuns(e, ['run', '--rm', 'busybox', 'true'], runs));
  result.runRmNone = stats(await timeRuns(e, ['run', '--rm', '--network', 'none', 'busybox', 'true'], runs));
  result.runRmPublished = stats(await timeRuns(e, ['run', '--rm', '-p', '80', 'busybox', 'true'], runs));
  Object.assign(result, await throughput(e));
  Object.assign(result, await portsMemory(e));
} finally {
  await e.stop();
}

const report = { date: new Date().toISOString(), machine: machine(), load: os.loadavg().map((l) => l.toFixed(2)).join(' '), runs, durationSeconds: duration, result };
if (values.json) fs.writeFileSync(values.json, JSON.stringify(report, null, 2));
const r = result as Record<string, number & { median: number; p90: number }>;
const f = (s: { median: number; p90: number }) => `${s.median.toFixed(0)} ms (p90 ${s.p90.toFixed(0)})`;
console.log(`\n${report.date} — ${report.machine} — load ${report.load}\n`);
console.log('| metric | berthd |');
console.log('|---|---|');
console.log(`| \`docker run --rm busybox true\`, default bridge (${runs} runs) | ${f(r.runRmBridge)} |`);
console.log(`| same with \`--network none\` | ${f(r.runRmNone)} |`);
console.log(`| same with \`-p 80\` (bridge + a published port) | ${f(r.runRmPublished)} |`);
const ka = r.keepAlive as unknown as Record<string, number>;
const pc = r.connectionPerRequest as unknown as Record<string, number>;
const pct = (x: number) => `${(x * 100).toFixed(0)}% of direct`;
console.log(`| HTTP keep-alive (wrk -t2 -c32, 1 KiB): straight to the container IP | ${Math.round(ka.directRps!)} req/s |`);
console.log(`| … through the published port on 127.0.0.1 | ${Math.round(ka.loopbackRps!)} req/s (${pct(ka.loopbackRatio!)}) |`);
if (ka.hostAddrRps) console.log(`| … through the published port on the host address | ${Math.round(ka.hostAddrRps)} req/s (${pct(ka.hostAddrRatio!)}) |`);
console.log(`| HTTP, one connection per request (busybox httpd): straight to the container IP | ${Math.round(pc.directRps!)} req/s |`);
console.log(`| … through the published port on 127.0.0.1 | ${Math.round(pc.loopbackRps!)} req/s (${pct(pc.loopbackRatio!)}) |`);
if (pc.hostAddrRps) console.log(`| … through the published port on the host address | ${Math.round(pc.hostAddrRps)} req/s (${pct(pc.hostAddrRatio!)}) |`);
console.log(`| memory of 50 published ports (berthd RSS growth) | ${r.costOf50PortsMiB.toFixed(2)} MiB, ${r.extraProcesses} extra processes |`);
console.log(`| memory of 5000 more published ports (berthd RSS growth) | ${r.costOf5000PortsMiB.toFixed(2)} MiB (${((r.costOf5000PortsMiB * 1024) / 5000).toFixed(2)} KiB per port) |`);
