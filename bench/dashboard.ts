/**
 * Dashboard benchmarks (issue 5), in Debian's Chromium against `berth dashboard`
 * and a berthd from this checkout:
 *   - containers page usable (rows rendered, count shown) after navigation with
 *     2,000 containers listed by the engine (target ≤ 1 s)
 *   - filtering that list: keystroke to updated rows (target ≤ 50 ms)
 *   - Logs view with a container writing 50,000 lines/s for 10 s: longest
 *     main-thread task, lines shown, JS heap before/after
 *   - idle renderer: timers scheduled and CPU used while nothing happens
 *   - JS heap over a long-running log stream (--soak seconds, default 600)
 * Usage: BERTH_DIST=.build/x npx tsx bench/dashboard.ts [--runs 5] [--soak 600] [--json out.json]
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import Docker from 'dockerode';
import { chromium, type Page } from 'playwright-core';
import { dockerOk, machine, repoRoot, rssKiB, startBerthd, stats, ensureBusyboxTar } from './lib/engines.js';

// Page-side code runs in Chromium: its globals, declared for this module only (no DOM lib for the Node program).
/* eslint-disable @typescript-eslint/no-explicit-any */
declare const window: any;
declare const document: any;
declare const requestAnimationFrame: any;
type FrameRequestCallback = (t: number) => void;
/* eslint-enable @typescript-eslint/no-explicit-any */

const { values } = parseArgs({ options: { parts: { type: 'string', default: 'list,idle,logs,soak' }, runs: { type: 'string', default: '5' }, soak: { type: 'string', default: '600' }, containers: { type: 'string', default: '2000' }, json: { type: 'string' } } });
const runs = Number(values.runs);
const soakSeconds = Number(values.soak);
const parts = new Set(values.parts!.split(','));
const count = parts.has('list') ? Number(values.containers) : 0;
const dist = process.env.BERTH_DIST ?? 'dist';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function startDashboard(socket: string): Promise<{ url: string; proc: ChildProcess; home: string }> {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-bench-dash-'));
  const proc = spawn(process.execPath, [path.join(repoRoot, dist, 'electron/cli/berth.js'), 'dashboard'], {
    env: { PATH: process.env.PATH, HOME: home, BERTH_HOME: home, BERTH_ENGINE_SOCKET: path.join(home, 'own.sock'), DOCKER_CONFIG: path.join(home, 'dc'), DOCKER_HOST: `unix://${socket}` },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  proc.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  for (let i = 0; i < 200; i++) {
    const m = /Berth dashboard: (\S+)/.exec(out);
    if (m) return { url: m[1]!, proc, home };
    await sleep(50);
  }
  throw new Error(`berth dashboard did not start: ${out}`);
}

async function createContainers(docker: Docker, n: number): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < n) {
      const i = next++;
      const project: Record<string, string> = i % 4 === 0 ? { 'com.docker.compose.project': `proj${i % 40}`, 'com.docker.compose.service': `svc${i}` } : {};
      await docker.createContainer({ Image: 'busybox', name: `bench-${String(i).padStart(4, '0')}`, Cmd: ['true'], Labels: project });
    }
  };
  await Promise.all(Array.from({ length: 8 }, worker));
}

/** ms from navigation start until the table shows all rows' count and its first rows. */
async function listLoad(page: Page, url: string): Promise<number> {
  await page.goto('about:blank');
  await page.goto(`${url}#/containers`, { waitUntil: 'commit' });
  await page.waitForFunction((n) => document.body.innerText.includes(`${n} of ${n} containers`) && document.querySelectorAll('.trow[data-id]').length > 10, count, { timeout: 30_000, polling: 'raf' });
  return page.evaluate(() => performance.now());
}

/**
 * ms from a keystroke in the search box until the filtered table is painted: React renders a
 * discrete input event synchronously, so the first frame after the input event shows the result.
 */
async function filterLatency(page: Page, text: string): Promise<number[]> {
  const box = page.getByLabel('Search containers');
  await box.fill('');
  await box.focus();
  const out: number[] = [];
  for (const ch of text) {
    await page.evaluate(() => {
      let down = 0;
      window.__t = new Promise<number>((resolve) => {
        document.addEventListener('keydown', () => (down = performance.now()), { once: true, capture: true });
        document.addEventListener('input', () => requestAnimationFrame(() => setTimeout(() => resolve(performance.now() - down), 0)), { once: true });
      });
    });
    await page.keyboard.type(ch);
    out.push(await page.evaluate(() => window.__t));
  }
  return out;
}

const marker = `--berth-bench=${process.pid}`;

/** RSS of this benchmark's Chromium renderer processes (xterm's buffers live outside the JS heap). */
function rendererRssMB(): number {
  const ppid = (pid: string) => {
    try {
      return fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')[1]!;
    } catch {
      return '0';
    }
  };
  const cmd = (pid: string) => {
    try {
      return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    } catch {
      return '';
    }
  };
  const pids = fs.readdirSync('/proc').filter((d) => /^\d+$/.test(d));
  const browser = pids.find((p) => cmd(p).includes(marker));
  if (!browser) return 0;
  let kib = 0;
  for (const p of pids) {
    if (!cmd(p).includes('--type=renderer')) continue;
    let up = p;
    for (let i = 0; i < 4 && up !== '0' && up !== browser; i++) up = ppid(up);
    if (up === browser) kib += rssKiB(Number(p));
  }
  return kib / 1024;
}

async function heapMB(page: Page, gc = false): Promise<number> {
  const cdp = await page.context().newCDPSession(page);
  if (gc) await cdp.send('HeapProfiler.collectGarbage');
  const h = await cdp.send('Runtime.getHeapUsage');
  await cdp.detach();
  return h.usedSize / 2 ** 20;
}

async function main(): Promise<void> {
  const busyboxTar = ensureBusyboxTar();
  const engine = await startBerthd(dist);
  const docker = new Docker({ socketPath: engine.socket });
  const results: Record<string, unknown> = { machine: machine(), date: new Date().toISOString().slice(0, 10), containers: count };
  const dash = await startDashboard(engine.socket);
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: [marker, '--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'] });
  try {
    await dockerOk(engine.socket, ['import', '-c', 'CMD ["sh"]', busyboxTar, 'busybox:latest']);
    let t = Date.now();
    await createContainers(docker, count);
    console.error(`created ${count} containers in ${((Date.now() - t) / 1000).toFixed(1)} s`);
    t = performance.now();
    await docker.listContainers({ all: true });
    results.engineListMs = Math.round(performance.now() - t);

    if (parts.has('list')) {
    const page = await browser.newPage({ viewport: { width: 1360, height: 820 } });
    const loads: number[] = [];
    for (let i = 0; i < runs; i++) loads.push(await listLoad(page, dash.url));
    results.listLoadMs = stats(loads);
    console.error('list load', results.listLoadMs);

    const filters = [...(await filterLatency(page, 'bench-19')), ...(await filterLatency(page, 'proj3 svc')), ...(await filterLatency(page, 'zzz'))];
    results.filterMs = { ...stats(filters), max: Math.max(...filters) };
    console.error('filter', results.filterMs);
    await page.getByLabel('Search containers').fill('');

    // Idle: nothing changes for 20 s on the containers page. Count timers and main-thread time.
    await page.addInitScript(() => {
      const w = window as unknown as { __timers: { timeout: number; interval: number; raf: number } };
      w.__timers = { timeout: 0, interval: 0, raf: 0 };
      const st = window.setTimeout;
      const si = window.setInterval;
      const raf = window.requestAnimationFrame;
      window.setTimeout = ((...a: Parameters<typeof setTimeout>) => (w.__timers.timeout++, st(...a))) as typeof setTimeout;
      window.setInterval = ((...a: Parameters<typeof setInterval>) => (w.__timers.interval++, si(...a))) as typeof setInterval;
      window.requestAnimationFrame = (cb: FrameRequestCallback) => (w.__timers.raf++, raf(cb));
    });
    const idlePage = await browser.newPage({ viewport: { width: 1360, height: 820 } });
    await listLoad(idlePage, dash.url);
    await sleep(3000);
    const cdp = await idlePage.context().newCDPSession(idlePage);
    await cdp.send('Performance.enable');
    const before = await cdp.send('Performance.getMetrics');
    const timers0 = await idlePage.evaluate(() => ({ ...(window as unknown as { __timers: object }).__timers }));
    await sleep(20_000);
    const after = await cdp.send('Performance.getMetrics');
    const timers1 = await idlePage.evaluate(() => ({ ...(window as unknown as { __timers: object }).__timers }));
    const metric = (m: typeof before, n: string) => m.metrics.find((x) => x.name === n)?.value ?? 0;
    results.idle = {
      seconds: 20,
      timersScheduled: Object.fromEntries(Object.entries(timers1).map(([k, v]) => [k, (v as number) - (timers0 as Record<string, number>)[k]!])),
      mainThreadMs: Math.round((metric(after, 'TaskDuration') - metric(before, 'TaskDuration')) * 1000),
      scriptMs: Math.round((metric(after, 'ScriptDuration') - metric(before, 'ScriptDuration')) * 1000),
    };
    console.error('idle', results.idle);
    await idlePage.close();
    await page.close();
    }

    // Logs: 50,000 lines/s for 10 s, starting once the view is open.
    if (parts.has('logs')) {
    const firehose = await docker.createContainer({
      Image: 'busybox',
      name: 'firehose',
      Cmd: ['sh', '-c', 'echo ready; sleep 4; i=0; while [ $i -lt 10 ]; do seq 1 50000 | sed "s/^/batch-$i line /"; i=$((i+1)); sleep 1; done; echo all-written; sleep 100000'],
    });
    await firehose.start();
    const logPage = await browser.newPage({ viewport: { width: 1360, height: 820 } });
    await logPage.goto(`${dash.url}#/containers/${firehose.id}/logs`);
    await logPage.waitForSelector('[data-log-status="live"]');
    await logPage.evaluate(() => {
      const w = window as unknown as { __long: Array<[number, number]> };
      w.__long = [];
      new PerformanceObserver((list: { getEntries(): Array<{ duration: number; startTime: number }> }) => list.getEntries().forEach((e) => w.__long.push([Math.round(e.startTime), Math.round(e.duration)]))).observe({ type: 'longtask' as never, buffered: false });
    });
    const heapBefore = await heapMB(logPage, true);
    const trace = process.env.BENCH_TRACE ? await logPage.context().newCDPSession(logPage) : undefined;
    const traceEvents: Array<{ name: string; ph: string; ts: number; dur?: number; tid: number; args?: unknown }> = [];
    if (trace) {
      trace.on('Tracing.dataCollected', (e) => traceEvents.push(...(e.value as unknown as typeof traceEvents)));
      await trace.send('Tracing.start', { categories: 'devtools.timeline,v8,disabled-by-default-devtools.timeline', transferMode: 'ReportEvents' });
    }
    const profiler = process.env.BENCH_PROFILE ? await logPage.context().newCDPSession(logPage) : undefined;
    if (profiler) {
      await profiler.send('Profiler.enable');
      await profiler.send('Profiler.start');
    }
    const started = Date.now();
    let shownAt = 0;
    while (Date.now() - started < 60_000) {
      const last = await logPage.locator('[data-logs-terminal]').evaluate((el) => {
        const b = (el as unknown as { berthTerminal: { buffer: { active: { length: number; getLine(i: number): { translateToString(t: boolean): string } } } } }).berthTerminal.buffer.active;
        for (let i = b.length - 1; i >= 0; i--) {
          const s = b.getLine(i).translateToString(true);
          if (s) return s;
        }
        return '';
      });
      if (last === 'all-written') {
        shownAt = Date.now();
        break;
      }
      await sleep(250);
    }
    const longTaskList: Array<[number, number]> = await logPage.evaluate(() => window.__long);
    if (profiler) {
      const { profile } = await profiler.send('Profiler.stop');
      const self = new Map<string, number>();
      const dt = new Map<number, number>();
      profile.samples?.forEach((id, i) => dt.set(id, (dt.get(id) ?? 0) + (profile.timeDeltas?.[i] ?? 0) / 1000));
      for (const n of profile.nodes) {
        const key = `${n.callFrame.functionName || '(anon)'} ${n.callFrame.url.split('/').pop()}:${n.callFrame.lineNumber}`;
        self.set(key, (self.get(key) ?? 0) + (dt.get(n.id) ?? 0));
      }
      console.error('hot functions (self ms):', [...self].sort((a, b) => b[1] - a[1]).slice(0, 15));
    }
    if (trace) {
      const ended = new Promise((r) => trace.once('Tracing.tracingComplete', r));
      await trace.send('Tracing.end');
      await ended;
      // Top-level tasks over 50 ms on the renderer main thread, with what took the time inside them.
      const tasks = traceEvents.filter((e) => e.name === 'RunTask' && (e.dur ?? 0) > 50_000);
      for (const t of tasks) {
        const inside = traceEvents.filter((e) => e.tid === t.tid && e.ts >= t.ts && e.ts < t.ts + t.dur! && e !== t && (e.dur ?? 0) > 5_000);
        const sum = new Map<string, number>();
        for (const e of inside) sum.set(e.name, (sum.get(e.name) ?? 0) + e.dur! / 1000);
        console.error(`task ${Math.round(t.dur! / 1000)} ms:`, [...sum].sort((a, b) => b[1] - a[1]).slice(0, 8).map(([n, d]) => `${n} ${Math.round(d)}`).join(', '));
      }
    }
    const longTasks = longTaskList.map(([, d]) => d);
    const heapAfter = await heapMB(logPage, true);
    const fillMs = shownAt - started;
    results.logs = {
      linesWritten: 500_000,
      burstSeconds: 10,
      caughtUpAfterStartMs: shownAt ? fillMs : null,
      longestTaskMs: Math.round(Math.max(0, ...longTasks)),
      longTasksOver50ms: longTasks.filter((d) => d > 50).length,
      longTasksOver100ms: longTasks.filter((d) => d > 100).length,
      heapBeforeMB: +heapBefore.toFixed(1),
      heapAfterMB: +heapAfter.toFixed(1),
      rendererRssAfterMB: Math.round(rendererRssMB()),
      longTasks: longTaskList,
    };
    console.error('logs', results.logs);
    await logPage.close();
    await firehose.remove({ force: true });
    }

    // Soak: a steady stream (100 lines/s) in the Logs view; JS heap sampled after GC.
    if (parts.has('soak') && soakSeconds > 0) {
      const steady = await docker.createContainer({ Image: 'busybox', name: 'steady', Cmd: ['sh', '-c', 'i=0; while :; do i=$((i+1)); echo "steady line $i with some padding to look like a real log message"; usleep 10000; done'] });
      await steady.start();
      const soakPage = await browser.newPage({ viewport: { width: 1360, height: 820 } });
      await soakPage.goto(`${dash.url}#/containers/${steady.id}/logs`);
      await soakPage.waitForSelector('[data-log-status="live"]');
      const samples: Array<{ s: number; mb: number; rssMB: number }> = [];
      const t0 = Date.now();
      while (Date.now() - t0 < soakSeconds * 1000) {
        samples.push({ s: Math.round((Date.now() - t0) / 1000), mb: +(await heapMB(soakPage, true)).toFixed(1), rssMB: Math.round(rendererRssMB()) });
        await sleep(Math.min(60_000, (soakSeconds * 1000) / 10));
      }
      samples.push({ s: Math.round((Date.now() - t0) / 1000), mb: +(await heapMB(soakPage, true)).toFixed(1), rssMB: Math.round(rendererRssMB()) });
      results.soak = { seconds: soakSeconds, linesPerSecond: 100, heapMB: samples };
      console.error('soak', results.soak);
      await soakPage.close();
      await steady.remove({ force: true });
    }
  } finally {
    await browser.close();
    dash.proc.kill('SIGTERM');
    await new Promise((r) => dash.proc.once('exit', r));
    fs.rmSync(dash.home, { recursive: true, force: true });
    await engine.stop();
  }
  const json = JSON.stringify(results, null, 2);
  console.log(json);
  const out = values.json ?? path.join(repoRoot, 'bench', 'results', 'dashboard.json');
  fs.mkdirSync(path.dirname(out), { recursive: true });
  fs.writeFileSync(out, json);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
