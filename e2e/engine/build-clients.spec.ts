/**
 * Builds from the other clients that call POST /build: dockerode's
 * buildImage (a tar made with tar-fs: real owners and times), docker-py and
 * docker-compose v1's `build:` (which find the image ID with
 * "Successfully built <id>"), and a FROM image in a private registry reached
 * with the CLI's X-Registry-Config credentials.
 */
import fs from 'node:fs';
import path from 'node:path';
import { execFile } from 'node:child_process';
import { test, expect, uniq } from '../support/fixtures.js';
import { Registry } from '../support/registry.js';
import { contextDir } from './build-kit.js';

test.describe.configure({ mode: 'parallel' });

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv, cwd?: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(cmd, args, { env, cwd, timeout: 180_000, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout: String(stdout), stderr: String(stderr) });
    });
  });
}

test('dockerode buildImage: progress, aux ID, build args and labels', async ({ berthd: d }) => {
  const tag = uniq('dockerode');
  const ctx = contextDir({ Dockerfile: 'FROM busybox\nARG WHO\nCOPY app /app\nRUN echo "hi $WHO" > /greeting\nCMD ["cat", "/greeting", "/app/msg"]\n', 'app/msg': 'from dockerode\n' });
  try {
    const docker = d.client();
    const stream = await docker.buildImage({ context: ctx.dir, src: ['Dockerfile', 'app'] }, { t: tag, buildargs: { WHO: 'node' }, labels: { via: 'dockerode' } });
    const events: Array<{ stream?: string; aux?: { ID: string }; error?: string }> = [];
    await new Promise<void>((resolve, reject) => docker.modem.followProgress(stream, (err: Error | null) => (err ? reject(err) : resolve()), (e: (typeof events)[number]) => events.push(e)));
    expect(events.find((e) => e.error)).toBeUndefined();
    const aux = events.filter((e) => e.aux).map((e) => e.aux!.ID);
    const img = await docker.getImage(tag).inspect();
    expect(aux).toEqual([img.Id]);
    expect(events.map((e) => e.stream ?? '').join('')).toContain(`Successfully built ${img.Id.slice(7, 19)}\nSuccessfully tagged ${tag}:latest\n`);
    expect(img.Config.Labels).toEqual({ via: 'dockerode' });
    expect(await d.dockerOk(['run', '--rm', tag])).toBe('hi node\nfrom dockerode\n');
    // The same build again is all cache (tar-fs sends real owners and times: the hash ignores the times).
    const again = await docker.buildImage({ context: ctx.dir, src: ['Dockerfile', 'app'] }, { t: tag, buildargs: { WHO: 'node' }, labels: { via: 'dockerode' } });
    const text: string[] = [];
    await new Promise<void>((resolve, reject) => docker.modem.followProgress(again, (err: Error | null) => (err ? reject(err) : resolve()), (e: { stream?: string }) => text.push(e.stream ?? '')));
    expect(text.join('').match(/Using cache/g)).toHaveLength(5);
    // A failing build reports in-band, with the exit code.
    fs.writeFileSync(path.join(ctx.dir, 'Dockerfile'), 'FROM busybox\nRUN exit 7\n');
    const failing = await docker.buildImage({ context: ctx.dir, src: ['Dockerfile'] }, {});
    const output = await new Promise<Array<{ error?: string; errorDetail?: { code: number } }>>((resolve, reject) => docker.modem.followProgress(failing, (e: Error | null, out: Array<{ error?: string; errorDetail?: { code: number } }>) => (e ? reject(e) : resolve(out))));
    expect(output.at(-1)).toEqual({ errorDetail: { code: 7, message: "The command '/bin/sh -c exit 7' returned a non-zero code: 7" }, error: "The command '/bin/sh -c exit 7' returned a non-zero code: 7" });
  } finally {
    ctx.cleanup();
    await d.docker(['rmi', tag]);
  }
});

test('docker-py and docker-compose v1 build: and find the image ID', async ({ berthd: d }) => {
  const tag = uniq('compose');
  const ctx = contextDir({
    'docker-compose.yml': ['version: "3"', 'services:', '  web:', '    build:', '      context: .', '      args:', '        FLAVOUR: compose', `    image: ${tag}:1`, ''].join('\n'),
    Dockerfile: 'FROM busybox\nARG FLAVOUR\nRUN echo "built by $FLAVOUR" > /flavour\nCMD ["cat", "/flavour"]\n',
    'build.py': [
      'import docker, sys',
      `c = docker.DockerClient(base_url="unix://${d.socket}")`,
      `img, logs = c.images.build(path=sys.argv[1], tag="${tag}:py", buildargs={"FLAVOUR": "docker-py"}, rm=True)`,
      'print(img.id)',
      'print(c.containers.run(img.id, remove=True).decode(), end="")',
      '',
    ].join('\n'),
  });
  try {
    const env = { ...d.env, COMPOSE_DOCKER_CLI_BUILD: '0' };
    const compose = await run('docker-compose', ['-p', tag.replace(/[^a-z0-9]/g, ''), 'build'], env, ctx.dir);
    expect(compose.code, compose.stderr + compose.stdout).toBe(0);
    expect(compose.stdout + compose.stderr).toContain('Successfully built');
    expect(await d.dockerOk(['run', '--rm', `${tag}:1`])).toBe('built by compose\n');
    const py = await run('python3', [path.join(ctx.dir, 'build.py'), ctx.dir], env);
    expect(py.code, py.stderr).toBe(0);
    const [id, out] = py.stdout.split('\n');
    expect(id).toBe((await d.dockerOk(['image', 'inspect', '-f', '{{.Id}}', `${tag}:py`])).trim());
    expect(out).toBe('built by docker-py');
  } finally {
    ctx.cleanup();
    await d.docker(['rmi', `${tag}:1`, `${tag}:py`]);
  }
});

test('a FROM image from a private registry, with the credentials of docker login (X-Registry-Config)', async ({ freshBerthd: d }) => {
  const reg = await Registry.start({ htpasswd: { alice: 'wonderland' } });
  const ctx = contextDir({ Dockerfile: `FROM ${reg.host}/private/base:1\nRUN echo pulled-privately > /p\n` });
  try {
    expect((await d.docker(['login', '-u', 'alice', '--password-stdin', reg.host], { input: 'wonderland\n' })).code).toBe(0);
    await d.dockerOk(['tag', 'busybox', `${reg.host}/private/base:1`]);
    await d.dockerOk(['push', `${reg.host}/private/base:1`]);
    await d.dockerOk(['rmi', `${reg.host}/private/base:1`]);
    const ok = await d.docker(['build', '-t', 'from-private', ctx.dir], { timeout: 120_000 });
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(/Step 1\/2 : FROM 127\.0\.0\.1:\d+\/private\/base:1\n1: Pulling from private\/base\n|Pulling from private\/base/);
    expect(await d.dockerOk(['run', '--rm', 'from-private', 'cat', '/p'])).toBe('pulled-privately\n');
    // Without credentials the pull is refused, and the build says so.
    await d.dockerOk(['logout', reg.host]);
    await d.dockerOk(['rmi', 'from-private', `${reg.host}/private/base:1`]);
    const denied = await d.docker(['build', ctx.dir], { timeout: 120_000 });
    expect(denied.code).not.toBe(0);
    expect(denied.stderr).toMatch(/no basic auth credentials|unauthorized|authentication required/);
  } finally {
    ctx.cleanup();
    await reg.stop();
  }
});
