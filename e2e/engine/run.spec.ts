/**
 * `docker run` flags against berthd, with the stock docker CLI: each test
 * checks the exit code, the output and the effect inside the container.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { test, expect, uniq } from '../support/fixtures.js';

test.describe.configure({ mode: 'parallel' });

test('exit codes: command status, 125 daemon errors, 126/127 start errors', async ({ berthd }) => {
  expect((await berthd.docker(['run', '--rm', 'busybox', 'sh', '-c', 'exit 42'])).code).toBe(42);
  const notFound = await berthd.docker(['run', '--rm', 'busybox', 'no-such-binary']);
  expect(notFound.code).toBe(127);
  expect(notFound.stderr).toContain('executable file not found in $PATH');
  const notExec = await berthd.docker(['run', '--rm', 'busybox', '/etc/passwd']);
  expect(notExec.code).toBe(126);
  expect(notExec.stderr).toContain('permission denied');
  const badFlag = await berthd.docker(['run', '--rm', '--restart', 'sometimes', 'busybox', 'true']);
  expect(badFlag.code).toBe(125);
  const noImage = await berthd.docker(['run', '--rm', '--pull', 'never', 'nosuchimage:1', 'true']);
  expect(noImage.code).toBe(125);
  expect(noImage.stderr).toContain('No such image: nosuchimage:1');
});

test('-d prints the ID and leaves the container running; --name names it', async ({ berthd }) => {
  const name = uniq('detached');
  const id = (await berthd.dockerOk(['run', '-d', '--name', name, 'busybox', 'sleep', '30'])).trim();
  expect(id).toMatch(/^[a-f0-9]{64}$/);
  expect((await berthd.dockerOk(['inspect', '-f', '{{.State.Status}} {{.Name}}', name])).trim()).toBe(`running /${name}`);
  const dup = await berthd.docker(['run', '-d', '--name', name, 'busybox', 'true']);
  expect(dup.code).toBe(125);
  expect(dup.stderr).toContain(`Conflict. The container name "/${name}" is already in use by container "${id}"`);
  await berthd.dockerOk(['rm', '-f', name]);
});

test('-e, --env-file, -w, -u, -h, --entrypoint, --label', async ({ berthd }) => {
  const envFile = path.join(os.tmpdir(), `${uniq('env')}.list`);
  fs.writeFileSync(envFile, '# comment\nFROM_FILE=yes\nSPACED=a b\n');
  try {
    const out = await berthd.dockerOk([
      'run', '--rm', '-e', 'A=1', '-e', 'B=two words', '--env-file', envFile, '-w', '/tmp/work', '-u', 'nobody', '-h', 'myhost',
      'busybox', 'sh', '-c', 'echo "$A|$B|$FROM_FILE|$SPACED|$(pwd)|$(id -u):$(id -g)|$(hostname)|$HOME|$HOSTNAME"',
    ]);
    expect(out).toBe('1|two words|yes|a b|/tmp/work|65534:65534|myhost|/home|myhost\n');
  } finally {
    fs.rmSync(envFile, { force: true });
  }
  expect(await berthd.dockerOk(['run', '--rm', '--entrypoint', 'echo', 'busybox', 'from', 'entrypoint'])).toBe('from entrypoint\n');
  expect(await berthd.dockerOk(['run', '--rm', '-u', 'user:staff', 'busybox', 'id'])).toBe('uid=1000(user) gid=50(staff) groups=50(staff)\n');
  expect(await berthd.dockerOk(['run', '--rm', '-u', '1000', 'busybox', 'id'])).toBe('uid=1000(user) gid=1000(user) groups=50(staff),1000(user)\n');
  const badUser = await berthd.docker(['run', '--rm', '-u', 'ghost', 'busybox', 'true']);
  expect(badUser.code).not.toBe(0);
  expect(badUser.stderr).toContain('unable to find user ghost');
  const name = uniq('labels');
  await berthd.dockerOk(['create', '--name', name, '--label', 'com.example.team=core', '--label', 'empty', 'busybox']);
  const labels = JSON.parse(await berthd.dockerOk(['inspect', '-f', '{{json .Config.Labels}}', name]));
  expect(labels).toEqual({ 'com.example.team': 'core', empty: '' });
  await berthd.dockerOk(['rm', name]);
});

test('-i pipes stdin; -t allocates a terminal; stderr is kept separate without -t', async ({ berthd }) => {
  expect(await berthd.dockerOk(['run', '--rm', '-i', 'busybox', 'sh', '-c', 'cat; echo done'], { input: 'piped data\n' })).toBe('piped data\ndone\n');
  expect(await berthd.dockerOk(['run', '--rm', '-i', 'busybox', 'wc', '-c'], { input: 'x'.repeat(200_000) })).toBe('200000\n');
  // Much more output than a socket buffers while stdin stays attached and open: the monitor never
  // waits on berthd's input connection (it is write-only), so the container is not stalled. The
  // input is sent only after all the output arrived.
  const child = spawn('docker', ['run', '--rm', '-i', 'busybox', 'sh', '-c', 'head -c 2000000 /dev/zero | tr "\\0" y; echo; read x; echo "got $x"'], { env: berthd.env });
  let out = '';
  child.stdout.on('data', (b: Buffer) => {
    out += b.toString();
    if (out.length === 2_000_001) child.stdin.end('tail\n');
  });
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  expect(out.length).toBe(2_000_001 + 'got tail\n'.length);
  expect(out.endsWith('\ngot tail\n')).toBe(true);
  expect(code).toBe(0);
  const r = await berthd.docker(['run', '--rm', 'busybox', 'sh', '-c', 'echo out; echo err >&2']);
  expect(r.stdout).toBe('out\n');
  expect(r.stderr).toBe('err\n');
  const tty = await berthd.docker(['run', '--rm', '-t', 'busybox', 'sh', '-c', 'test -t 1 && echo is-a-tty; echo err >&2']);
  expect(tty.stdout).toBe('is-a-tty\r\nerr\r\n');
});

test('--rm removes the container after it exits', async ({ berthd }) => {
  const name = uniq('rm');
  await berthd.dockerOk(['run', '--rm', '--name', name, 'busybox', 'true']);
  expect((await berthd.docker(['inspect', name])).code).toBe(1);
  // --rm with -d: removed once it exits on its own.
  await berthd.dockerOk(['run', '-d', '--rm', '--name', name, 'busybox', 'sleep', '0.2']);
  await expect.poll(async () => (await berthd.docker(['inspect', name])).code, { timeout: 10_000 }).toBe(1);
});

test('--rm containers get a volatile overlay (no sync at exit), others a durable one; both survive a restart', async ({ berthd }) => {
  // Kernels show the option as "volatile" or (6.x) "fsync=volatile".
  const isVolatile = async (n: string) => (await berthd.dockerOk(['exec', n, 'sh', '-c', "awk '$2 == \"/\" { print $4 }' /proc/mounts"])).trim().split(',').some((o) => o === 'volatile' || o === 'fsync=volatile');
  const [eph, kept] = [uniq('volatile'), uniq('durable')];
  await berthd.dockerOk(['run', '-d', '--rm', '--name', eph, 'busybox', 'sleep', '60']);
  await berthd.dockerOk(['run', '-d', '--name', kept, 'busybox', 'sleep', '60']);
  expect(await isVolatile(eph)).toBe(true);
  expect(await isVolatile(kept)).toBe(false);
  // A restart mounts the volatile overlay again (its marker from the first mount is cleared).
  await berthd.dockerOk(['exec', eph, 'sh', '-c', 'echo kept > /data.txt']);
  await berthd.dockerOk(['restart', '-t', '0', eph]);
  expect(await berthd.dockerOk(['exec', eph, 'cat', '/data.txt'])).toBe('kept\n');
  expect(await isVolatile(eph)).toBe(true);
  // As with dockerd, --rm applies again once it stops for good.
  await berthd.dockerOk(['stop', '-t', '0', eph]);
  await expect.poll(async () => (await berthd.docker(['inspect', eph])).code, { timeout: 10_000 }).toBe(1);
  await berthd.dockerOk(['rm', '-f', kept]);
});

test('--memory, --cpus, --pids-limit are applied as cgroup limits', async ({ berthd }) => {
  const name = uniq('limits');
  await berthd.dockerOk(['run', '-d', '--name', name, '--memory', '64m', '--cpus', '0.5', '--pids-limit', '20', 'busybox', 'sleep', '60']);
  const hc = JSON.parse(await berthd.dockerOk(['inspect', '-f', '{{json .HostConfig}}', name]));
  expect(hc.Memory).toBe(64 * 1024 * 1024);
  expect(hc.NanoCpus).toBe(500_000_000);
  expect(hc.PidsLimit).toBe(20);
  const id = (await berthd.dockerOk(['inspect', '-f', '{{.Id}}', name])).trim();
  const cg = (ctrl: string, file: string) => fs.readFileSync(`/sys/fs/cgroup/${ctrl}/berth/${id}/${file}`, 'utf8').trim();
  expect(cg('memory', 'memory.limit_in_bytes')).toBe(String(64 * 1024 * 1024));
  expect(cg('cpu', 'cpu.cfs_quota_us')).toBe('50000');
  expect(cg('cpu', 'cpu.cfs_period_us')).toBe('100000');
  expect(cg('pids', 'pids.max')).toBe('20');
  // The pids limit is enforced: forking past it fails inside the container.
  const fork = await berthd.docker(['exec', name, 'sh', '-c', 'for i in $(seq 1 40); do sleep 5 & done; wait']);
  expect(fork.stderr).toMatch(/can't fork|Resource temporarily unavailable/);
  await berthd.dockerOk(['rm', '-f', name]);
  const tooSmall = await berthd.docker(['run', '--rm', '--memory', '1m', 'busybox', 'true']);
  expect(tooSmall.code).toBe(125);
  expect(tooSmall.stderr).toContain('Minimum memory limit allowed is 6MB');
  const tooMany = await berthd.docker(['run', '--rm', '--cpus', '64', 'busybox', 'true']);
  expect(tooMany.code).toBe(125);
  expect(tooMany.stderr).toMatch(/range of CPUs is from 0.01 to \d+\.00, as there are only \d+ CPUs available/);
});

test('--stop-signal and --stop-timeout decide how stop ends the process', async ({ berthd }) => {
  const name = uniq('stopsig');
  // The shell exits 0 on SIGUSR1 only; SIGTERM would be ignored by PID 1.
  await berthd.dockerOk(['run', '-d', '--name', name, '--stop-signal', 'USR1', 'busybox', 'sh', '-c', 'trap "echo got-usr1; exit 0" USR1; while true; do sleep 0.1; done']);
  await berthd.dockerOk(['stop', name]);
  expect((await berthd.dockerOk(['inspect', '-f', '{{.State.ExitCode}}', name])).trim()).toBe('0');
  expect(await berthd.dockerOk(['logs', name])).toBe('got-usr1\n');
  await berthd.dockerOk(['rm', name]);
  const stubborn = uniq('stoptimeout');
  await berthd.dockerOk(['run', '-d', '--name', stubborn, '--stop-timeout', '1', 'busybox', 'sh', '-c', 'trap "" TERM; while true; do sleep 0.1; done']);
  const started = Date.now();
  await berthd.dockerOk(['stop', stubborn]);
  const took = Date.now() - started;
  expect(took).toBeGreaterThanOrEqual(900);
  expect(took).toBeLessThan(8000);
  expect((await berthd.dockerOk(['inspect', '-f', '{{.State.ExitCode}}', stubborn])).trim()).toBe('137');
  await berthd.dockerOk(['rm', stubborn]);
});

test('--init runs docker-init as PID 1 and reaps zombies', async ({ berthd }) => {
  const out = await berthd.dockerOk(['run', '--rm', '--init', 'busybox', 'sh', '-c', 'cat /proc/1/cmdline | tr "\\0" " "']);
  expect(out).toMatch(/^\/sbin\/docker-init -- sh -c/);
  // Without --init the command itself is PID 1.
  expect(await berthd.dockerOk(['run', '--rm', 'busybox', 'sh', '-c', 'cat /proc/1/comm; true'])).toBe('sh\n');
});

test('--read-only and --tmpfs', async ({ berthd }) => {
  const ro = await berthd.docker(['run', '--rm', '--read-only', 'busybox', 'touch', '/etc/x']);
  expect(ro.code).toBe(1);
  expect(ro.stderr).toContain('Read-only file system');
  const out = await berthd.dockerOk(['run', '--rm', '--read-only', '--tmpfs', '/scratch:size=1m', 'busybox', 'sh', '-c', 'echo ok > /scratch/f && cat /scratch/f && grep " /scratch " /proc/mounts']);
  expect(out).toMatch(/^ok\ntmpfs \/scratch tmpfs rw,nosuid,nodev,noexec,relatime,size=1024k/);
});

test('--cap-add, --cap-drop and --privileged change the capability set', async ({ berthd }) => {
  const capEff = async (...flags: string[]) => (await berthd.dockerOk(['run', '--rm', ...flags, 'busybox', 'sh', '-c', 'grep CapEff /proc/self/status'])).trim().split(/\s+/)[1];
  expect(await capEff()).toBe('00000000a80425fb');
  // NET_ADMIN is bit 12.
  expect(await capEff('--cap-add', 'NET_ADMIN')).toBe((0xa80425fbn | (1n << 12n)).toString(16).padStart(16, '0'));
  // CHOWN is bit 0.
  expect(await capEff('--cap-drop', 'CHOWN')).toBe((0xa80425fbn & ~1n).toString(16).padStart(16, '0'));
  expect(await capEff('--cap-drop', 'ALL')).toBe('0000000000000000');
  // Privileged gets everything the engine itself holds.
  const engineBounding = /^CapBnd:\s*([0-9a-f]+)/m.exec(fs.readFileSync('/proc/self/status', 'utf8'))![1];
  expect(await capEff('--privileged')).toBe(engineBounding);
  const bad = await berthd.docker(['run', '--rm', '--cap-add', 'NOT_A_CAP', 'busybox', 'true']);
  expect(bad.code).toBe(125);
  expect(bad.stderr).toContain('unknown capability: "CAP_NOT_A_CAP"');
});

test('--network none and host', async ({ berthd }) => {
  const none = await berthd.dockerOk(['run', '--rm', '--network', 'none', 'busybox', 'sh', '-c', 'ls /sys/class/net']);
  expect(none.trim().split(/\s+/)).toEqual(['lo']);
  // Host networking sees the host's interfaces (other test daemons add and remove bridges meanwhile: compare the stable ones).
  const stable = fs.readdirSync('/sys/class/net').filter((n) => !/^(bte?\d+|bn\d+|bb\d+|br-|veth|berth)/.test(n));
  const host = await berthd.dockerOk(['run', '--rm', '--network', 'host', 'busybox', 'sh', '-c', 'ls /sys/class/net']);
  expect(host.trim().split(/\s+/)).toEqual(expect.arrayContaining(stable));
  expect(stable.length).toBeGreaterThan(1);
  expect(await berthd.dockerOk(['run', '--rm', '--network', 'host', 'busybox', 'hostname'])).toBe(`${os.hostname()}\n`);
});

test('restart policies: on-failure:N, always, unless-stopped with backoff', async ({ berthd }) => {
  const failing = uniq('onfailure');
  await berthd.dockerOk(['run', '-d', '--name', failing, '--restart', 'on-failure:3', 'busybox', 'sh', '-c', 'echo attempt; exit 2']);
  await expect.poll(async () => (await berthd.dockerOk(['inspect', '-f', '{{.RestartCount}} {{.State.Status}}', failing])).trim(), { timeout: 20_000 }).toBe('3 exited');
  expect((await berthd.dockerOk(['logs', failing])).split('\n').filter(Boolean)).toHaveLength(4);
  // Backoff doubles from 100ms: four runs take at least 100+200+400ms.
  const s = JSON.parse(await berthd.dockerOk(['inspect', '-f', '{{json .State}}', failing]));
  expect(s.ExitCode).toBe(2);
  await berthd.dockerOk(['rm', failing]);

  const success = uniq('onfailure-ok');
  await berthd.dockerOk(['run', '-d', '--name', success, '--restart', 'on-failure', 'busybox', 'true']);
  await berthd.dockerOk(['wait', success]);
  await new Promise((r) => setTimeout(r, 500));
  expect((await berthd.dockerOk(['inspect', '-f', '{{.RestartCount}}', success])).trim()).toBe('0');
  await berthd.dockerOk(['rm', success]);

  const always = uniq('always');
  await berthd.dockerOk(['run', '-d', '--name', always, '--restart', 'always', 'busybox', 'sh', '-c', 'sleep 0.2; exit 0']);
  await expect.poll(async () => Number((await berthd.dockerOk(['inspect', '-f', '{{.RestartCount}}', always])).trim()), { timeout: 20_000 }).toBeGreaterThanOrEqual(2);
  // A manual stop ends the loop.
  await berthd.dockerOk(['stop', always]);
  const count = (await berthd.dockerOk(['inspect', '-f', '{{.RestartCount}}', always])).trim();
  await new Promise((r) => setTimeout(r, 1500));
  expect((await berthd.dockerOk(['inspect', '-f', '{{.RestartCount}} {{.State.Status}}', always])).trim()).toBe(`${count} exited`);
  await berthd.dockerOk(['rm', always]);

  const bad = await berthd.docker(['run', '--rm', '--restart', 'always', 'busybox', 'true']);
  expect(bad.code).toBe(125);
  expect(bad.stderr).toMatch(/conflicting options|can't create 'AutoRemove' container with restart policy/);
  const badRetry = await berthd.docker(['run', '-d', '--restart', 'always:3', 'busybox', 'true']);
  expect(badRetry.code).toBe(125);
  expect(badRetry.stderr).toContain("maximum retry count can only be used with 'on-failure'");
});
