/**
 * docker-py 5.0.3's own integration suite (tests/integration at tag 5.0.3) against berthd and
 * dockerd 20.10 — a compatibility measurement, not part of `npm test`. Results go to
 * bench/results/docker-py-<engine>.json and, by hand, docs/COMPAT.md.
 *
 *   npx tsx bench/docker-py-suite.ts --git <docker-py .git dir> [--engine berthd|dockerd|both] [-k EXPR]
 *   npx tsx bench/docker-py-suite.ts --src <docker-py checkout at 5.0.3> ...
 *
 * What it sets up, per engine: Debian's python3-docker 5.0.3, python3-pytest, -paramiko and
 * -pytest-timeout (installed by bench/docker-py-suite.sh); a loopback docker-registry serving
 * alpine:3.10, alpine:latest, busybox:latest and hello-world:latest (all made from busybox-static)
 * as the engine's Docker Hub mirror; the engine with its own state, socket and bridge
 * (bench/lib/engines.ts); pytest with DOCKER_TEST_API_VERSION=1.41 and a 120 s timeout per test,
 * so no test can hang the run, and the harness's plugin bench/docker-py/keep_test_image.py, which
 * pulls alpine:3.10 back before a test when an earlier test pruned it. Swarm-mode tests are deselected on both engines (dockerd's swarm
 * would listen on 0.0.0.0 and make bridges of its own on a shared machine; berthd has no swarm
 * mode). Only the suite's tests run: its `docker` package is not on the path, Debian's is.
 * After the suite, what the engine still holds (containers, networks, volumes, mounts, bridges)
 * is recorded.
 */
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { OciLayout, Registry, skopeoPush } from '../e2e/support/registry.js';
import { docker, ensureBusyboxTar, machine, repoRoot, startBerthd, startDockerd, type Engine } from './lib/engines.js';

const { values } = parseArgs({
  options: {
    git: { type: 'string' },
    src: { type: 'string' },
    engine: { type: 'string', default: 'both' },
    k: { type: 'string', short: 'k' },
    timeout: { type: 'string', default: '120' },
    out: { type: 'string', default: path.join(repoRoot, 'bench', 'results') },
  },
});

/** Test files and tests that need swarm mode (init_swarm, services, secrets, configs, nodes). */
const SWARM_FILES = ['api_config_test.py', 'api_secret_test.py', 'api_service_test.py', 'api_swarm_test.py', 'models_nodes_test.py', 'models_services_test.py', 'models_swarm_test.py'];
const SWARM_TESTS = [
  'api_network_test.py::TestNetworks::test_create_network_attachable',
  'api_network_test.py::TestNetworks::test_create_network_ingress',
  'api_network_test.py::TestNetworks::test_create_inspect_network_with_scope',
];
const HUB_IMAGES = ['alpine:3.10', 'alpine:latest', 'busybox:latest', 'hello-world:latest'];
const PYTHON = '/usr/bin/python3';
const ALPINE_FILES: Record<string, string> = {
  'etc/passwd': [
    'root:x:0:0:root:/root:/bin/sh',
    'bin:x:1:1:bin:/bin:/sbin/nologin',
    'daemon:x:2:2:daemon:/sbin:/sbin/nologin',
    'nobody:x:65534:65534:nobody:/:/sbin/nologin',
    'postgres:x:70:70::/var/lib/postgresql:/bin/sh',
    'guest:x:405:100:guest:/dev/null:/sbin/nologin',
    '',
  ].join('\n'),
  'etc/group': ['root:x:0:root', 'bin:x:1:root,bin,daemon', 'daemon:x:2:root,bin,daemon', 'users:x:100:games', 'postgres:x:70:', 'nogroup:x:65533:', 'nobody:x:65534:', ''].join('\n'),
  'etc/alpine-release': '3.10.9\n',
  'var/opt/.keep': '',
  'var/lib/postgresql/.keep': '',
};

function prepareTests(): string {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'docker-py-suite-'));
  if (values.git) {
    execFileSync('sh', ['-c', `git --git-dir="$0" archive 5.0.3 tests pytest.ini | tar -x -C "$1"`, values.git, work]);
  } else if (values.src) {
    fs.cpSync(path.join(values.src, 'tests'), path.join(work, 'tests'), { recursive: true });
    fs.copyFileSync(path.join(values.src, 'pytest.ini'), path.join(work, 'pytest.ini'));
  } else {
    throw new Error('give --git <docker-py .git dir> (tag 5.0.3 is used) or --src <docker-py checkout at 5.0.3>');
  }
  const version = execFileSync(PYTHON, ['-c', 'import docker; print(docker.__version__, docker.__file__)'], { cwd: work }).toString().trim();
  if (!version.startsWith('5.0.3 /usr/lib/python3/')) throw new Error(`expected Debian's python3-docker 5.0.3, found ${version} (run bench/docker-py-suite.sh)`);
  return work;
}

/** A registry serving the images the suite pulls from Docker Hub, all made from busybox-static. */
async function hubMirror(): Promise<Registry> {
  const reg = await Registry.start();
  const layoutDir = fs.mkdtempSync(path.join(os.tmpdir(), 'docker-py-images-'));
  try {
    const layout = new OciLayout(layoutDir);
    // busybox-static plus what the suite expects of Alpine: its system users (exec -u postgres) and folders (-w /var/opt).
    layout.addImage({ layers: [{ tar: ensureBusyboxTar(), compression: 'gzip' }, { files: ALPINE_FILES, compression: 'gzip' }], cmd: ['/bin/sh'] });
    layout.writeIndex('latest', false);
    for (const ref of HUB_IMAGES) skopeoPush(layoutDir, 'latest', `${reg.host}/library/${ref}`);
  } finally {
    fs.rmSync(layoutDir, { recursive: true, force: true });
  }
  return reg;
}

interface TestResult {
  outcome: 'passed' | 'failed' | 'error' | 'skipped';
  message?: string;
  seconds: number;
}

/** Reads pytest's junit XML (xunit2): one <testcase> per test, with <failure>, <error> or <skipped>. */
function parseJunit(xml: string): Record<string, TestResult> {
  const out: Record<string, TestResult> = {};
  const unescape = (s: string) => s.replace(/&quot;/g, '"').replace(/&apos;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
  for (const m of xml.matchAll(/<testcase ([^>]*?)(\/>|>([\s\S]*?)<\/testcase>)/g)) {
    const attrs = Object.fromEntries([...m[1]!.matchAll(/(\w+)="([^"]*)"/g)].map((a) => [a[1]!, unescape(a[2]!)]));
    const file = attrs.classname!.replace(/\.[^.]+$/, '').replace(/\./g, '/') + '.py';
    const cls = attrs.classname!.split('.').pop();
    const id = `${file.replace(/^tests\/integration\//, '')}::${cls}::${attrs.name}`;
    const body = m[3] ?? '';
    const kind = /<(failure|error|skipped)\b([^>]*)/.exec(body);
    const message = kind ? unescape(/message="([^"]*)"/.exec(kind[2]!)?.[1] ?? '').slice(0, 300) : undefined;
    const outcome = !kind ? 'passed' : kind[1] === 'failure' ? 'failed' : kind[1] === 'error' ? 'error' : 'skipped';
    // A teardown error is reported as a second <testcase> entry; the worse outcome wins.
    const prev = out[id];
    if (prev && prev.outcome !== 'passed' && prev.outcome !== 'skipped') continue;
    out[id] = { outcome, ...(message ? { message } : {}), seconds: Number(attrs.time ?? 0) };
  }
  return out;
}

function runPytest(work: string, engine: Engine, junit: string): Promise<number> {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'docker-py-home-'));
  // Without a config file docker-py keeps contexts in ./contexts — the shared work dir, so one
  // engine's run would see the contexts another left. Each run gets its own.
  fs.mkdirSync(path.join(home, '.docker'));
  fs.writeFileSync(path.join(home, '.docker', 'config.json'), '{}');
  const args = ['-m', 'pytest', 'tests/integration', '-p', 'no:cacheprovider', '-p', 'keep_test_image', `--timeout=${values.timeout}`, `--junitxml=${junit}`, '-q', '-rN'];
  for (const f of SWARM_FILES) args.push('--ignore', `tests/integration/${f}`);
  for (const t of SWARM_TESTS) args.push('--deselect', `tests/integration/${t}`);
  if (values.k) args.push('-k', values.k);
  const env = { PATH: process.env.PATH!, HOME: home, PYTHONPATH: path.join(repoRoot, 'bench', 'docker-py'), DOCKER_HOST: `unix://${engine.socket}`, DOCKER_TEST_API_VERSION: '1.41', PYTHONDONTWRITEBYTECODE: '1', LANG: 'C.UTF-8',
    // The suite turns every warning into an error (conftest.py); setuptools' distutils shim warns in
    // StrictVersion, which docker-py 5.0.3 calls on every client. The standard library's does not.
    SETUPTOOLS_USE_DISTUTILS: 'stdlib' };
  return new Promise((resolve) => {
    const child = spawn(PYTHON, args, { cwd: work, env, stdio: ['ignore', 'pipe', 'pipe'] });
    const logFile = fs.createWriteStream(junit.replace(/\.xml$/, '.log'));
    child.stdout.pipe(logFile);
    child.stderr.pipe(logFile);
    child.once('exit', (code) => {
      fs.rmSync(home, { recursive: true, force: true });
      resolve(code ?? -1);
    });
  });
}

/** What the engine still holds after the suite removed what it made. */
async function leftovers(engine: Engine & { dataRoot: string }): Promise<Record<string, unknown>> {
  const lines = async (args: string[]) => (await docker(engine.socket, args)).stdout.split('\n').filter(Boolean);
  const mounts = fs
    .readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .filter((l) => l.includes(engine.dataRoot))
    .map((l) => l.split(' ')[4]);
  return {
    containers: await lines(['ps', '-a', '--format', '{{.Names}} {{.Status}}']),
    networks: (await lines(['network', 'ls', '--format', '{{.Name}}'])).filter((n) => !['bridge', 'host', 'none'].includes(n)),
    volumes: await lines(['volume', 'ls', '-q']),
    images: await lines(['images', '--format', '{{.Repository}}:{{.Tag}}']),
    mounts,
  };
}

/**
 * What is left of the engine's own resources once everything the suite left is removed the way a
 * user would (rm -f, network and volume prune): overlay mounts, network namespaces, bridges of
 * removed networks. Anything here is the engine's leak, not the suite's.
 */
async function afterCleanup(engine: Engine & { dataRoot: string }, bridgesBefore: Set<string>): Promise<Record<string, unknown>> {
  const ids = (await docker(engine.socket, ['ps', '-aq'])).stdout.split('\n').filter(Boolean);
  if (ids.length) await docker(engine.socket, ['rm', '-f', '-v', ...ids]);
  await docker(engine.socket, ['network', 'prune', '-f']);
  await docker(engine.socket, ['volume', 'prune', '-af']);
  await new Promise((r) => setTimeout(r, 2000));
  const mounts = fs
    .readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((l) => l.split(' ')[4] ?? '')
    .filter((m) => m.startsWith(engine.dataRoot + '/'));
  const bridges = fs.readdirSync('/sys/class/net').filter((n) => n.startsWith('br-') && !bridgesBefore.has(n));
  const containers = (await docker(engine.socket, ['ps', '-aq'])).stdout.split('\n').filter(Boolean);
  return { containers, mounts, bridges };
}

async function runOn(kind: 'berthd' | 'dockerd', work: string, reg: Registry): Promise<Record<string, TestResult>> {
  const mirror = `http://${reg.host}`;
  let bridge: string | undefined;
  let engine: Engine & { dataRoot: string };
  if (kind === 'berthd') {
    engine = await startBerthd(process.env.BERTH_DIST ?? 'dist', 0, { 'registry-mirrors': [mirror] });
  } else {
    // Its own bridge and pools, clear of the e2e slots (10.64-127.x) and the benchmarks (10.253/10.254).
    bridge = `dpyd${process.pid % 1000}`;
    execFileSync('sh', ['-c', `ip link add "$0" type bridge && ip addr add 10.250.0.1/24 dev "$0" && ip link set "$0" up`, bridge]);
    engine = await startDockerd({ network: ['--bridge', bridge, '--default-address-pool', 'base=10.250.16.0/20,size=24', '--registry-mirror', mirror] });
  }
  const bridgesBefore = new Set(fs.readdirSync('/sys/class/net'));
  const junit = path.join(values.out!, `docker-py-${kind}.xml`);
  const started = Date.now();
  const load = os.loadavg()[0]!.toFixed(2);
  let results: Record<string, TestResult> = {};
  try {
    const code = await runPytest(work, engine, junit);
    results = parseJunit(fs.readFileSync(junit, 'utf8'));
    const counts = { passed: 0, failed: 0, error: 0, skipped: 0 };
    for (const r of Object.values(results)) counts[r.outcome]++;
    const left = await leftovers(engine);
    const leaked = await afterCleanup(engine, bridgesBefore);
    const summary = {
      engine: engine.name,
      date: new Date().toISOString(),
      machine: machine(),
      loadAtStart: load,
      loadAtEnd: os.loadavg()[0]!.toFixed(2),
      minutes: ((Date.now() - started) / 60000).toFixed(1),
      pytestExit: code,
      collected: Object.keys(results).length,
      swarmDeselected: { files: SWARM_FILES, tests: SWARM_TESTS },
      counts,
      leftovers: left,
      afterCleanup: leaked,
      tests: results,
    };
    fs.writeFileSync(path.join(values.out!, `docker-py-${kind}.json`), JSON.stringify(summary, null, 1) + '\n');
    console.log(`${engine.name}: ${JSON.stringify(counts)} in ${summary.minutes} min (load ${load} → ${summary.loadAtEnd}); left behind by the suite: ${JSON.stringify(left)}; after rm -f and prunes: ${JSON.stringify(leaked)}`);
  } finally {
    await engine.stop();
    if (bridge) execFileSync('ip', ['link', 'del', bridge]);
  }
  return results;
}

async function main(): Promise<void> {
  const work = prepareTests();
  fs.mkdirSync(values.out!, { recursive: true });
  const reg = await hubMirror();
  const engines = values.engine === 'both' ? (['dockerd', 'berthd'] as const) : [values.engine as 'berthd' | 'dockerd'];
  const all: Partial<Record<'berthd' | 'dockerd', Record<string, TestResult>>> = {};
  try {
    for (const e of engines) all[e] = await runOn(e, work, reg);
  } finally {
    await reg.stop();
    fs.rmSync(work, { recursive: true, force: true });
  }
  if (all.berthd && all.dockerd) {
    const differ = Object.entries(all.dockerd).filter(([id, r]) => r.outcome === 'passed' && all.berthd![id]?.outcome !== 'passed');
    console.log(`passing on dockerd but not on berthd: ${differ.length}`);
    for (const [id] of differ) console.log(`  ${id}: ${all.berthd![id]?.outcome ?? 'missing'} ${all.berthd![id]?.message ?? ''}`);
  }
}

await main();
