/**
 * A/B of two berthd builds on the same machine at the same moment: `docker run --rm busybox
 * true` (bridge and --network none), interleaved round by round so that whatever load the
 * machine has at that moment weighs on both alike. For a restructuring that must not slow
 * the start path: build the baseline into another folder inside the repo, e.g.
 *   git archive main | tar -x -C /tmp/base && (cd /tmp/base && npm ci && npm run build)
 *   cp -r /tmp/base/dist .build/main-dist
 * Usage: npx tsx bench/engine-ab.ts --a .build/main-dist --b dist [--runs 40] [--json out.json]
 */
import fs from 'node:fs';
import { parseArgs } from 'node:util';
import { docker, dockerOk, ensureBusyboxTar, machine, startBerthd, stats, type Engine } from './lib/engines.js';

const { values } = parseArgs({ options: { a: { type: 'string', default: '.build/main-dist' }, b: { type: 'string', default: 'dist' }, runs: { type: 'string', default: '40' }, json: { type: 'string' } } });
const runs = Number(values.runs);

async function rounds(engines: Engine[], args: string[]): Promise<Map<Engine, number[]>> {
  for (let i = 0; i < 3; i++) for (const e of engines) await dockerOk(e.socket, args);
  const ms = new Map<Engine, number[]>(engines.map((e) => [e, []]));
  for (let i = 0; i < runs; i++) {
    for (const e of i % 2 === 0 ? engines : [...engines].reverse()) {
      const r = await docker(e.socket, args);
      if (r.code !== 0) throw new Error(`${e.name}: docker ${args.join(' ')}: ${r.stderr}`);
      ms.get(e)!.push(r.ms);
    }
  }
  return ms;
}

const busyboxTar = ensureBusyboxTar();
const a = await startBerthd(values.a, 1);
const b = await startBerthd(values.b, 2);
try {
  const engines = [a, b];
  for (const e of engines) await dockerOk(e.socket, ['import', '-c', 'CMD ["sh"]', busyboxTar, 'busybox:latest']);
  const load = fs.readFileSync('/proc/loadavg', 'utf8').trim();
  const out: Record<string, unknown> = { date: new Date().toISOString(), machine: machine(), loadBefore: load, runs };
  for (const [key, args] of [
    ['runRm', ['run', '--rm', 'busybox', 'true']],
    ['runRmNoNetwork', ['run', '--rm', '--network', 'none', 'busybox', 'true']],
  ] as const) {
    const per = await rounds(engines, [...args]);
    out[key] = { [values.a]: stats(per.get(a)!), [values.b]: stats(per.get(b)!) };
  }
  out.loadAfter = fs.readFileSync('/proc/loadavg', 'utf8').trim();
  console.log(JSON.stringify(out, null, 2));
  if (values.json) fs.writeFileSync(values.json, JSON.stringify(out, null, 2) + '\n');
} finally {
  await a.stop();
  await b.stop();
}
