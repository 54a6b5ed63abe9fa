/**
 * testcontainers 10 (the Node library; 11 needs Node 22) building from a
 * Dockerfile against berthd: `GenericContainer.fromDockerfile(...)` packs the
 * context with tar-fs (real owners and times), calls POST /build through its
 * own dockerode, checks the image exists, then runs it the way test suites do
 * — a published port, the default wait for listening ports (an exec probe
 * inside the container and a connect from the host), exec, logs, stop.
 * Pointed at the worker's berthd with DOCKER_HOST; Ryuk (its reaper image
 * from Docker Hub) is off, so the test removes what it made.
 */
import { test, expect, uniq } from '../support/fixtures.js';
import { contextDir } from './build-kit.js';

test('testcontainers GenericContainer.fromDockerfile: builds, runs with a mapped port, rebuilds from cache', async ({ berthd: d }) => {
  // testcontainers reads its environment once, when it first connects (one berthd per worker).
  process.env.DOCKER_HOST = d.host;
  process.env.DOCKER_CONFIG = d.dockerConfig;
  process.env.TESTCONTAINERS_RYUK_DISABLED = 'true';
  const { GenericContainer, Wait } = await import('testcontainers');
  const tag = `${uniq('tc-build')}:1`;
  const ctx = contextDir({
    Dockerfile: [
      'FROM busybox',
      'ARG GREETING=hello',
      'WORKDIR /srv',
      'COPY site/ ./www/',
      'COPY start.sh /usr/local/bin/',
      'RUN echo "$GREETING from a Dockerfile" > /srv/www/greeting.txt',
      'EXPOSE 8080',
      'CMD ["start.sh"]',
      '',
    ].join('\n'),
    'site/index.html': '<h1>built by berthd</h1>\n',
    'start.sh': { content: '#!/bin/sh\necho "serving $(cat /srv/www/greeting.txt)"\nexec httpd -f -v -p 8080 -h /srv/www\n', mode: 0o755 },
  });
  let started: Awaited<ReturnType<InstanceType<typeof GenericContainer>['start']>> | undefined;
  try {
    const image = await GenericContainer.fromDockerfile(ctx.dir).withBuildArgs({ GREETING: 'hi' }).build(tag, { deleteOnExit: false });
    const inspected = await d.client().getImage(tag).inspect();
    expect(inspected.Config.Cmd).toEqual(['start.sh']);
    expect(inspected.Config.WorkingDir).toBe('/srv');
    expect(Object.keys(inspected.Config.ExposedPorts ?? {})).toEqual(['8080/tcp']);

    started = await image.withExposedPorts(8080).withWaitStrategy(Wait.forListeningPorts()).withStartupTimeout(120_000).start();
    const base = `http://${started.getHost()}:${started.getMappedPort(8080)}`;
    expect(await (await fetch(`${base}/index.html`)).text()).toBe('<h1>built by berthd</h1>\n');
    expect(await (await fetch(`${base}/greeting.txt`)).text()).toBe('hi from a Dockerfile\n');
    const ex = await started.exec(['cat', '/usr/local/bin/start.sh']);
    expect(ex.exitCode).toBe(0);
    expect(ex.output).toContain('exec httpd');
    const logs = await started.logs();
    const firstLine = await new Promise<string>((resolve, reject) => {
      let text = '';
      logs.on('data', (c: Buffer | string) => {
        text += c.toString();
        if (text.includes('\n')) resolve(text.split('\n')[0]!);
      });
      logs.on('error', reject);
    });
    logs.destroy();
    expect(firstLine).toBe('serving hi from a Dockerfile');
    await started.stop();
    started = undefined;
    expect(await d.dockerOk(['ps', '-aq', '--filter', `ancestor=${tag}`])).toBe('');

    // The same build again hits the cache for every step: the same image.
    await GenericContainer.fromDockerfile(ctx.dir).withBuildArgs({ GREETING: 'hi' }).build(tag, { deleteOnExit: false });
    expect((await d.client().getImage(tag).inspect()).Id).toBe(inspected.Id);
  } finally {
    await started?.stop().catch(() => undefined);
    ctx.cleanup();
    await d.docker(['rmi', '-f', tag]);
  }
});
