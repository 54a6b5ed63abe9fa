/**
 * Build benchmarks (issue 14), berthd side by side with dockerd 20.10's
 * classic builder — and podman build where podman is installed and works:
 *   - a 12-step Dockerfile over a 100 MB, 5,000-file context:
 *     cold build (--no-cache), identical rebuild, rebuild after touching one
 *     source file (the CLI sends the context each time, as users do);
 *   - context upload: the 100 MB context as a ready tar through POST /build
 *     (a one-line Dockerfile), MB/s from the first byte sent to the response's end.
 *   - the floor of any rebuild: the same `docker build` against a server that discards the
 *     upload, i.e. what the stock CLI alone takes to pack and send the context.
 * Engines alternate round by round (and which goes first), medians reported.
 * Goals: rebuild ≤ 0.3× dockerd, cold ≤ 0.7× dockerd, upload ≥ 500 MB/s.
 *
 *   npx tsx bench/build.ts [--rounds 3] [--json bench/results/build.json] [--baseline .build/main-dist]
 */
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { docker, dockerOk, dockerdAvailable, ensureBusyboxTar, machine, repoRoot, startBerthd, startDockerd, stats, type Engine } from './lib/engines.js';

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '3' },
    json: { type: 'string', default: path.join(repoRoot, 'bench', 'results', 'build.json') },
    'skip-dockerd': { type: 'boolean' },
    // A second berthd from another build of the checkout (e.g. main's, in .build/main-dist), measured in the same rounds.
    baseline: { type: 'string' },
  },
});
const rounds = Number(values.rounds);

const DOCKERFILE = `FROM busybox
ARG BUILD_NO=1
ENV APP=/app LANG=C.UTF-8
LABEL bench=build
WORKDIR /app
COPY src/ /app/src/
RUN find /app/src -type f | wc -l > /app/count
RUN du -sk /app/src > /app/size
USER 1000
EXPOSE 8080
ENTRYPOINT ["/bin/sh", "-c"]
CMD ["cat /app/count /app/size"]
`;

/** 100 directories × 50 files of incompressible data, 100 MB in all. */
function makeContext(dir: string): { files: number; bytes: number } {
  let files = 0;
  let bytes = 0;
  const per = Math.floor((100 * 1024 * 1024) / 5000);
  for (let d = 0; d < 100; d++) {
    const sub = path.join(dir, 'src', `pkg${String(d).padStart(3, '0')}`);
    fs.mkdirSync(sub, { recursive: true });
    for (let f = 0; f < 50; f++) {
      fs.writeFileSync(path.join(sub, `file${f}.dat`), randomBytes(per));
      files++;
      bytes += per;
    }
  }
  fs.writeFileSync(path.join(dir, 'Dockerfile'), DOCKERFILE);
  return { files, bytes };
}

interface Target {
  name: string;
  build(args: string[]): { ms: number; code: number; out: string } | Promise<{ ms: number; code: number; out: string }>;
  upload?(tar: Buffer): Promise<number>;
}

function engineTarget(e: Engine): Target {
  return {
    name: e.name,
    build: async (args) => {
      const r = await docker(e.socket, ['build', ...args]);
      return { ms: r.ms, code: r.code, out: r.stdout + r.stderr };
    },
    upload: (tar) =>
      new Promise((resolve, reject) => {
        const started = performance.now();
        const req = http.request({ socketPath: e.socket, method: 'POST', path: '/v1.41/build?q=1&dockerfile=Dockerfile.upload', headers: { 'Content-Type': 'application/x-tar', 'Content-Length': tar.length } }, (res) => {
          let body = '';
          res.on('data', (c: Buffer) => (body += c.toString()));
          res.on('end', () => (res.statusCode === 200 && body.includes('sha256:') ? resolve(performance.now() - started) : reject(new Error(`${e.name}: ${res.statusCode} ${body.slice(0, 300)}`))));
        });
        req.on('error', reject);
        req.end(tar);
      }),
  };
}

/**
 * What the stock CLI alone takes to pack and send the context: a server that answers the CLI's
 * probes and discards the upload (no tar parsing, no hashing, no build). A rebuild cannot be faster.
 */
async function startDiscardServer(dir: string): Promise<{ socket: string; close: () => Promise<void> }> {
  const socket = path.join(dir, 'discard.sock');
  const server = http.createServer((req, res) => {
    if (req.url?.endsWith('/_ping')) {
      res.setHeader('API-Version', '1.41');
      res.end('OK');
    } else if (req.url?.includes('/version')) {
      res.setHeader('Content-Type', 'application/json');
      res.end(JSON.stringify({ ApiVersion: '1.41', MinAPIVersion: '1.12', Version: '20.10.0', Os: 'linux', Arch: 'amd64' }));
    } else if (req.url?.includes('/build')) {
      req.resume();
      req.on('end', () => {
        res.setHeader('Content-Type', 'application/json');
        res.end(JSON.stringify({ stream: 'Successfully built 0123456789ab\n' }) + '\n');
      });
    } else {
      res.statusCode = 404;
      res.end('{"message":"page not found"}');
    }
  });
  await new Promise<void>((resolve) => server.listen(socket, resolve));
  return { socket, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

/** podman, if it is installed and can build here (its own storage under a temp root). */
function podmanTarget(root: string): Target | undefined {
  if (spawnSync('podman', ['--version']).status !== 0) return undefined;
  const base = ['--root', path.join(root, 'storage'), '--runroot', path.join(root, 'run'), '--storage-driver', 'overlay', '--runtime', 'runc', '--cgroup-manager', 'cgroupfs', '--events-backend', 'file'];
  const busybox = ensureBusyboxTar();
  if (spawnSync('podman', [...base, 'import', '-c', 'CMD ["sh"]', busybox, 'docker.io/library/busybox:latest']).status !== 0) return undefined;
  const t: Target = {
    name: 'podman',
    build: (args) => {
      const started = performance.now();
      const r = spawnSync('podman', [...base, 'build', '--format', 'docker', '--network', 'none', '--layers', ...args], { maxBuffer: 64 * 1024 * 1024 });
      return { ms: performance.now() - started, code: r.status ?? 1, out: String(r.stdout) + String(r.stderr) };
    },
  };
  const probe = fs.mkdtempSync(path.join(root, 'probe-'));
  fs.writeFileSync(path.join(probe, 'Dockerfile'), 'FROM busybox\nRUN true\n');
  const ok = t.build([probe]) as { code: number };
  return ok.code === 0 ? t : undefined;
}

async function main(): Promise<void> {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-build-bench-'));
  const ctx = path.join(work, 'ctx');
  const shape = makeContext(ctx);
  const tarFile = path.join(work, 'context.tar');
  execFileSync('tar', ['--owner=0', '--group=0', '--numeric-owner', '-C', ctx, '-cf', tarFile, '.']);
  const tar = fs.readFileSync(tarFile);
  // The context with a one-line Dockerfile of its own name (the context's Dockerfile is the 12-step one).
  const uploadTar = Buffer.concat([createDockerfileTar('FROM busybox\n'), tar]);
  const busybox = ensureBusyboxTar();
  const engines: Engine[] = [await startBerthd()];
  if (values.baseline) engines.push(await startBerthd(values.baseline, 1));
  if (dockerdAvailable() && !values['skip-dockerd']) engines.push(await startDockerd({ isolated: true }));
  const targets: Target[] = engines.map(engineTarget);
  const podmanRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-bench-podman-'));
  const podman = podmanTarget(podmanRoot);
  if (podman) targets.push(podman);
  const results: Record<string, Record<string, number[]>> = Object.fromEntries(targets.map((t) => [t.name, { cold: [], rebuild: [], touched: [], uploadMBps: [] }]));
  const discard = await startDiscardServer(work);
  results['stock CLI alone (discarding server)'] = { rebuild: [] };
  try {
    for (const e of engines) await dockerOk(e.socket, ['import', '-c', 'CMD ["sh"]', busybox, 'busybox']);
    const common = ['--network', 'none', '-t', 'bench-build:1', ctx];
    for (let round = 0; round < rounds; round++) {
      const order = round % 2 === 0 ? targets : [...targets].reverse();
      for (const t of order) {
        const cold = await t.build(['--no-cache', ...common]);
        if (cold.code !== 0) throw new Error(`${t.name} cold build failed:\n${cold.out.slice(-2000)}`);
        results[t.name]!.cold!.push(cold.ms);
      }
      for (const t of order) {
        const again = await t.build(common);
        if (again.code !== 0 || (t.name !== 'podman' && (again.out.match(/Using cache/g) ?? []).length !== 11)) throw new Error(`${t.name} rebuild was not all cache:\n${again.out.slice(-2000)}`);
        results[t.name]!.rebuild!.push(again.ms);
      }
      fs.utimesSync(path.join(ctx, 'src', 'pkg050', 'file7.dat'), new Date(), new Date(Date.now() + (round + 1) * 1000));
      for (const t of order) {
        const touched = await t.build(common);
        if (touched.code !== 0) throw new Error(`${t.name} rebuild after touch failed:\n${touched.out.slice(-2000)}`);
        results[t.name]!.touched!.push(touched.ms);
      }
      const floor = await docker(discard.socket, ['build', ...common]);
      if (floor.code !== 0) throw new Error(`the CLI against the discarding server failed:\n${floor.stdout}${floor.stderr}`);
      results['stock CLI alone (discarding server)']!.rebuild!.push(floor.ms);
      for (const t of order) if (t.upload) results[t.name]!.uploadMBps!.push(uploadTar.length / 1e6 / ((await t.upload(uploadTar)) / 1000));
    }
  } finally {
    await Promise.all(engines.map((e) => e.stop()));
    await discard.close();
    fs.rmSync(work, { recursive: true, force: true });
    fs.rmSync(podmanRoot, { recursive: true, force: true });
  }
  const summary = Object.fromEntries(
    Object.entries(results).map(([name, r]) => [name, Object.fromEntries(Object.entries(r).filter(([, v]) => v.length > 0).map(([k, v]) => [k, stats(v)]))]),
  );
  const out = { date: new Date().toISOString(), machine: machine(), loadBefore: os.loadavg(), context: { ...shape, tarBytes: tar.length }, rounds, summary };
  console.log(JSON.stringify(out, null, 2));
  const b = summary['berthd'] as Record<string, { median: number }>;
  const d = summary['dockerd 20.10'] as Record<string, { median: number }> | undefined;
  if (d) {
    const ratio = (k: string) => (b[k]!.median / d[k]!.median).toFixed(2);
    const floor = summary['stock CLI alone (discarding server)'] as Record<string, { median: number }>;
    console.log(`the stock CLI alone packs and sends the context in ${floor.rebuild!.median.toFixed(0)} ms (${(floor.rebuild!.median / d.rebuild!.median).toFixed(2)}× dockerd's rebuild)`);
    console.log(`cold ${ratio('cold')}× dockerd (goal ≤ 0.7), rebuild ${ratio('rebuild')}× (goal ≤ 0.3), touched ${ratio('touched')}×, upload ${b.uploadMBps!.median.toFixed(0)} MB/s vs ${d.uploadMBps!.median.toFixed(0)} (goal ≥ 500)`);
    const base = values.baseline ? (summary[`berthd(${values.baseline})`] as Record<string, { median: number }> | undefined) : undefined;
    if (base) console.log(`baseline ${values.baseline}: cold ${(base.cold!.median / d.cold!.median).toFixed(2)}×, rebuild ${(base.rebuild!.median / d.rebuild!.median).toFixed(2)}×, touched ${(base.touched!.median / d.touched!.median).toFixed(2)}×, upload ${base.uploadMBps!.median.toFixed(0)} MB/s`);
  }
  fs.writeFileSync(values.json!, JSON.stringify(out, null, 2) + '\n');
}

/** A tar holding one Dockerfile, without the end-of-archive blocks (a context follows). */
function createDockerfileTar(content: string): Buffer {
  const data = Buffer.from(content);
  const h = Buffer.alloc(512);
  h.write('Dockerfile.upload', 0);
  h.write('0000644\0', 100);
  h.write('0000000\0', 108);
  h.write('0000000\0', 116);
  h.write(data.length.toString(8).padStart(11, '0') + '\0', 124);
  h.write(Math.floor(Date.now() / 1000).toString(8).padStart(11, '0') + '\0', 136);
  h.write('        ', 148);
  h.write('0', 156);
  h.write('ustar\u000000', 257, 'latin1');
  let sum = 0;
  for (const c of h) sum += c;
  h.write(sum.toString(8).padStart(6, '0') + '\0 ', 148);
  return Buffer.concat([h, data, Buffer.alloc((512 - (data.length % 512)) % 512)]);
}

await main();
