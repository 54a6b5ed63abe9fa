/**
 * Engine core benchmarks (issue: berthd part 1), measured with the stock
 * docker CLI, berthd and — where installed — dockerd 20.10 side by side:
 *   - `docker run --rm busybox true` (default network and --network none)
 *   - `docker ps -a` with 200 containers
 *   - daemon idle RSS; per-running-container overhead outside the container
 *   - `docker logs` of a container that wrote 1,000,000 lines
 * Usage: npx tsx bench/engine-core.ts [--runs 30] [--json out.json]
 */
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { docker, dockerOk, dockerdAvailable, machine, pidsMatching, rssKiB, startBerthd, startDockerd, stats, type Engine } from './lib/engines.js';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '30' }, json: { type: 'string' }, 'skip-dockerd': { type: 'boolean' } } });
const runs = Number(values.runs);
const busyboxTar = '/tmp/berth-e2e-cache/busybox-rootfs.tar';

async function ensureBusyboxTar(): Promise<void> {
  if (fs.existsSync(busyboxTar)) return;
  const { buildBusyboxRootfs } = await import('../e2e/support/rootfs.js');
  fs.mkdirSync(path.dirname(busyboxTar), { recursive: true });
  buildBusyboxRootfs(busyboxTar);
}

async function timeRuns(e: Engine, args: string[], n: number, warmup = 3): Promise<number[]> {
  for (let i = 0; i < warmup; i++) await dockerOk(e.socket, args);
  const ms: number[] = [];
  for (let i = 0; i < n; i++) {
    const r = await docker(e.socket, args);
    if (r.code !== 0) throw new Error(`${e.name}: docker ${args.join(' ')}: ${r.stderr}`);
    ms.push(r.ms);
  }
  return ms;
}

async function bench(e: Engine): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = { engine: e.name };
  await dockerOk(e.socket, ['import', '-c', 'CMD ["sh"]', busyboxTar, 'busybox:latest']);
  await new Promise((r) => setTimeout(r, 2000));
  out.idleRssMiB = e.enginePids().reduce((n, p) => n + rssKiB(p), 0) / 1024;

  out.runRm = stats(await timeRuns(e, ['run', '--rm', 'busybox', 'true'], runs));
  out.runRmNoNetwork = stats(await timeRuns(e, ['run', '--rm', '--network', 'none', 'busybox', 'true'], runs));

  // Per running container: memory of everything outside the container's own processes.
  const before = e.enginePids().reduce((n, p) => n + rssKiB(p), 0);
  const monitorsBefore = pidsMatching(/conmon|containerd-shim/).reduce((n, p) => n + rssKiB(p), 0);
  const running = 20;
  for (let i = 0; i < running; i++) await dockerOk(e.socket, ['run', '-d', '--network', 'none', '--name', `bench-sleep-${i}`, 'busybox', 'sleep', '600']);
  await new Promise((r) => setTimeout(r, 2000));
  const after = e.enginePids().reduce((n, p) => n + rssKiB(p), 0);
  const monitorsAfter = pidsMatching(/conmon|containerd-shim/).reduce((n, p) => n + rssKiB(p), 0);
  out.perContainerOverheadMiB = (after - before + (monitorsAfter - monitorsBefore)) / running / 1024;
  out.perContainerMonitorMiB = (monitorsAfter - monitorsBefore) / running / 1024;
  for (let i = 0; i < running; i++) await dockerOk(e.socket, ['rm', '-f', `bench-sleep-${i}`]);

  // docker ps -a with 200 containers.
  for (let i = 0; i < 200; i++) await dockerOk(e.socket, ['create', '--network', 'none', '--name', `bench-ps-${i}`, '--label', `n=${i}`, 'busybox', 'true']);
  out.psA200 = stats(await timeRuns(e, ['ps', '-a'], 20, 2));
  const ids = (await dockerOk(e.socket, ['ps', '-aq', '--filter', 'name=bench-ps-'])).trim().split('\n');
  for (let i = 0; i < ids.length; i += 50) await dockerOk(e.socket, ['rm', ...ids.slice(i, i + 50)]);
  await new Promise((r) => setTimeout(r, 2000));
  out.rssAfterWorkMiB = e.enginePids().reduce((n, p) => n + rssKiB(p), 0) / 1024;

  // docker logs of 1,000,000 lines.
  await dockerOk(e.socket, ['run', '--name', 'bench-logs', '--network', 'none', 'busybox', 'sh', '-c', 'seq 1 1000000']);
  const logTimes: number[] = [];
  for (let i = 0; i < 3; i++) {
    const r = await docker(e.socket, ['logs', 'bench-logs']);
    if (r.code !== 0 || !r.stdout.endsWith('1000000\n')) throw new Error(`${e.name}: docker logs incomplete`);
    logTimes.push(r.ms);
  }
  const lt = stats(logTimes);
  out.logs1M = { ...lt, linesPerSecond: Math.round(1_000_000 / (lt.median / 1000)) };
  await dockerOk(e.socket, ['rm', 'bench-logs']);
  return out;
}

await ensureBusyboxTar();
const results: Array<Record<string, unknown>> = [];
const berthd = await startBerthd();
try {
  results.push(await bench(berthd));
} finally {
  await berthd.stop();
}
if (!values['skip-dockerd'] && dockerdAvailable()) {
  const dockerd = await startDockerd();
  try {
    results.push(await bench(dockerd));
  } finally {
    await dockerd.stop();
  }
} else {
  console.error('dockerd not installed (bench/install-dockerd.sh): berthd figures only');
}

const report = { date: new Date().toISOString(), machine: machine(), runs, results };
if (values.json) fs.writeFileSync(values.json, JSON.stringify(report, null, 2));
const fmt = (s: unknown) => {
  const v = s as { median: number; p90: number };
  return `${v.median.toFixed(0)} ms (p90 ${v.p90.toFixed(0)})`;
};
console.log(`\n${report.date} — ${report.machine}\n`);
console.log('| metric | ' + results.map((r) => r.engine).join(' | ') + ' |');
console.log('|---|' + results.map(() => '---').join('|') + '|');
const row = (label: string, f: (r: Record<string, unknown>) => string) => console.log(`| ${label} | ${results.map(f).join(' | ')} |`);
row('`docker run --rm busybox true` (default network)', (r) => fmt(r.runRm));
row('`docker run --rm --network none busybox true`', (r) => fmt(r.runRmNoNetwork));
row('`docker ps -a`, 200 containers', (r) => fmt(r.psA200));
row('daemon idle RSS', (r) => `${(r.idleRssMiB as number).toFixed(1)} MiB`);
row('daemon RSS after the run', (r) => `${(r.rssAfterWorkMiB as number).toFixed(1)} MiB`);
row('per running container overhead (daemon growth + monitor)', (r) => `${(r.perContainerOverheadMiB as number).toFixed(2)} MiB (monitor ${(r.perContainerMonitorMiB as number).toFixed(2)} MiB)`);
row('`docker logs`, 1,000,000 lines', (r) => {
  const l = r.logs1M as { median: number; linesPerSecond: number };
  return `${(l.median / 1000).toFixed(2)} s (${(l.linesPerSecond / 1000).toFixed(0)}k lines/s)`;
});
