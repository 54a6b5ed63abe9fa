/**
 * Stress of the lifecycle races (issue 10 items 4 and 5), bounded in rounds and seconds,
 * reporting counts rather than pass/fail:
 *   - rm -f during start: create, `docker start` in the background, a random 0–300 ms pause,
 *     `docker rm -f`; counts rounds after which a namespace, veth, mount, runc state or
 *     monitor was left (support/consistency.ts);
 *   - kill -9 of berthd during `docker run -d -v vol:/data`: restart, count rounds whose
 *     records do not match the host, and failures of the first `docker exec` after the restart.
 * Usage: [BERTH_DIST=.build/main-dist] npx tsx bench/engine-races.ts [--rounds-rm 15] [--rounds-kill 20] [--seconds 180] [--json out.json]
 * (BERTH_DIST picks the build, as for the e2e suite: compare a baseline build of main with this checkout.)
 */
import fs from 'node:fs';
import { parseArgs } from 'node:util';
import { Berthd } from '../e2e/support/berthd.js';
import { inconsistencies, type DaemonPaths } from '../e2e/support/consistency.js';
import { machine } from './lib/engines.js';
import { distDir, repoRoot } from '../e2e/support/paths.js';
import path from 'node:path';

const { values } = parseArgs({
  options: { 'rounds-rm': { type: 'string', default: '15' }, 'rounds-kill': { type: 'string', default: '20' }, seconds: { type: 'string', default: '180' }, json: { type: 'string' } },
});
const deadline = Date.now() + Number(values.seconds) * 1000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const paths = (d: Berthd): DaemonPaths => ({ dataRoot: d.dataRoot, execRoot: d.execRoot, bridge: d.net!.bridge, docker: (a) => d.docker(a) });

const d = await Berthd.start();
const report: Record<string, unknown> = { date: new Date().toISOString(), machine: machine(), build: path.relative(repoRoot, distDir), loadBefore: fs.readFileSync('/proc/loadavg', 'utf8').trim() };
try {
  // rm -f during start.
  let rmRounds = 0;
  let rmLeakRounds = 0;
  const rmProblems: string[] = [];
  for (let i = 0; i < Number(values['rounds-rm']) && Date.now() < deadline; i++) {
    const name = `race-rm-${i}`;
    await d.dockerOk(['create', '--name', name, '-p', '127.0.0.1::80', 'busybox', 'sleep', '30']);
    const starting = d.docker(['start', name]);
    await sleep(Math.random() * 300);
    await d.docker(['rm', '-f', name]);
    await starting;
    rmRounds++;
    const p = await inconsistencies(paths(d));
    if (p.length > 0) {
      rmLeakRounds++;
      rmProblems.push(...p);
    }
  }
  const afterRm = await inconsistencies(paths(d));
  report.rmDuringStart = { rounds: rmRounds, roundsWithLeaks: rmLeakRounds, leftAtEnd: afterRm.length, sample: [...new Set(rmProblems)].slice(0, 5) };

  // kill -9 during docker run.
  await d.dockerOk(['run', '-d', '--name', 'race-keeper', '-v', 'race-keep:/data', 'busybox', 'sleep', '600']);
  let killRounds = 0;
  let inconsistent = 0;
  let execFailures = 0;
  const killProblems: string[] = [];
  for (let i = 0; i < Number(values['rounds-kill']) && Date.now() < deadline; i++) {
    const running = d.docker(['run', '-d', '--name', `race-kill-${i}`, '-v', `race-vol-${i}:/data`, 'busybox', 'sleep', '600']);
    await sleep(50 + Math.random() * 350);
    await d.kill9();
    await running;
    await d.launch();
    killRounds++;
    const p = await inconsistencies(paths(d));
    if (p.length > 0) {
      inconsistent++;
      killProblems.push(...p);
    }
    const exec = await d.docker(['exec', 'race-keeper', 'sh', '-c', 'echo ok > /data/x && cat /data/x']);
    if (exec.code !== 0 || exec.stdout !== 'ok\n') {
      execFailures++;
      killProblems.push(`first exec: ${exec.stderr.trim()}`);
    }
  }
  report.kill9DuringRun = { rounds: killRounds, inconsistentRounds: inconsistent, firstExecFailures: execFailures, sample: [...new Set(killProblems)].slice(0, 5) };
} finally {
  report.loadAfter = fs.readFileSync('/proc/loadavg', 'utf8').trim();
  await d.destroy();
}
console.log(JSON.stringify(report, null, 2));
if (values.json) fs.writeFileSync(values.json, JSON.stringify(report, null, 2) + '\n');
