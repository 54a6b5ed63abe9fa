/**
 * Engine core benchmarks (issue: berthd part 1), measured with the stock
 * docker CLI, berthd and — where installed — dockerd 20.10 side by side:
 *   - `docker run --rm busybox true` (default network and --network none)
 *   - `docker ps -a` with 200 containers
 *   - daemon idle RSS; per-running-container overhead outside the container
 *   - `docker logs` of a container that wrote 1,000,000 lines
 * Both engines run at once and timed commands alternate between them round by
 * round, so a busy moment of the machine weighs on both alike.
 * Usage: npx tsx bench/engine-core.ts [--runs 30] [--json out.json]
 */
import fs from 'node:fs';
import { parseArgs } from 'node:util';
import { docker, dockerOk, dockerdAvailable, machine, pidsMatching, rssKiB, startBerthd, startDockerd, stats, type Engine, ensureBusyboxTar } from './lib/engines.js';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '30' }, json: { type: 'string' }, 'skip-dockerd': { type: 'boolean' } } });
const runs = Number(values.runs);
/**
 * Times a command on every engine, alternating engine by engine within each round, so that
 * whatever else the machine does at that moment hits all of them alike.
 */
async function timeRounds(engines: Engine[], args: string[], n: number, warmup = 3): Promise<Map<Engine, number[]>> {
  for (let i = 0; i < warmup; i++) for (const e of engines) await dockerOk(e.socket, args);
  const ms = new Map<Engine, number[]>(engines.map((e) => [e, []]));
  for (let i = 0; i < n; i++) {
    // Alternate which engine goes first, too.
    const order = i % 2 === 0 ? engines : [...engines].reverse();
    for (const e of order) {
      const r = await docker(e.socket, args);
      if (r.code !== 0) throw new Error(`${e.name}: docker ${args.join(' ')}: ${r.stderr}`);
      ms.get(e)!.push(r.ms);
    }
  }
  return ms;
}

const sumRss = (e: Engine) => e.enginePids().reduce((n, p) => n + rssKiB(p), 0);
const settle = () => new Promise((r) => setTimeout(r, 2000));

async function bench(engines: Engine[]): Promise<Array<Record<string, unknown>>> {
  const out = new Map<Engine, Record<string, unknown>>(engines.map((e) => [e, { engine: e.name }]));
  const put = (key: string, per: Map<Engine, number[]>) => {
    for (const [e, ms] of per) out.get(e)![key] = stats(ms);
  };
  for (const e of engines) await dockerOk(e.socket, ['import', '-c', 'CMD ["sh"]', busyboxTar, 'busybox:latest']);
  await settle();
  for (const e of engines) out.get(e)!.idleRssMiB = sumRss(e) / 1024;

  put('runRm', await timeRounds(engines, ['run', '--rm', 'busybox', 'true'], runs));
  put('runRmNoNetwork', await timeRounds(engines, ['run', '--rm', '--network', 'none', 'busybox', 'true'], runs));

  // Per running container: memory of everything outside the container's own processes (one engine at a time).
  for (const e of engines) {
    const before = sumRss(e);
    const monitorsBefore = pidsMatching(/conmon|containerd-shim/).reduce((n, p) => n + rssKiB(p), 0);
    const running = 20;
    for (let i = 0; i < running; i++) await dockerOk(e.socket, ['run', '-d', '--network', 'none', '--name', `bench-sleep-${i}`, 'busybox', 'sleep', '600']);
    await settle();
    const after = sumRss(e);
    const monitorsAfter = pidsMatching(/conmon|containerd-shim/).reduce((n, p) => n + rssKiB(p), 0);
    out.get(e)!.perContainerOverheadMiB = (after - before + (monitorsAfter - monitorsBefore)) / running / 1024;
    out.get(e)!.perContainerMonitorMiB = (monitorsAfter - monitorsBefore) / running / 1024;
    for (let i = 0; i < running; i++) await dockerOk(e.socket, ['rm', '-f', `bench-sleep-${i}`]);
  }

  // docker ps -a with 200 containers.
  for (const e of engines) for (let i = 0; i < 200; i++) await dockerOk(e.socket, ['create', '--network', 'none', '--name', `bench-ps-${i}`, '--label', `n=${i}`, 'busybox', 'true']);
  put('psA200', await timeRounds(engines, ['ps', '-a'], Math.max(20, runs), 2));
  for (const e of engines) {
    const ids = (await dockerOk(e.socket, ['ps', '-aq', '--filter', 'name=bench-ps-'])).trim().split('\n');
    for (let i = 0; i < ids.length; i += 50) await dockerOk(e.socket, ['rm', ...ids.slice(i, i + 50)]);
  }
  await settle();
  for (const e of engines) out.get(e)!.rssAfterWorkMiB = sumRss(e) / 1024;

  // docker logs of 1,000,000 lines.
  for (const e of engines) await dockerOk(e.socket, ['run', '--name', 'bench-logs', '--network', 'none', 'busybox', 'sh', '-c', 'seq 1 1000000']);
  const logTimes = new Map<Engine, number[]>(engines.map((e) => [e, []]));
  for (let i = 0; i < 3; i++) {
    for (const e of engines) {
      const r = await docker(e.socket, ['logs', 'bench-logs']);
      if (r.code !== 0 || !r.stdout.endsWith('1000000\n')) throw new Error(`${e.name}: docker logs incomplete`);
      logTimes.get(e)!.push(r.ms);
    }
  }
  for (const [e, ms] of logTimes) {
    const lt = stats(ms);
    out.get(e)!.logs1M = { ...lt, linesPerSecond: Math.round(1_000_000 / (lt.median / 1000)) };
  }
  for (const e of engines) await dockerOk(e.socket, ['rm', 'bench-logs']);
  return engines.map((e) => out.get(e)!);
}

const busyboxTar = ensureBusyboxTar();
const engines: Engine[] = [await startBerthd()];
let results: Array<Record<string, unknown>>;
try {
  if (!values['skip-dockerd'] && dockerdAvailable()) engines.push(await startDockerd());
  else console.error('dockerd not installed (bench/install-dockerd.sh): berthd figures only');
  results = await bench(engines);
} finally {
  for (const e of engines) await e.stop();
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
