import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import { FakeBackend, fileStat, listing } from './testing/fake-backend.js';
import { build, createdBy, tmpRoot } from './testing/harness.js';
import { makeTar } from './testing/tars.js';

afterAll(() => fs.rmSync(tmpRoot, { recursive: true, force: true }));

let be: FakeBackend;
let base: string;
beforeEach(() => {
  be = new FakeBackend();
  base = be.addBase('base:latest', { 'bin/sh': '#!', 'etc/passwd': 'root:x:0:0:root:/root:/bin/sh\napp:x:1000:1001::/home/app:/bin/sh\nsolo:x:1002:1002::/:/bin/sh\n', 'etc/group': 'root:x:0:\napp:x:1001:\nstaff:x:50:\n', 'usr/bin/': '' }).id;
  be.runner = (cmd) => (cmd.join(' ').includes('echo hi') ? { stdout: 'hi\n' } : {});
});

const short = (id: string) => id.replace('sha256:', '').slice(0, 12);

describe('the build stream', () => {
  it('prints dockerd’s lines, message by message', async () => {
    const r = await build(be, 'FROM base\nENV A=1\nRUN echo hi\nCMD ["sh"]\n', {}, { tags: ['app:1'] });
    expect(r.error).toBeUndefined();
    const ids = [...r.text.matchAll(/ ---> Running in ([0-9a-f]{12})\n/g)].map((m) => m[1]);
    expect(ids).toHaveLength(3);
    const steps = [...r.text.matchAll(/ ---> ([0-9a-f]{12})\n/g)].map((m) => m[1]);
    expect(r.text).toBe(
      [
        'Step 1/4 : FROM base',
        ` ---> ${short(base)}`,
        'Step 2/4 : ENV A=1',
        ` ---> Running in ${ids[0]}`,
        `Removing intermediate container ${ids[0]}`,
        ` ---> ${steps[1]}`,
        'Step 3/4 : RUN echo hi',
        ` ---> Running in ${ids[1]}`,
        'hi',
        `Removing intermediate container ${ids[1]}`,
        ` ---> ${steps[2]}`,
        'Step 4/4 : CMD ["sh"]',
        ` ---> Running in ${ids[2]}`,
        `Removing intermediate container ${ids[2]}`,
        ` ---> ${steps[3]}`,
        `Successfully built ${short(r.imageId!)}`,
        'Successfully tagged app:1',
        '',
      ].join('\n'),
    );
    // "Step 1/4 : FROM base" and its newline are two messages; each line ends with \r\n.
    expect(r.raw.startsWith('{"stream":"Step 1/4 : FROM base"}\r\n{"stream":"\\n"}\r\n')).toBe(true);
    const auxAt = r.messages.findIndex((m) => m.aux);
    expect(r.messages[auxAt]).toEqual({ aux: { ID: r.imageId } });
    expect(r.messages[auxAt + 1]).toEqual({ stream: `Successfully built ${short(r.imageId!)}\n` });
    expect(be.refs.get('app:1')).toBe(r.imageId);
    expect(be.liveContainers()).toEqual([]);
  });

  it('q=1 prints only the image ID', async () => {
    const r = await build(be, 'FROM base\nRUN echo hi\n', {}, { quiet: true });
    expect(r.raw).toBe(`{"stream":"${r.imageId}\\n"}\r\n`);
  });

  it('a failing RUN ends with dockerd’s message and its exit code; the container stays (rm without forcerm)', async () => {
    be.runner = (cmd) => (cmd.join(' ').includes('exit 3') ? { stderr: 'boom\n', exitCode: 3 } : {});
    const r = await build(be, 'FROM base\nRUN exit 3\n');
    expect(r.messages.at(-1)).toEqual({ errorDetail: { code: 3, message: "The command '/bin/sh -c exit 3' returned a non-zero code: 3" }, error: "The command '/bin/sh -c exit 3' returned a non-zero code: 3" });
    expect(r.messages).toContainEqual({ stream: '\u001b[91mboom\n\u001b[0m' });
    expect(be.liveContainers()).toHaveLength(1);
    const forced = await build(be, 'FROM base\nRUN exit 3\n', {}, { forceRemove: true });
    expect(forced.text).toMatch(/Removing intermediate container [0-9a-f]{12}\n$/);
    expect(be.liveContainers()).toHaveLength(1);
  });

  it('refuses bad Dockerfiles before any output', async () => {
    expect((await build(be, 'FROM base\nFOO x\n')).thrown?.message).toBe('dockerfile parse error line 2: unknown instruction: FOO');
    expect((await build(be, 'FROM base\n', {}, { target: 'nope' })).thrown?.message).toBe('failed to reach build target nope in Dockerfile');
    expect((await build(be, '', { Dockerfile: '' })).thrown?.message).toBe('the Dockerfile (Dockerfile) cannot be empty');
    expect((await build(be, 'FROM base', { Dockerfile: 'FROM base' }, { dockerfileName: 'missing', omitDockerfile: true })).thrown?.message).toBe('Cannot locate specified Dockerfile: missing');
    expect((await build(be, 'FROM base\n', {}, { tags: ['Bad:Tag:x'] })).thrown?.message).toMatch(/invalid reference format/);
    expect((await build(be, 'FROM base\nRUN --mount=type=cache,target=/x make\n')).messages.at(-1)?.error).toBe('the --mount option requires BuildKit. Refer to https://docs.docker.com/go/buildkit/ to learn how to build images with BuildKit enabled');
    expect((await build(be, 'FROM base\nCOPY --chmod=755 a /\n', { a: 'x' })).messages.at(-1)?.error).toMatch(/^the --chmod option requires BuildKit/);
  });

  it('pulls a missing base, and with pull=1 even a present one', async () => {
    be.registry.set('remote/img', be.images.get(base)!.img);
    const r = await build(be, 'FROM remote/img\n');
    expect(be.pulls).toEqual(['remote/img']);
    expect(r.messages).toContainEqual({ status: 'Pulling from remote/img', id: 'latest' });
    await build(be, 'FROM base\n', {}, { pull: true });
    expect(be.pulls).toEqual(['remote/img', 'base']);
  });
});

describe('history entries', () => {
  it('records created_by as dockerd 20.10 does', async () => {
    const df = [
      'FROM base',
      'MAINTAINER me',
      'ARG V=1',
      'ENV A=1 B="two words"',
      'LABEL k=v',
      'EXPOSE 80/udp 8080',
      'VOLUME /data /logs',
      'USER app',
      'WORKDIR /app',
      'RUN echo $V',
      'SHELL ["/bin/bash", "-c"]',
      'RUN echo bash',
      'STOPSIGNAL SIGTERM',
      'HEALTHCHECK --interval=30s --retries=3 CMD curl -f http://x/',
      'ONBUILD RUN echo child',
      'ENTRYPOINT ["/entry"]',
      'CMD echo hi',
    ].join('\n');
    const r = await build(be, df, {}, { buildArgs: new Map([['V', '2']]) });
    expect(r.error).toBeUndefined();
    expect(createdBy(be, r.imageId!).slice(1)).toEqual([
      '/bin/sh -c #(nop)  MAINTAINER me',
      '/bin/sh -c #(nop)  ARG V=1',
      '/bin/sh -c #(nop)  ENV A=1 B=two words',
      '/bin/sh -c #(nop)  LABEL k=v',
      '/bin/sh -c #(nop)  EXPOSE 80/udp 8080',
      '/bin/sh -c #(nop)  VOLUME [/data /logs]',
      '/bin/sh -c #(nop)  USER app',
      '/bin/sh -c #(nop) WORKDIR /app',
      '|1 V=2 /bin/sh -c echo $V',
      '/bin/bash -c #(nop)  SHELL [/bin/bash -c]',
      '|1 V=2 /bin/bash -c echo bash',
      '/bin/bash -c #(nop)  STOPSIGNAL SIGTERM',
      `/bin/bash -c #(nop)  HEALTHCHECK &{["CMD-SHELL" "curl -f http://x/"] "30s" "0s" "0s" '\\x03'}`,
      '/bin/bash -c #(nop)  ONBUILD RUN echo child',
      '/bin/bash -c #(nop)  ENTRYPOINT ["/entry"]',
      '/bin/bash -c #(nop)  CMD ["/bin/bash" "-c" "echo hi"]',
    ]);
    const img = be.images.get(r.imageId!)!.img.config;
    expect(img.author).toBe('me');
    expect(img.config).toMatchObject({ User: 'app', WorkingDir: '/app', Entrypoint: ['/entry'], Cmd: ['/bin/bash', '-c', 'echo hi'], StopSignal: 'SIGTERM', OnBuild: ['RUN echo child'], Labels: { k: 'v' } });
    expect(img.config!.Env).toEqual(['PATH=/usr/bin:/bin', 'A=1', 'B=two words']);
    expect(img.config!.ExposedPorts).toEqual({ '8080/tcp': {}, '80/udp': {} });
    // Build args are not persisted.
    expect(img.config!.Env!.some((e) => e.startsWith('V='))).toBe(false);
    // Config-only steps have empty layers; WORKDIR made /app.
    const history = img.history!;
    expect(history.filter((h) => !h.empty_layer).map((h) => h.created_by)).toEqual(['base base:latest', '/bin/sh -c #(nop) WORKDIR /app']);
    expect(img.config!.Image).toMatch(/^sha256:/);
  });

  it('ENTRYPOINT drops an inherited CMD but not one of the same stage', async () => {
    const a = await build(be, 'FROM base\nENTRYPOINT ["/e"]\n');
    expect(be.images.get(a.imageId!)!.img.config.config!.Cmd).toBeNull();
    const b = await build(be, 'FROM base\nCMD ["x"]\nENTRYPOINT ["/e"]\n');
    expect(be.images.get(b.imageId!)!.img.config.config!.Cmd).toEqual(['x']);
  });

  it('RUN keeps proxy args out of history unless declared, and warns about unused args', async () => {
    const r = await build(be, 'FROM base\nARG USED\nRUN echo x\n', {}, { buildArgs: new Map<string, string | null>([['USED', 'u'], ['HTTP_PROXY', 'http://p'], ['UNUSED', 'x'], ['ALSO', null]]) });
    expect(createdBy(be, r.imageId!).at(-1)).toBe('|1 USED=u /bin/sh -c echo x');
    expect(r.text).toContain('[Warning] One or more build-args [ALSO UNUSED] were not consumed\n');
    const c = [...be.containers.values()].at(-1)!;
    expect(c.config.Env).toEqual(expect.arrayContaining(['USED=u', 'HTTP_PROXY=http://p']));
    expect(c.config.Entrypoint).toEqual([]);
    expect(c.config.Healthcheck).toEqual({ Test: ['NONE'] });
    const proxyOnly = await build(be, 'FROM base\nRUN echo y\n', {}, { buildArgs: new Map([['HTTP_PROXY', 'http://p']]) });
    expect(createdBy(be, proxyOnly.imageId!).at(-1)).toBe('|0 /bin/sh -c echo y');
  });

  it('meta ARGs feed FROM and are only visible in a stage when redeclared', async () => {
    be.addBase('base:2', { 'bin/sh': 'x' });
    const r = await build(be, 'ARG TAG=2\nFROM base:$TAG\nRUN echo $TAG\nARG TAG\nRUN echo $TAG\n');
    expect(r.text).toContain('Step 1/5 : ARG TAG=2\nStep 2/5 : FROM base:$TAG\n');
    const cmds = [...be.containers.values()].map((c) => c.config.Env?.find((e) => e.startsWith('TAG=')));
    expect(cmds).toEqual([undefined, 'TAG=2']);
  });
});

describe('COPY and ADD', () => {
  const ctx = () => [
    { name: 'app/', type: '5' },
    { name: 'app/main.js', content: 'main', mode: 0o755 },
    { name: 'app/lib/', type: '5' },
    { name: 'app/lib/x.js', content: 'x' },
    { name: 'a.txt', content: 'A', uid: 501 },
    { name: 'b.txt', content: 'B' },
    { name: 'link.txt', type: '2', linkname: 'a.txt' },
    { name: 'escape', type: '2', linkname: '../../../etc/passwd' },
  ];

  it('copies a directory’s content, a file into a directory, and makes files 0:0', async () => {
    const r = await build(be, 'FROM base\nCOPY app /srv/\nCOPY a.txt /srv/\nCOPY b.txt /renamed\n', ctx());
    expect(r.error).toBeUndefined();
    expect(listing(await be.imageFS(r.imageId!)).filter((l) => / (srv|renamed)/.test(l))).toEqual([
      'file renamed 644 0:0 1',
      'dir srv 755 0:0',
      'file srv/a.txt 644 0:0 1',
      'dir srv/lib 755 0:0',
      'file srv/lib/x.js 644 0:0 1',
      'file srv/main.js 755 0:0 4',
    ]);
    const h = createdBy(be, r.imageId!);
    expect(h[1]).toMatch(/^\/bin\/sh -c #\(nop\) COPY dir:[0-9a-f]{64} in \/srv\/ $/);
    expect(h[2]).toMatch(/^\/bin\/sh -c #\(nop\) COPY file:[0-9a-f]{64} in \/srv\/ $/);
  });

  it('resolves relative destinations against WORKDIR and follows a source link', async () => {
    const r = await build(be, 'FROM base\nWORKDIR /w\nCOPY link.txt ./\n', ctx());
    expect(listing(await be.imageFS(r.imageId!))).toContain('file w/link.txt 644 0:0 1');
    expect(createdBy(be, r.imageId!).at(-1)).toMatch(/COPY file:[0-9a-f]{64} in \.\/ $/);
  });

  it('never reads outside the context through a link', async () => {
    const r = await build(be, 'FROM base\nCOPY escape /x\n', ctx());
    expect(r.messages.at(-1)?.error).toBe('COPY failed: file not found in build context or excluded by .dockerignore: stat escape: file does not exist');
  });

  it('wildcards, several sources and the trailing-slash rule', async () => {
    const ok = await build(be, 'FROM base\nCOPY *.txt /t/\n', ctx());
    expect(listing(await be.imageFS(ok.imageId!)).filter((l) => l.includes(' t/'))).toEqual(['file t/a.txt 644 0:0 1', 'file t/b.txt 644 0:0 1', 'file t/link.txt 644 0:0 1']);
    expect(createdBy(be, ok.imageId!).at(-1)).toMatch(/COPY multi:[0-9a-f]{64} in \/t\/ $/);
    const bad = await build(be, 'FROM base\nCOPY a.txt b.txt /t\n', ctx());
    expect(bad.messages.at(-1)?.error).toBe('When using COPY with more than one source file, the destination must be a directory and end with a /');
    const none = await build(be, 'FROM base\nCOPY *.none /t/\n', ctx());
    expect(none.messages.at(-1)?.error).toBe('COPY failed: no source files were specified');
  });

  it('--chown resolves names in the image; a lone user is also the group name', async () => {
    const r = await build(be, 'FROM base\nCOPY --chown=app:staff a.txt /o/\nCOPY --chown=1000 b.txt /o/\n', ctx());
    expect(listing(await be.imageFS(r.imageId!)).filter((l) => l.includes(' o'))).toEqual(['dir o 755 1000:50', 'file o/a.txt 644 1000:50 1', 'file o/b.txt 644 1000:1000 1']);
    expect(createdBy(be, r.imageId!).at(-2)).toMatch(/^\/bin\/sh -c #\(nop\) COPY --chown=app:stafffile:[0-9a-f]{64} in \/o\/ $/);
    const missing = await build(be, 'FROM base\nCOPY --chown=solo a.txt /o/\n', ctx());
    expect(missing.messages.at(-1)?.error).toBe("unable to convert uid/gid chown string to host mapping: can't find gid for group solo: no such group: solo");
  });

  it('COPY --from a stage keeps owners; by name or index; refuses the current stage', async () => {
    be.runner = () => ({ writes: { 'out/bin': 'binary' } });
    const r = await build(be, 'FROM base AS build\nRUN make\nFROM base\nCOPY --from=build /out/bin /usr/bin/app\nCOPY --from=0 /out /o2\n');
    expect(r.error).toBeUndefined();
    expect(listing(await be.imageFS(r.imageId!))).toEqual(expect.arrayContaining(['file usr/bin/app 644 0:0 6', 'file o2/bin 644 0:0 6']));
    const self = await build(be, 'FROM base\nCOPY --from=0 /x /y\n');
    expect(self.messages.at(-1)?.error).toBe('invalid from flag value 0: refers to current build stage');
  });

  it('ADD unpacks local archives with their owners, COPY does not', async () => {
    const archive = makeTar([{ name: 'pkg/', type: '5', uid: 7, gid: 7 }, { name: 'pkg/file', content: 'in tar', uid: 7, gid: 7 }]);
    const files = [{ name: 'pkg.tar', content: archive }];
    const r = await build(be, 'FROM base\nADD pkg.tar /opt/\nCOPY pkg.tar /copied/\n', files);
    expect(listing(await be.imageFS(r.imageId!)).filter((l) => / (opt|copied)/.test(l))).toEqual(['dir copied 755 0:0', `file copied/pkg.tar 644 0:0 ${archive.length}`, 'dir opt 755 0:0', 'dir opt/pkg 755 7:7', 'file opt/pkg/file 644 7:7 6']);
  });

  it('writes heredoc files, expanding variables unless the name is quoted', async () => {
    const r = await build(be, "FROM base\nENV NAME=world\nCOPY <<EOF /hello\nhello $NAME\nEOF\nCOPY <<'EOF' /raw\n$NAME\nEOF\n");
    const f = await be.imageFS(r.imageId!);
    expect((await f.readFile(['hello'])).toString()).toBe('hello world\n');
    expect((await f.readFile(['raw'])).toString()).toBe('$NAME\n');
  });
});

describe('the cache', () => {
  const df = 'FROM base\nARG V\nENV A=1\nCOPY a.txt /a\nRUN echo $V\nCMD ["x"]\n';
  const files = (over: Partial<{ content: string; mode: number; mtime: number }> = {}) => [{ name: 'a.txt', content: over.content ?? 'A', mode: over.mode ?? 0o644, mtime: over.mtime ?? 1 }];
  const cached = (r: { text: string }) => r.text.split('Step ').slice(1).map((s) => s.includes(' ---> Using cache'));

  it('an identical rebuild is all cache hits with the same ID', async () => {
    const first = await build(be, df, files());
    const again = await build(be, df, files());
    expect(cached(first)).toEqual([false, false, false, false, false, false]);
    expect(cached(again)).toEqual([false, true, true, true, true, true]);
    expect(again.imageId).toBe(first.imageId);
    expect(again.text).not.toContain('Running in');
  });

  it('touching a file keeps the cache; chmod or an edit miss, and the miss lasts for the stage', async () => {
    const first = await build(be, df, files());
    expect(cached(await build(be, df, files({ mtime: 99 })))).toEqual([false, true, true, true, true, true]);
    expect(cached(await build(be, df, files({ mode: 0o600 })))).toEqual([false, true, true, false, false, false]);
    expect(cached(await build(be, df, files({ content: 'B' })))).toEqual([false, true, true, false, false, false]);
    expect((await build(be, df, files())).imageId).toBe(first.imageId);
  });

  it('a changed consumed build arg misses; an unconsumed one does not', async () => {
    await build(be, df, files(), { buildArgs: new Map([['V', '1']]) });
    expect(cached(await build(be, df, files(), { buildArgs: new Map([['V', '2']]) }))).toEqual([false, true, true, true, false, false]);
    expect(cached(await build(be, df, files(), { buildArgs: new Map([['V', '2'], ['OTHER', 'x']]) }))).toEqual([false, true, true, true, true, true]);
  });

  it('nocache never hits; a new FROM turns the cache back on', async () => {
    await build(be, df, files());
    expect(cached(await build(be, df, files(), { noCache: true }))).toEqual([false, false, false, false, false, false]);
    const two = 'FROM base\nENV X=1\nFROM base\nENV A=1\n';
    await build(be, two);
    expect(cached(await build(be, 'FROM base\nENV X=2\nFROM base\nENV A=1\n'))).toEqual([false, false, false, true]);
  });

  it('cachefrom: hits only along the given image’s history', async () => {
    const first = await build(be, df, files());
    const other = await build(be, 'FROM base\nARG V\nENV A=2\n');
    expect(cached(await build(be, df, files(), { cacheFrom: [other.imageId!] }))).toEqual([false, true, false, false, false, false]);
    expect(cached(await build(be, df, files(), { cacheFrom: [first.imageId!] }))).toEqual([false, true, true, true, true, true]);
  });

  it('cachefrom naming only unknown images: nothing hits, although the local cache would', async () => {
    await build(be, df, files());
    expect(cached(await build(be, df, files(), { cacheFrom: ['nosuchtag'] }))).toEqual([false, false, false, false, false, false]);
    expect(cached(await build(be, df, files()))).toEqual([false, true, true, true, true, true]);
  });
});

describe('stages and triggers', () => {
  it('builds every stage up to the target', async () => {
    const r = await build(be, 'FROM base AS one\nENV S=1\nFROM one AS two\nENV S=2\nFROM base AS three\nENV S=3\n', {}, { target: 'two' });
    expect(r.text).toContain('Step 4/4 : ENV S=2');
    expect(r.messages.filter((m) => m.aux)).toHaveLength(2);
    expect(be.images.get(r.imageId!)!.img.config.config!.Env).toContain('S=2');
    expect((await build(be, 'FROM base AS x\nFROM base AS x\n')).messages.at(-1)?.error).toBe('x stage name already used');
  });

  it('runs ONBUILD triggers after the child’s FROM and clears them', async () => {
    const parent = await build(be, 'FROM base\nONBUILD ENV FROM_TRIGGER=1\nONBUILD RUN echo hi\n', {}, { tags: ['parent:1'] });
    expect(parent.error).toBeUndefined();
    const child = await build(be, 'FROM parent:1\nENV C=1\n');
    expect(child.text).toContain('Step 1/2 : FROM parent:1\n# Executing 2 build triggers\n ---> Running in');
    expect(child.text).toContain('hi\n');
    const cfg = be.images.get(child.imageId!)!.img.config.config!;
    expect(cfg.Env).toContain('FROM_TRIGGER=1');
    expect(cfg.OnBuild ?? []).toEqual([]);
  });
});

describe('RUN', () => {
  it('heredocs run as scripts instead of as `sh -c "<<EOF"`', async () => {
    const seen: string[][] = [];
    be.runner = (cmd, c) => {
      seen.push([...cmd, ...c.host.Binds]);
      return {};
    };
    await build(be, 'FROM base\nRUN <<EOF\necho one\necho two\nEOF\nRUN cat <<EOF > /f\nline\nEOF\nRUN <<EOF\n#!/bin/sh\necho script\nEOF\n');
    expect(seen[0]).toEqual(['/bin/sh', '-c', 'echo one\necho two\n']);
    expect(seen[1]).toEqual(['/bin/sh', '-c', 'cat <<EOF > /f\nline\nEOF']);
    expect(seen[2]!.slice(0, 3)).toEqual(['/bin/sh', '-c', '/dev/pipes/EOF']);
    expect(seen[2]![3]).toMatch(/:\/dev\/pipes:ro$/);
  });

  it('a cancelled build kills and removes the running container', async () => {
    const ctl = new AbortController();
    let release!: () => void;
    let started!: () => void;
    const isRunning = new Promise<void>((r) => (started = r));
    be.runner = () => {
      started();
      return { until: new Promise<void>((r) => (release = r)) };
    };
    const running = build(be, 'FROM base\nRUN sleep 100\nRUN echo never\n', {}, { signal: ctl.signal });
    await isRunning;
    ctl.abort();
    const r = await running;
    release();
    expect(r.messages.at(-1)?.error).toBe('build cancelled');
    expect(be.liveContainers()).toEqual([]);
  });

  it('keeps intermediate containers with rm=0', async () => {
    await build(be, 'FROM base\nENV A=1\nRUN echo hi\n', {}, { remove: false });
    expect(be.liveContainers()).toHaveLength(2);
  });
});

describe('the context', () => {
  it('applies .dockerignore server-side but still reads an ignored Dockerfile', async () => {
    const r = await build(be, 'FROM base\nCOPY . /ctx/\n', { '.dockerignore': 'Dockerfile\n*.log\n', 'keep.txt': 'k', 'x.log': 'l' });
    expect(r.error).toBeUndefined();
    expect(listing(await be.imageFS(r.imageId!)).filter((l) => l.includes('ctx/'))).toEqual(['file ctx/.dockerignore 644 0:0 17', 'file ctx/keep.txt 644 0:0 1']);
  });

  it('answers a remote git URL with a clear error', async () => {
    const { runBuild } = await import('./build.js');
    const { defaultOptions } = await import('./testing/harness.js');
    await expect(runBuild({ backend: be, tmpRoot }, { body: undefined, remote: 'https://github.com/x/y.git', dockerfile: 'Dockerfile', quiet: false, options: defaultOptions() }, () => undefined, new AbortController().signal)).rejects.toThrow('git build contexts are not supported');
  });
});

describe('fake backend files', () => {
  it('lists a base image', async () => {
    expect(listing(await be.imageFS(base))).toContain('file bin/sh 644 0:0 2');
    expect(fileStat('dir').mode).toBe(0o755);
  });
});
