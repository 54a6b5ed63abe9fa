/**
 * The differential check of the builder against dockerd 20.10's classic
 * builder (Debian's docker.io, bench/install-dockerd.sh): the same contexts
 * and Dockerfiles, built by both with the stock CLI (DOCKER_BUILDKIT=0,
 * --network none), must give the same history `created_by` strings, the
 * same cache decisions over a sequence of rebuilds (identical, touched file,
 * chmod, changed build arg, unused build arg), the same image configs and
 * the same `docker export` listings (names, types, modes, owners, sizes,
 * link targets; mtimes differ by nature).
 *
 *   npx tsx bench/build-differential.ts [--keep]
 *
 * Exits 1 when anything differs; writes bench/results/build-differential.json.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import tar from 'tar-stream';
import { docker, dockerOk, dockerdAvailable, ensureBusyboxTar, machine, repoRoot, startBerthd, startDockerd, type Engine } from './lib/engines.js';

interface Case {
  name: string;
  dockerfile: string;
  /** Extra build flags. */
  flags?: string[];
  /** Rebuild variations: a name and a change to the context (or flags). */
  variations?: Array<{ name: string; change?: (dir: string) => void; flags?: string[] }>;
  /** Tag the result (for a later case's FROM). */
  tag?: string;
}

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-build-diff-'));

function writeContext(dir: string): void {
  const w = (p: string, content: string | Buffer, mode = 0o644) => {
    fs.mkdirSync(path.dirname(path.join(dir, p)), { recursive: true });
    fs.writeFileSync(path.join(dir, p), content);
    fs.chmodSync(path.join(dir, p), mode);
  };
  w('files/bin/tool.sh', '#!/bin/sh\necho tool\n', 0o755);
  w('files/etc/app.conf', 'key=value\n', 0o640);
  w('files/data/big.bin', Buffer.alloc(70_000, 7));
  w('files/data/empty', '');
  fs.symlinkSync('../etc/app.conf', path.join(dir, 'files/bin/conf-link'));
  fs.linkSync(path.join(dir, 'files/data/big.bin'), path.join(dir, 'files/data/big-hardlink.bin'));
  fs.mkdirSync(path.join(dir, 'files/empty-dir'), { mode: 0o700 });
  fs.chmodSync(path.join(dir, 'files/empty-dir'), 0o700);
  w('single.txt', 'single\n');
  w('a.txt', 'a\n');
  w('b.txt', 'b\n', 0o600);
  w('src/one.c', 'int one;\n');
  w('src/two.c', 'int two;\n');
  const archive = path.join(dir, 'archive-src');
  fs.mkdirSync(path.join(archive, 'pkg'), { recursive: true });
  fs.writeFileSync(path.join(archive, 'pkg', 'readme'), 'inside the archive\n');
  execFileSync('tar', ['--owner=7', '--group=8', '-C', archive, '-czf', path.join(dir, 'archive.tar.gz'), 'pkg']);
  fs.rmSync(archive, { recursive: true });
  w('.dockerignore', 'ignored.log\n');
  w('ignored.log', 'never sent\n');
}

const cases: Case[] = [
  {
    name: 'every instruction',
    tag: 'diff-parent:1',
    dockerfile: [
      'FROM busybox',
      'LABEL a=b "c d"=e',
      'ENV PATH=/usr/local/bin:$PATH A="one two"',
      'ARG V=1',
      'ARG W',
      'WORKDIR /srv/app',
      'COPY files/ ./',
      'COPY --chown=1000:1000 single.txt /opt/owned/',
      'COPY *.txt /txt/',
      'ADD archive.tar.gz /unpacked/',
      'ADD single.txt /added',
      'RUN echo $V $A > /srv/app/run.txt && chmod 600 /srv/app/run.txt',
      'RUN ["sh", "-c", "mkdir -p /exec && echo exec > /exec/out"]',
      'USER 1000',
      'EXPOSE 80 443/udp',
      'VOLUME ["/data"]',
      'SHELL ["/bin/sh", "-ec"]',
      'RUN true',
      'STOPSIGNAL SIGQUIT',
      'HEALTHCHECK --interval=30s --timeout=3s --retries=2 CMD true',
      'ONBUILD RUN echo onbuild > /tmp/onbuild.txt',
      'ENTRYPOINT ["/bin/sh"]',
      'CMD ["-c", "cat /srv/app/run.txt"]',
      '',
    ].join('\n'),
    variations: [
      { name: 'identical' },
      { name: 'touch a file', change: (d) => fs.utimesSync(path.join(d, 'single.txt'), new Date(), new Date(Date.now() + 60_000)) },
      { name: 'chmod a file', change: (d) => fs.chmodSync(path.join(d, 'single.txt'), 0o600) },
      { name: 'edit a file', change: (d) => fs.writeFileSync(path.join(d, 'a.txt'), 'a2\n') },
      { name: 'changed build arg', flags: ['--build-arg', 'V=2'] },
      { name: 'unused build arg', flags: ['--build-arg', 'V=2', '--build-arg', 'UNUSED=1'] },
    ],
  },
  {
    name: 'multi-stage with COPY --from',
    dockerfile: [
      'FROM busybox AS build',
      'WORKDIR /work',
      'COPY src/ ./',
      'RUN mkdir -p /out && cat *.c > /out/app && chmod 755 /out/app && ln -s app /out/link && chown 123:456 /out/app',
      'FROM busybox',
      'COPY --from=build /out /usr/local/bin/',
      'COPY --from=build /out/app /app2',
      'COPY --from=0 /work /work-copy',
      '',
    ].join('\n'),
    variations: [{ name: 'identical' }, { name: 'edit a source', change: (d) => fs.appendFileSync(path.join(d, 'src/one.c'), '// x\n') }],
  },
  {
    name: 'ONBUILD triggers in a child',
    dockerfile: 'FROM diff-parent:1\nENV CHILD=1\n',
    variations: [{ name: 'identical' }],
  },
  {
    name: 'FROM scratch',
    dockerfile: 'FROM scratch\nCOPY files/ /\nCOPY single.txt /\nENV X=1\nCMD ["/bin/tool.sh"]\n',
    variations: [{ name: 'identical' }],
  },
  {
    name: 'target of a multi-stage build',
    dockerfile: 'FROM busybox AS one\nENV STAGE=one\nFROM one AS two\nRUN echo two > /two\nFROM busybox AS three\nENV STAGE=three\n',
    flags: ['--target', 'two'],
    variations: [{ name: 'identical' }],
  },
];

interface Build {
  code: number;
  output: string;
  imageId?: string;
  cache: boolean[];
}

async function build(e: Engine, dir: string, flags: string[]): Promise<Build> {
  const r = await docker(e.socket, ['build', '--network', 'none', '--iidfile', path.join(dir, '..', `iid-${e.name.replace(/\W/g, '')}`), ...flags, dir]);
  const steps = r.stdout.split(/^Step \d+\/\d+ : /m).slice(1);
  const idFile = path.join(dir, '..', `iid-${e.name.replace(/\W/g, '')}`);
  const imageId = r.code === 0 && fs.existsSync(idFile) ? fs.readFileSync(idFile, 'utf8').trim() : undefined;
  return { code: r.code, output: r.stdout + r.stderr, ...(imageId ? { imageId } : {}), cache: steps.map((s) => s.includes(' ---> Using cache')) };
}

async function history(e: Engine, id: string): Promise<string[]> {
  return (await dockerOk(e.socket, ['history', '--no-trunc', '--format', '{{.CreatedBy}}', id])).trim().split('\n').reverse();
}

async function config(e: Engine, id: string): Promise<unknown> {
  const c = JSON.parse(await dockerOk(e.socket, ['image', 'inspect', '-f', '{{json .Config}}', id])) as Record<string, unknown>;
  delete c.Image;
  delete c.Hostname;
  for (const k of Object.keys(c)) if (c[k] === null || c[k] === '' || c[k] === false || (Array.isArray(c[k]) && (c[k] as unknown[]).length === 0)) delete c[k];
  return c;
}

/** What each engine's init layer adds (with modes of its own): not the build's doing. */
const INIT_FILES = new Set(['.dockerenv', 'etc/hosts', 'etc/hostname', 'etc/resolv.conf', 'dev/console', 'etc/mtab']);

/** `docker export` entries, without times. */
async function exportListing(e: Engine, id: string): Promise<string[]> {
  const name = `diff-${Math.random().toString(36).slice(2)}`;
  await dockerOk(e.socket, ['create', '--name', name, '--network', 'none', id, 'true']);
  try {
    const file = path.join(work, `${name}.tar`);
    await dockerOk(e.socket, ['export', '-o', file, name]);
    const out: string[] = [];
    const ex = tar.extract();
    const done = new Promise<void>((resolve, reject) => {
      ex.on('entry', (h, stream, next) => {
        // The archive formats differ in ways that are not the build's: "./" prefixes, file-type bits in the mode.
        const name = h.name.replace(/^\.\//, '').replace(/\/$/, '');
        if (name !== '' && name !== '.' && !INIT_FILES.has(name)) {
          out.push(`${h.type} ${name} ${((h.mode ?? 0) & 0o7777).toString(8)} ${h.uid}:${h.gid} ${h.type === 'file' ? h.size : ''}${h.linkname ? ' -> ' + h.linkname.replace(/^\.\//, '') : ''}`);
        }
        stream.resume();
        stream.on('end', next);
      });
      ex.on('finish', resolve);
      ex.on('error', reject);
    });
    fs.createReadStream(file).pipe(ex);
    await done;
    fs.rmSync(file);
    return out.sort();
  } finally {
    await docker(e.socket, ['rm', '-f', name]);
  }
}

function diff(a: string[], b: string[]): string[] {
  const sa = new Set(a);
  const sb = new Set(b);
  return [...a.filter((x) => !sb.has(x)).map((x) => `- ${x}`), ...b.filter((x) => !sa.has(x)).map((x) => `+ ${x}`)];
}

async function main(): Promise<void> {
  if (!dockerdAvailable()) {
    console.error('dockerd is not installed: run bench/install-dockerd.sh first');
    process.exit(2);
  }
  const keep = process.argv.includes('--keep');
  const busybox = ensureBusyboxTar();
  const berthd = await startBerthd();
  const dockerd = await startDockerd({ isolated: true });
  const engines = [dockerd, berthd];
  const report: Array<Record<string, unknown>> = [];
  let failures = 0;
  try {
    for (const e of engines) await dockerOk(e.socket, ['import', '-c', 'CMD ["sh"]', busybox, 'busybox']);
    for (const c of cases) {
      const dirs = engines.map((e) => {
        const d = path.join(work, `${c.name.replace(/\W+/g, '-')}-${e.name.replace(/\W/g, '')}`, 'ctx');
        fs.mkdirSync(d, { recursive: true });
        writeContext(d);
        fs.writeFileSync(path.join(d, 'Dockerfile'), c.dockerfile);
        return d;
      });
      const flags = [...(c.flags ?? []), ...(c.tag ? ['-t', c.tag] : [])];
      const first = await Promise.all(engines.map((e, i) => build(e, dirs[i]!, flags)));
      const entry: Record<string, unknown> = { case: c.name };
      const problems: string[] = [];
      if (first.some((b) => b.code !== 0)) {
        problems.push(`build failed: ${first.map((b, i) => `${engines[i]!.name}: exit ${b.code}\n${b.output.slice(-1500)}`).join('\n')}`);
      } else {
        const [hd, hb] = await Promise.all(engines.map((e, i) => history(e, first[i]!.imageId!)));
        const hDiff = diff(hd!, hb!);
        if (hDiff.length > 0) problems.push(`history created_by differs:\n${hDiff.join('\n')}`);
        entry.history = hb;
        const [cd, cb] = await Promise.all(engines.map((e, i) => config(e, first[i]!.imageId!)));
        if (JSON.stringify(cd) !== JSON.stringify(cb)) problems.push(`config differs:\n dockerd ${JSON.stringify(cd)}\n berthd  ${JSON.stringify(cb)}`);
        const [ld, lb] = await Promise.all(engines.map((e, i) => exportListing(e, first[i]!.imageId!)));
        const lDiff = diff(ld!, lb!);
        if (lDiff.length > 0) problems.push(`export listing differs:\n${lDiff.join('\n')}`);
        entry.exportEntries = lb!.length;
        const decisions: Array<Record<string, unknown>> = [];
        for (const v of c.variations ?? []) {
          for (const d of dirs) v.change?.(d);
          const runs = await Promise.all(engines.map((e, i) => build(e, dirs[i]!, [...flags, ...(v.flags ?? [])])));
          const same = JSON.stringify(runs[0]!.cache) === JSON.stringify(runs[1]!.cache);
          decisions.push({ variation: v.name, dockerd: runs[0]!.cache, berthd: runs[1]!.cache, same });
          if (!same) problems.push(`cache decisions differ after "${v.name}": dockerd ${JSON.stringify(runs[0]!.cache)} berthd ${JSON.stringify(runs[1]!.cache)}`);
          if (runs.some((r) => r.code !== 0)) problems.push(`rebuild "${v.name}" failed: ${runs.map((r) => r.output.slice(-800)).join('\n')}`);
          if (v.name === 'unused build arg') for (const r of runs) if (!r.output.includes('[Warning] One or more build-args [UNUSED] were not consumed')) problems.push('unused build-arg warning missing');
        }
        entry.cacheDecisions = decisions;
      }
      entry.problems = problems;
      failures += problems.length;
      report.push(entry);
      console.log(`${problems.length === 0 ? 'same ' : 'DIFFERENT'} ${c.name}`);
      for (const p of problems) console.log('  ' + p.replace(/\n/g, '\n  '));
    }
  } finally {
    await Promise.all(engines.map((e) => e.stop()));
    if (!keep) fs.rmSync(work, { recursive: true, force: true });
  }
  const out = { date: new Date().toISOString(), machine: machine(), load: os.loadavg(), dockerd: execFileSync('dockerd', ['--version'], { encoding: 'utf8' }).trim(), failures, cases: report };
  fs.writeFileSync(path.join(repoRoot, 'bench', 'results', 'build-differential.json'), JSON.stringify(out, null, 2) + '\n');
  console.log(failures === 0 ? 'berthd and dockerd 20.10 agree on every case' : `${failures} difference(s)`);
  process.exit(failures === 0 ? 0 : 1);
}

await main();
