/**
 * `docker build` with the stock CLI (DOCKER_BUILDKIT=0: the classic
 * builder API, which is what the CLI uses without buildx): every
 * instruction, the stream and history as dockerd writes them, the cache,
 * failures, -q/--iidfile/-f/stdin, multi-stage, .dockerignore, heredocs,
 * remote contexts and ADD of a URL.
 */
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { execFileSync } from 'node:child_process';
import type { AddressInfo } from 'node:net';
import { test, expect, uniq } from '../support/fixtures.js';
import type { Berthd } from '../support/berthd.js';
import { makeTar } from '../../engine/builder/testing/tars.js';
import { cacheHits, contextDir, rawBuild, short } from './build-kit.js';

test.describe.configure({ mode: 'parallel' });

const idOf = async (d: Berthd, ref: string) => (await d.dockerOk(['image', 'inspect', '-f', '{{.Id}}', ref])).trim();
const history = async (d: Berthd, ref: string) => (await d.dockerOk(['history', '--no-trunc', '--format', '{{.CreatedBy}}', ref])).replace(/\n$/, '').split('\n').reverse();
const build = (d: Berthd, args: string[], input?: string | Buffer) => d.docker(['build', ...args], { timeout: 120_000, ...(input !== undefined ? { input } : {}) });

test('every instruction: the stream, the history and the image as dockerd makes them', async ({ berthd: d }) => {
  const tag = uniq('every');
  const ctx = contextDir({
    Dockerfile: [
      'FROM busybox',
      'LABEL org.example.team="build squad" tier=backend',
      'ENV APP_HOME=/srv/app GREETING="hello world"',
      'ARG VERSION=1.0',
      'WORKDIR $APP_HOME',
      'COPY src/ ./src/',
      'COPY --chown=1000:50 config.ini /etc/app/',
      'ADD bundle.tar.gz /opt/',
      'RUN echo "$GREETING v$VERSION" > version.txt && mkdir /data',
      'RUN ["sh", "-c", "echo exec-form > /exec.txt"]',
      'USER 1000',
      'EXPOSE 8080 53/udp',
      'VOLUME /data',
      'SHELL ["/bin/sh", "-ec"]',
      'STOPSIGNAL SIGINT',
      'HEALTHCHECK --interval=5m --timeout=3s CMD cat version.txt',
      'ONBUILD RUN echo child',
      'ENTRYPOINT ["/bin/sh", "-c"]',
      'CMD ["cat version.txt /exec.txt && id -u && ls /opt/pkg"]',
    ].join('\n'),
    'src/main.sh': { content: 'echo main\n', mode: 0o755 },
    'config.ini': 'k=v\n',
    'bundle.tar.gz': zlib.gzipSync(makeTar([{ name: 'pkg/', type: '5' }, { name: 'pkg/lib.so', content: 'binary' }])),
  });
  try {
    const r = await build(d, ['-t', tag, '--build-arg', 'VERSION=2.1', ctx.dir]);
    expect(r.code, r.stderr).toBe(0);
    const ids = [...r.stdout.matchAll(/^ ---> ([0-9a-f]{12})$/gm)].map((m) => m[1]);
    expect(r.stdout).toMatch(/Sending build context to Docker daemon\s+[\d.]+k?B\s*\nStep 1\/19 : FROM busybox\n ---> [0-9a-f]{12}\nStep 2\/19 : LABEL org.example.team="build squad" tier=backend\n ---> Running in ([0-9a-f]{12})\nRemoving intermediate container \1\n ---> [0-9a-f]{12}\n/);
    // COPY and ADD make layers without a container; RUN prints its output.
    expect(r.stdout).toContain(`Step 6/19 : COPY src/ ./src/\n ---> ${ids[5]}\n`);
    expect(r.stdout).toMatch(/Step 9\/19 : RUN echo "\$GREETING v\$VERSION" > version.txt && mkdir \/data\n ---> Running in ([0-9a-f]{12})\nRemoving intermediate container \1\n/);
    expect(r.stdout).toMatch(new RegExp(`Successfully built ${short(await idOf(d, tag))}\nSuccessfully tagged ${tag}:latest\n$`));

    const h = await history(d, tag);
    expect(h.slice(1)).toEqual([
      '/bin/sh -c #(nop)  LABEL org.example.team=build squad tier=backend',
      '/bin/sh -c #(nop)  ENV APP_HOME=/srv/app GREETING=hello world',
      '/bin/sh -c #(nop)  ARG VERSION=1.0',
      '/bin/sh -c #(nop) WORKDIR /srv/app',
      expect.stringMatching(/^\/bin\/sh -c #\(nop\) COPY dir:[0-9a-f]{64} in \.\/src\/ $/),
      expect.stringMatching(/^\/bin\/sh -c #\(nop\) COPY --chown=1000:50file:[0-9a-f]{64} in \/etc\/app\/ $/),
      expect.stringMatching(/^\/bin\/sh -c #\(nop\) ADD file:[0-9a-f]{64} in \/opt\/ $/),
      '|1 VERSION=2.1 /bin/sh -c echo "$GREETING v$VERSION" > version.txt && mkdir /data',
      '|1 VERSION=2.1 sh -c echo exec-form > /exec.txt',
      '/bin/sh -c #(nop)  USER 1000',
      '/bin/sh -c #(nop)  EXPOSE 53/udp 8080',
      '/bin/sh -c #(nop)  VOLUME [/data]',
      '/bin/sh -ec #(nop)  SHELL [/bin/sh -ec]',
      '/bin/sh -ec #(nop)  STOPSIGNAL SIGINT',
      `/bin/sh -ec #(nop)  HEALTHCHECK &{["CMD-SHELL" "cat version.txt"] "5m0s" "3s" "0s" '\\x00'}`,
      '/bin/sh -ec #(nop)  ONBUILD RUN echo child',
      '/bin/sh -ec #(nop)  ENTRYPOINT ["/bin/sh" "-c"]',
      '/bin/sh -ec #(nop)  CMD ["cat version.txt /exec.txt && id -u && ls /opt/pkg"]',
    ]);
    const cfg = JSON.parse(await d.dockerOk(['image', 'inspect', '-f', '{{json .Config}}', tag]));
    expect(cfg).toMatchObject({
      User: '1000',
      WorkingDir: '/srv/app',
      Env: expect.arrayContaining(['APP_HOME=/srv/app', 'GREETING=hello world']),
      ExposedPorts: { '53/udp': {}, '8080/tcp': {} },
      Volumes: { '/data': {} },
      Labels: { 'org.example.team': 'build squad', tier: 'backend' },
      StopSignal: 'SIGINT',
      Healthcheck: { Test: ['CMD-SHELL', 'cat version.txt'], Interval: 300e9, Timeout: 3e9 },
      OnBuild: ['RUN echo child'],
      Shell: ['/bin/sh', '-ec'],
      Entrypoint: ['/bin/sh', '-c'],
      Cmd: ['cat version.txt /exec.txt && id -u && ls /opt/pkg'],
    });
    // The build arg was not persisted.
    expect(cfg.Env.some((e: string) => e.startsWith('VERSION='))).toBe(false);
    expect(await d.dockerOk(['run', '--rm', tag])).toBe('hello world v2.1\nexec-form\n1000\nlib.so\n');
    expect(await d.dockerOk(['run', '--rm', '--entrypoint', 'stat', tag, '-c', '%u:%g %a %n', '/etc/app/config.ini', '/etc/app', 'src/main.sh'])).toBe('1000:50 644 /etc/app/config.ini\n1000:50 755 /etc/app\n0:0 755 src/main.sh\n');
    // Nothing of the build is left running or stopped.
    expect((await d.dockerOk(['ps', '-aq', '--filter', `ancestor=${tag}`])).trim()).toBe('');
  } finally {
    ctx.cleanup();
    await d.docker(['rmi', tag]);
  }
});

test('the cache: an identical rebuild, a touched file, chmod, a changed build arg', async ({ berthd: d }) => {
  const tag = uniq('cache');
  const ctx = contextDir({ Dockerfile: 'FROM busybox\nARG MODE\nCOPY app.txt /app/\nRUN echo "mode=$MODE" > /app/mode\nCMD ["cat", "/app/mode"]\n', 'app.txt': 'v1\n' });
  const iid = path.join(ctx.dir, '..', `${path.basename(ctx.dir)}.iid`);
  const run = async (...extra: string[]) => {
    const r = await build(d, ['-t', tag, '--iidfile', iid, ...extra, ctx.dir]);
    expect(r.code, r.stderr).toBe(0);
    return { hits: cacheHits(r.stdout), id: fs.readFileSync(iid, 'utf8').trim(), out: r.stdout + r.stderr };
  };
  try {
    const first = await run('--build-arg', 'MODE=a');
    expect(first.hits).toEqual([false, false, false, false, false]);
    expect(first.id).toBe(await idOf(d, tag));
    const again = await run('--build-arg', 'MODE=a');
    expect(again.hits).toEqual([false, true, true, true, true]);
    expect(again.id).toBe(first.id);
    expect(again.out).not.toContain('Running in');
    // A touched file keeps its content hash (mtime is not part of it).
    fs.utimesSync(path.join(ctx.dir, 'app.txt'), new Date(), new Date(Date.now() + 3_600_000));
    expect((await run('--build-arg', 'MODE=a')).hits).toEqual([false, true, true, true, true]);
    // chmod changes it: that step and all after it miss.
    fs.chmodSync(path.join(ctx.dir, 'app.txt'), 0o600);
    expect((await run('--build-arg', 'MODE=a')).hits).toEqual([false, true, false, false, false]);
    // A consumed build arg is part of the RUN's key; an unknown one only warns.
    const changed = await run('--build-arg', 'MODE=b');
    expect(changed.hits).toEqual([false, true, true, false, false]);
    const extra = await run('--build-arg', 'MODE=b', '--build-arg', 'NOT_USED=1');
    expect(extra.hits).toEqual([false, true, true, true, true]);
    expect(extra.out).toContain('[Warning] One or more build-args [NOT_USED] were not consumed');
    expect(await d.dockerOk(['run', '--rm', tag])).toBe('mode=b\n');
    // --cache-from: only the named images' histories can hit; a name that resolves to nothing leaves nothing to hit (as dockerd).
    expect((await run('--cache-from', tag, '--build-arg', 'MODE=b')).hits).toEqual([false, true, true, true, true]);
    expect((await run('--cache-from', uniq('nosuchtag'), '--build-arg', 'MODE=b')).hits).toEqual([false, false, false, false, false]);
    // --no-cache misses everything; the intermediate images stay behind for the next build.
    expect((await run('--no-cache', '--build-arg', 'MODE=b')).hits).toEqual([false, false, false, false, false]);
  } finally {
    ctx.cleanup();
    fs.rmSync(iid, { force: true });
    await d.docker(['rmi', tag]);
  }
});

test('failures: a RUN exit code, syntax errors, a missing Dockerfile, BuildKit-only options', async ({ berthd: d }) => {
  const ctx = contextDir({ Dockerfile: 'FROM busybox\nRUN echo before && exit 3\n' });
  try {
    const failed = await build(d, [ctx.dir]);
    expect(failed.code).toBe(3);
    expect(failed.stdout).toContain('before\n');
    expect(failed.stderr).toContain("The command '/bin/sh -c echo before && exit 3' returned a non-zero code: 3");
    // rm without forcerm keeps the failed step's container, as dockerd does; --force-rm removes it.
    const left = (await d.dockerOk(['ps', '-aq', '--filter', 'status=exited'])).trim().split('\n').filter(Boolean);
    expect(left.length).toBeGreaterThanOrEqual(1);
    await d.dockerOk(['rm', ...left]);
    const forced = await build(d, ['--force-rm', ctx.dir]);
    expect(forced.code).toBe(3);
    expect(forced.stdout).toMatch(/Removing intermediate container [0-9a-f]{12}\n$/);

    fs.writeFileSync(path.join(ctx.dir, 'Dockerfile'), 'FROM busybox\nFROBNICATE x\n');
    const syntax = await build(d, [ctx.dir]);
    expect(syntax.code).toBe(1);
    expect(syntax.stderr).toContain('Error response from daemon: dockerfile parse error line 2: unknown instruction: FROBNICATE');
    // A 400 before any output.
    const raw = await rawBuild(d, '', makeTar([{ name: 'Dockerfile', content: 'FROM busybox\nCOPY onlyone\n' }]));
    expect(raw.status).toBe(400);
    expect(JSON.parse(raw.body)).toEqual({ message: 'dockerfile parse error line 2: COPY requires at least two arguments, but only one was provided. Destination could not be determined' });
    const missing = await rawBuild(d, 'dockerfile=sub/Dockerfile.dev', makeTar([{ name: 'Dockerfile', content: 'FROM busybox\n' }]));
    expect(missing.status).toBe(400);
    expect(JSON.parse(missing.body).message).toBe('Cannot locate specified Dockerfile: sub/Dockerfile.dev');

    fs.writeFileSync(path.join(ctx.dir, 'Dockerfile'), 'FROM busybox\nRUN --mount=type=cache,target=/root/.cache true\n');
    const mount = await build(d, [ctx.dir]);
    expect(mount.code).toBe(1);
    expect(mount.stderr).toContain('the --mount option requires BuildKit. Refer to https://docs.docker.com/go/buildkit/ to learn how to build images with BuildKit enabled');
    fs.writeFileSync(path.join(ctx.dir, 'Dockerfile'), 'FROM busybox\nCOPY --chmod=700 Dockerfile /\n');
    expect((await build(d, [ctx.dir])).stderr).toContain('the --chmod option requires BuildKit');
    fs.writeFileSync(path.join(ctx.dir, 'Dockerfile'), 'FROM busybox\nCOPY nothing-here /x\n');
    expect((await build(d, [ctx.dir])).stderr).toContain('COPY failed: file not found in build context or excluded by .dockerignore: stat nothing-here: file does not exist');
    fs.writeFileSync(path.join(ctx.dir, 'Dockerfile'), 'FROM no-such-image-here\n');
    expect((await build(d, [ctx.dir])).stderr).toMatch(/pull access denied for no-such-image-here|no such host|dial|lookup/);
  } finally {
    ctx.cleanup();
  }
});

test('-q, --iidfile, -f, a Dockerfile on stdin, --label, --target and COPY --from', async ({ berthd: d }) => {
  const tag = uniq('multi');
  const ctx = contextDir({
    'build/Dockerfile.multi': ['FROM busybox AS compile', 'WORKDIR /src', 'COPY hello.txt .', 'RUN tr a-z A-Z < hello.txt > /OUT && chown 123:45 /OUT', 'FROM busybox AS test', 'RUN false', 'FROM busybox AS final', 'COPY --from=compile /OUT /app/OUT', 'COPY --from=0 /src/hello.txt /app/', 'CMD ["cat", "/app/OUT"]', ''].join('\n'),
    'hello.txt': 'hello\n',
  });
  try {
    // The failing stage after the target is never built.
    const q = await build(d, ['-q', '-f', path.join(ctx.dir, 'build/Dockerfile.multi'), '--target', 'compile', '-t', `${tag}:compile`, ctx.dir]);
    expect(q.code, q.stderr).toBe(0);
    expect(q.stdout).toMatch(/^sha256:[0-9a-f]{64}\n$/);
    expect(q.stdout.trim()).toBe(await idOf(d, `${tag}:compile`));
    const withTest = await build(d, ['-f', path.join(ctx.dir, 'build/Dockerfile.multi'), ctx.dir]);
    expect(withTest.code).toBe(1);
    expect(withTest.stderr).toContain("The command '/bin/sh -c false' returned a non-zero code: 1");
    // Stdin Dockerfile (the CLI sends it as .dockerfile.<random> in the context), labels on the last stage.
    const df = fs.readFileSync(path.join(ctx.dir, 'build/Dockerfile.multi'), 'utf8').replace('RUN false', 'RUN true');
    const iid = path.join(os.tmpdir(), `${uniq('iid')}`);
    const r = await build(d, ['-f', '-', '--iidfile', iid, '--label', 'built.by=e2e', '--label', 'a=1', '-t', tag, ctx.dir], df);
    expect(r.code, r.stderr).toBe(0);
    expect(fs.readFileSync(iid, 'utf8').trim()).toBe(await idOf(d, tag));
    fs.rmSync(iid);
    expect(r.stdout).toContain('Step 11/12 : LABEL a=1\n');
    expect(r.stdout).toContain('Step 12/12 : LABEL built.by=e2e\n');
    expect(await d.dockerOk(['run', '--rm', tag])).toBe('HELLO\n');
    // COPY --from keeps the owner the stage gave the file.
    expect(await d.dockerOk(['run', '--rm', tag, 'stat', '-c', '%u:%g', '/app/OUT', '/app/hello.txt'])).toBe('123:45\n0:0\n');
    expect(JSON.parse(await d.dockerOk(['image', 'inspect', '-f', '{{json .Config.Labels}}', tag]))).toEqual({ a: '1', 'built.by': 'e2e' });
    // `docker build -` : a Dockerfile alone, no context.
    const alone = await build(d, ['-t', `${tag}:alone`, '-'], 'FROM busybox\nRUN echo from-stdin > /s\n');
    expect(alone.code, alone.stderr).toBe(0);
    expect(await d.dockerOk(['run', '--rm', `${tag}:alone`, 'cat', '/s'])).toBe('from-stdin\n');
  } finally {
    ctx.cleanup();
    await d.docker(['rmi', tag, `${tag}:compile`, `${tag}:alone`]);
  }
});

test('.dockerignore, heredocs, ONBUILD, ENTRYPOINT clearing CMD, --chown by name', async ({ berthd: d }) => {
  const tag = uniq('misc');
  const ctx = contextDir({
    Dockerfile: [
      'FROM busybox',
      'COPY . /ctx/',
      'COPY --chown=user:staff keep.txt /owned/',
      'RUN <<EOF',
      'set -e',
      'echo "heredoc ran" > /heredoc.txt',
      'EOF',
      'RUN <<EOF',
      '#!/bin/sh',
      'echo "script $0" > /script.txt',
      'EOF',
      'COPY <<EOF /generated.conf',
      'port=$PORT',
      'EOF',
      'ONBUILD COPY keep.txt /from-trigger.txt',
      'ENTRYPOINT ["cat"]',
      '',
    ].join('\n'),
    '.dockerignore': '*.log\nsecrets/\n!secrets/public.txt\n',
    'keep.txt': 'keep\n',
    'debug.log': 'no\n',
    'secrets/key': 'no\n',
    'secrets/public.txt': 'yes\n',
  });
  try {
    const r = await build(d, ['-t', tag, ctx.dir]);
    expect(r.code, r.stderr).toBe(0);
    expect((await d.dockerOk(['run', '--rm', '--entrypoint', 'find', tag, '/ctx', '-type', 'f'])).split('\n').filter(Boolean).sort()).toEqual(['/ctx/.dockerignore', '/ctx/Dockerfile', '/ctx/keep.txt', '/ctx/secrets/public.txt']);
    expect(await d.dockerOk(['run', '--rm', tag, '/heredoc.txt', '/script.txt', '/generated.conf'])).toBe('heredoc ran\nscript /dev/pipes/EOF\nport=\n');
    expect(await d.dockerOk(['run', '--rm', '--entrypoint', 'stat', tag, '-c', '%u:%g', '/owned/keep.txt'])).toBe('1000:50\n');
    // ENTRYPOINT drops the base's CMD ["sh"].
    expect(JSON.parse(await d.dockerOk(['image', 'inspect', '-f', '{{json .Config.Cmd}}', tag]))).toBeNull();
    // A child runs the trigger right after FROM.
    const child = contextDir({ Dockerfile: `FROM ${tag}\nCMD ["/from-trigger.txt"]\n`, 'keep.txt': 'child context\n' });
    try {
      const c = await build(d, ['-t', `${tag}-child`, child.dir]);
      expect(c.code, c.stderr).toBe(0);
      expect(c.stdout).toMatch(/Step 1\/2 : FROM .*\n# Executing 1 build trigger\n ---> [0-9a-f]{12}\n/);
      expect(await d.dockerOk(['run', '--rm', `${tag}-child`])).toBe('child context\n');
    } finally {
      child.cleanup();
    }
  } finally {
    ctx.cleanup();
    await d.docker(['rmi', `${tag}-child`, tag]);
  }
});

test('remote contexts (a tar URL, a Dockerfile URL, git refused) and ADD of a URL', async ({ berthd: d }) => {
  const tag = uniq('remote');
  const contextTar = zlib.gzipSync(makeTar([{ name: 'Dockerfile', content: 'FROM busybox\nCOPY msg /msg\nCMD ["cat", "/msg"]\n' }, { name: 'msg', content: 'from a remote tar\n' }]));
  let downloads = 0;
  const server = http.createServer((req, res) => {
    if (req.url === '/ctx.tar.gz') {
      res.writeHead(200, { 'Content-Type': 'application/x-gzip' });
      res.end(contextTar);
    } else if (req.url === '/Dockerfile') {
      res.writeHead(200, { 'Content-Type': 'text/plain' });
      res.end('FROM busybox\nRUN echo plain > /plain\n');
    } else if (req.url === '/files/data.bin') {
      downloads++;
      res.writeHead(200, { 'Content-Type': 'application/octet-stream', 'Last-Modified': 'Wed, 21 Oct 2015 07:28:00 GMT' });
      res.end('downloaded bytes\n');
    } else {
      res.writeHead(404);
      res.end('nope');
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const ctx = contextDir({ Dockerfile: `FROM busybox\nADD ${base}/files/data.bin /dl/\nRUN stat -c '%a %Y' /dl/data.bin > /dl/meta\n` });
  try {
    const r = await build(d, ['-t', tag, `${base}/ctx.tar.gz`]);
    expect(r.code, r.stderr).toBe(0);
    expect(await d.dockerOk(['run', '--rm', tag])).toBe('from a remote tar\n');
    const p = await build(d, ['-t', `${tag}:plain`, `${base}/Dockerfile`]);
    expect(p.code, p.stderr).toBe(0);
    expect(await d.dockerOk(['run', '--rm', `${tag}:plain`, 'cat', '/plain'])).toBe('plain\n');
    const git = await rawBuild(d, `remote=${encodeURIComponent('https://example.invalid/repo.git')}`, undefined);
    expect(git.status).toBe(501);
    expect(JSON.parse(git.body).message).toContain('git build contexts are not supported');
    // ADD of a URL: downloaded at every build, 0600, mtime from Last-Modified, cached when the content is the same.
    const a = await build(d, ['-t', `${tag}:add`, ctx.dir]);
    expect(a.code, a.stderr).toBe(0);
    expect(await d.dockerOk(['run', '--rm', `${tag}:add`, 'cat', '/dl/data.bin', '/dl/meta'])).toBe('downloaded bytes\n600 1445412480\n');
    const b = await build(d, ['-t', `${tag}:add`, ctx.dir]);
    expect(cacheHits(b.stdout)).toEqual([false, true, true]);
    expect(downloads).toBe(2);
  } finally {
    ctx.cleanup();
    server.close();
    await d.docker(['rmi', tag, `${tag}:plain`, `${tag}:add`]);
  }
});

test('hostile contexts: names climbing out, links out of the context, a gzip bomb', async ({ berthd: d }) => {
  const climb = await rawBuild(d, '', makeTar([{ name: 'Dockerfile', content: 'FROM busybox\n' }, { name: '../../escape', content: 'x' }]));
  expect(climb.status).toBe(400);
  expect(JSON.parse(climb.body).message).toBe('Error processing tar file: "../../escape" is outside of the build context');
  // A link to /etc/passwd names the context's own etc/passwd, never the host's.
  const tag = uniq('hostile');
  const linked = await rawBuild(
    d,
    `t=${tag}`,
    makeTar([
      { name: 'Dockerfile', content: 'FROM busybox\nCOPY passwd-link /copied\nCOPY up-link /up\n' },
      { name: 'etc/passwd', content: 'context copy\n' },
      { name: 'passwd-link', type: '2', linkname: '/etc/passwd' },
      { name: 'up-link', type: '2', linkname: '../../../../../etc/passwd' },
    ]),
  );
  expect(linked.status).toBe(200);
  expect(linked.messages.at(-1)).toEqual({ stream: `Successfully tagged ${tag}:latest\n` });
  expect(await d.dockerOk(['run', '--rm', tag, 'cat', '/copied', '/up'])).toBe('context copy\ncontext copy\n');
  const outside = await rawBuild(d, '', makeTar([{ name: 'Dockerfile', content: 'FROM busybox\nCOPY shadow /x\n' }, { name: 'shadow', type: '2', linkname: '/etc/shadow' }]));
  expect(outside.messages.at(-1)?.error).toBe('COPY failed: file not found in build context or excluded by .dockerignore: stat shadow: file does not exist');
  await d.dockerOk(['rmi', tag]);

  // 300 MiB of zeros gzip to about 300 KiB: refused once it expands more than 200 times past 64 MiB,
  // which is before the spool's 160 MiB in memory is full: the daemon never holds more than 64 MiB of it.
  const bomb = await new Promise<Buffer>((resolve) => {
    const gz = zlib.createGzip({ level: 9 });
    const chunks: Buffer[] = [];
    gz.on('data', (c: Buffer) => chunks.push(c));
    gz.on('end', () => resolve(Buffer.concat(chunks)));
    const header = makeTar([{ name: 'zeros', content: '', size: 300 * 1024 * 1024 }], { end: false });
    gz.write(header);
    const zeros = Buffer.alloc(1024 * 1024);
    for (let i = 0; i < 300; i++) gz.write(zeros);
    gz.end(Buffer.alloc(1024));
  });
  expect(bomb.length).toBeLessThan(2 * 1024 * 1024);
  const rssBefore = Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${d.proc!.pid}/status`, 'utf8'))![1]);
  const refused = await rawBuild(d, '', bomb, { 'Content-Type': 'application/x-tar' });
  expect(refused.status).toBe(400);
  expect(JSON.parse(refused.body).message).toMatch(/expands more than 200 times .*decompression bomb/);
  const rssAfter = Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${d.proc!.pid}/status`, 'utf8'))![1]);
  expect(rssAfter - rssBefore).toBeLessThan(100 * 1024);
  // Nothing of it stays on disk.
  expect(fs.readdirSync(path.join(d.dataRoot, 'builder', 'tmp'))).toEqual([]);
});

test('a cancelled build (the client goes away) leaves no containers', async ({ freshBerthd: d }) => {
  // A duration of its own: other engineers' tests on this machine run `sleep 300` in their containers.
  const secs = 3000 + Math.floor(Math.random() * 6000);
  const tar = makeTar([{ name: 'Dockerfile', content: `FROM busybox\nENV A=1\nRUN echo started && sleep ${secs}\nRUN echo never\n` }]);
  await new Promise<void>((resolve, reject) => {
    const req = http.request({ socketPath: d.socket, method: 'POST', path: '/v1.51/build?t=cancelled', headers: { 'Content-Type': 'application/x-tar' } }, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => {
        text += c.toString();
        if (text.includes('started')) {
          req.destroy();
          resolve();
        }
      });
      res.on('error', () => undefined);
    });
    req.on('error', (err) => (String(err).includes('socket hang up') ? undefined : reject(err)));
    req.end(tar);
  });
  await expect.poll(async () => (await d.dockerOk(['ps', '-aq'])).trim(), { timeout: 30_000 }).toBe('');
  expect((await d.docker(['image', 'inspect', 'cancelled'])).code).toBe(1);
  expect(execFileSync('sh', ['-c', `ps -eo args | grep -c '^[s]leep ${secs}$' || true`]).toString().trim()).toBe('0');
});
