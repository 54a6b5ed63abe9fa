/**
 * Docker Compose v2 (Debian trixie's docker-compose 2.26 CLI plugin, installed by
 * scripts/install-compose-plugin.sh) against berthd: the everyday compose pattern — a
 * healthcheck-gated dependency, a named volume, a published port, a `build:` service — through
 * up --wait, ps, logs, exec, run --rm and down -v --rmi local, which must leave nothing behind.
 *
 * Compose builds through the classic POST /build because the fixture's environment has
 * DOCKER_BUILDKIT=0 (as for every docker command of the e2e suite). Compose needs it: without it,
 * compose 2.26 builds with its embedded buildx, which does not fall back to the classic API — on
 * an engine without BuildKit (berthd has no /session or /grpc) it picks the docker-container
 * driver and tries to pull moby/buildkit.
 */
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { test, expect } from '../support/fixtures.js';
import type { Berthd } from '../support/berthd.js';

const COMPOSE_PLUGIN = process.env.BERTH_COMPOSE_PLUGIN ?? '/opt/berth-test/compose-2.26.1-4/docker-compose';

/** Puts the compose plugin into this daemon's own DOCKER_CONFIG (nothing global). */
function installPlugin(d: Berthd): void {
  if (!fs.existsSync(COMPOSE_PLUGIN)) throw new Error(`${COMPOSE_PLUGIN} is missing: run scripts/install-compose-plugin.sh (scripts/install-system-deps.sh does)`);
  const dir = path.join(d.dockerConfig, 'cli-plugins');
  fs.mkdirSync(dir, { recursive: true });
  fs.copyFileSync(COMPOSE_PLUGIN, path.join(dir, 'docker-compose'));
  fs.chmodSync(path.join(dir, 'docker-compose'), 0o755);
}

function httpGet(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path: '/', timeout: 5000 }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve(body));
    });
    req.on('error', reject);
    req.on('timeout', () => req.destroy(new Error('timeout')));
  });
}

const project = `cmp${process.pid % 100000}`;

/** The worker's image, built by compose: a file from the context, a build arg, the image's own healthcheck. */
const workerDockerfile = `FROM busybox
COPY greeting.txt /etc/greeting
ARG FLAVOUR=plain
RUN echo "flavour=$FLAVOUR" > /etc/flavour
HEALTHCHECK --interval=1s --timeout=2s --retries=10 CMD test -s /etc/flavour
`;

const composeFile = `
services:
  db:
    image: busybox
    command: ["sh", "-c", "echo served-from-volume > /data/index.html; sleep 2; exec httpd -f -p 80 -h /data"]
    volumes:
      - data:/data
    healthcheck:
      test: ["CMD", "wget", "-qO-", "http://127.0.0.1/"]
      interval: 1s
      timeout: 2s
      retries: 10
  web:
    image: busybox
    command: ["httpd", "-f", "-p", "80", "-h", "/www"]
    volumes:
      - data:/www:ro
    ports:
      - "127.0.0.1::80"
    depends_on:
      db:
        condition: service_healthy
  worker:
    build:
      context: ./worker
      args:
        FLAVOUR: from-compose
    command: ["sh", "-c", "echo worker up; cat /etc/greeting /etc/flavour; exec sleep 1000"]
    depends_on:
      - web
volumes:
  data: {}
`;

test('compose v2: up --wait with a healthcheck-gated dependency, a named volume, a published port and a build: service; ps, logs, exec, run --rm, build, down -v --rmi local leave nothing', async ({ berthd }) => {
  test.setTimeout(180_000);
  installPlugin(berthd);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-compose-'));
  fs.writeFileSync(path.join(dir, 'compose.yaml'), composeFile);
  fs.mkdirSync(path.join(dir, 'worker'));
  fs.writeFileSync(path.join(dir, 'worker', 'Dockerfile'), workerDockerfile);
  fs.writeFileSync(path.join(dir, 'worker', 'greeting.txt'), 'hello from the build context\n');
  const workerImage = `${project}-worker`;
  // -f as well as -p: with -p alone, down rebuilds the project from its containers, and a service
  // rebuilt that way names its image, so `--rmi local` would keep the built one (compose's rule).
  const compose = (args: string[], timeout = 120_000) => berthd.docker(['compose', '--project-directory', dir, '-f', path.join(dir, 'compose.yaml'), '-p', project, ...args], { timeout });
  try {
    expect((await berthd.dockerOk(['compose', 'version'])).trim()).toMatch(/^Docker Compose version 2\.26/);

    const up = await compose(['up', '-d', '--wait']);
    expect(up.code, up.stderr).toBe(0);

    // The build: service's image, built by compose through berthd's builder and labelled by it.
    const built = JSON.parse(await berthd.dockerOk(['image', 'inspect', workerImage])) as Array<{ Config: { Labels: Record<string, string> | null; Healthcheck?: { Test: string[] } } }>;
    expect(built[0]!.Config.Healthcheck?.Test).toEqual(['CMD-SHELL', 'test -s /etc/flavour']);

    const ps = JSON.parse(`[${(await compose(['ps', '--format', 'json'])).stdout.trim().split('\n').join(',')}]`) as Array<{ Service: string; Image: string; State: string; Health: string; Status: string; Publishers: Array<{ URL: string; TargetPort: number; PublishedPort: number }> }>;
    const byService = Object.fromEntries(ps.map((s) => [s.Service, s]));
    expect(Object.keys(byService).sort()).toEqual(['db', 'web', 'worker']);
    for (const s of ps) expect(s.State, s.Service).toBe('running');
    expect(byService.db!.Health).toBe('healthy');
    expect(byService.worker!.Image).toBe(workerImage);
    expect(byService.worker!.Health).toBe('healthy'); // the built image's HEALTHCHECK, waited for by --wait
    expect(byService.db!.Status).toMatch(/\(healthy\)$/);
    const published = byService.web!.Publishers.find((p) => p.TargetPort === 80 && p.PublishedPort > 0)!;
    expect(published.URL).toBe('127.0.0.1');
    expect((await httpGet(published.PublishedPort)).trim()).toBe('served-from-volume');
    const port = (await compose(['port', 'web', '80'])).stdout.trim();
    expect(port).toBe(`127.0.0.1:${published.PublishedPort}`);

    const logs = await compose(['logs', '--no-color', 'worker']);
    expect(logs.code, logs.stderr).toBe(0);
    expect(logs.stdout).toMatch(/worker-1\s+\| worker up/);
    expect(logs.stdout).toMatch(/worker-1\s+\| hello from the build context/);
    expect(logs.stdout).toMatch(/worker-1\s+\| flavour=from-compose/);

    const exec = await compose(['exec', '-T', 'web', 'cat', '/www/index.html']);
    expect(exec.code, exec.stderr).toBe(0);
    expect(exec.stdout.trim()).toBe('served-from-volume');

    const run = await compose(['run', '--rm', '--no-deps', 'worker', 'sh', '-c', 'echo from-run; cat /etc/greeting']);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain('from-run');
    expect(run.stdout).toContain('hello from the build context');
    const afterRun = (await berthd.dockerOk(['ps', '-a', '--filter', `label=com.docker.compose.project=${project}`, '--format', '{{.Names}}'])).trim().split('\n').sort();
    expect(afterRun).toEqual([`${project}-db-1`, `${project}-web-1`, `${project}-worker-1`]);

    // A rebuild of an unchanged context comes from the cache.
    const rebuild = await compose(['build', 'worker']);
    expect(rebuild.code, rebuild.stderr).toBe(0);
    expect(rebuild.stdout + rebuild.stderr).toContain('Using cache');

    const down = await compose(['down', '-v', '--rmi', 'local']);
    expect(down.code, down.stderr).toBe(0);
    expect((await berthd.docker(['image', 'inspect', workerImage])).code).toBe(1);
    expect((await berthd.dockerOk(['ps', '-aq', '--filter', `label=com.docker.compose.project=${project}`])).trim()).toBe('');
    expect((await berthd.dockerOk(['network', 'ls', '-q', '--filter', `label=com.docker.compose.project=${project}`])).trim()).toBe('');
    expect((await berthd.dockerOk(['volume', 'ls', '-q', '--filter', `label=com.docker.compose.project=${project}`])).trim()).toBe('');
    expect((await berthd.docker(['volume', 'inspect', `${project}_data`])).code).toBe(1);
    expect((await berthd.docker(['network', 'inspect', `${project}_default`])).code).toBe(1);
  } finally {
    await compose(['down', '-v', '--rmi', 'local', '--remove-orphans', '-t', '1']);
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
