/**
 * `docker exec` (non-interactive, -d, -e, -w, -u, exit codes), `docker top`
 * and `docker stats`.
 */
import { spawn } from 'node:child_process';
import { test, expect, uniq } from '../support/fixtures.js';

test.describe.configure({ mode: 'parallel' });

test('exec: output, exit codes, env, workdir, user, detach', async ({ berthd }) => {
  const name = uniq('exec');
  await berthd.dockerOk(['run', '-d', '--name', name, '-e', 'FROM_RUN=1', 'busybox', 'sleep', '120']);
  const r = await berthd.docker(['exec', name, 'sh', '-c', 'echo out; echo err >&2; exit 6']);
  expect(r).toEqual({ code: 6, stdout: 'out\n', stderr: 'err\n' });
  expect(await berthd.dockerOk(['exec', '-e', 'X=y', '-w', '/etc', '-u', 'nobody', name, 'sh', '-c', 'echo $X $FROM_RUN $(pwd) $(id -un)'])).toBe('y 1 /etc nobody\n');
  expect(await berthd.dockerOk(['exec', '-i', name, 'cat'], { input: 'via stdin\n' })).toBe('via stdin\n');
  // dockerd 20.10: 126 for an exec that cannot start, a missing executable too (docker-py tests it).
  const notFound = await berthd.docker(['exec', name, 'nosuchcmd']);
  expect(notFound.code).toBe(126);
  expect(notFound.stdout + notFound.stderr).toContain('executable file not found');
  await berthd.dockerOk(['exec', '-d', name, 'sh', '-c', 'sleep 0.3; echo detached > /tmp/marker']);
  await expect.poll(async () => (await berthd.docker(['exec', name, 'cat', '/tmp/marker'])).stdout).toBe('detached\n');
  // Exec inspect through the API reports the exit code after the process ended.
  const docker = berthd.client();
  const ex = await docker.getContainer(name).exec({ Cmd: ['sh', '-c', 'exit 11'], AttachStdout: true, AttachStderr: true });
  const stream = await ex.start({ hijack: true, stdin: false });
  await new Promise((resolve) => stream.on('end', resolve).resume());
  expect((await ex.inspect()).ExitCode).toBe(11);
  // Exec needs a running container.
  await berthd.dockerOk(['stop', '-t', '0', name]);
  const stopped = await berthd.docker(['exec', name, 'true']);
  expect(stopped.code).toBe(1);
  expect(stopped.stderr).toMatch(/container [a-f0-9]{64} is not running/);
  const missing = await docker.getExec('0'.repeat(64)).inspect().catch((e: Error) => e.message);
  expect(String(missing)).toContain('No such exec instance');
  await berthd.dockerOk(['rm', name]);
});

test('top lists the container processes with ps columns', async ({ berthd }) => {
  const name = uniq('top');
  await berthd.dockerOk(['run', '-d', '--name', name, 'busybox', 'sh', '-c', 'sleep 100 & sleep 200; true']);
  const out = await berthd.dockerOk(['top', name]);
  const lines = out.trim().split('\n');
  expect(lines[0]).toMatch(/^UID\s+PID\s+PPID\s+C\s+STIME\s+TTY\s+TIME\s+CMD$/);
  const cmds = lines.slice(1).map((l) => l.split(/\s+/).slice(7).join(' '));
  expect(cmds).toEqual(expect.arrayContaining(['sleep 100', 'sleep 200']));
  expect(cmds.some((c) => c.startsWith('sh -c'))).toBe(true);
  const aux = await berthd.dockerOk(['top', name, 'aux']);
  expect(aux.split('\n')[0]).toMatch(/^USER\s+PID\s+%CPU\s+%MEM/);
  await berthd.dockerOk(['stop', '-t', '0', name]);
  const stopped = await berthd.docker(['top', name]);
  expect(stopped.code).toBe(1);
  expect(stopped.stderr).toContain('is not running');
  await berthd.dockerOk(['rm', name]);
});

test('stats --no-stream and streaming, from cgroup counters', async ({ berthd }) => {
  const name = uniq('stats');
  await berthd.dockerOk(['run', '-d', '--name', name, '--memory', '100m', 'busybox', 'sh', '-c', 'head -c 30000000 /dev/zero | tr "\\0" x > /dev/shm/fill; while true; do :; done']);
  await new Promise((r) => setTimeout(r, 1500));
  const line = (await berthd.dockerOk(['stats', '--no-stream', '--format', '{{.Name}}|{{.CPUPerc}}|{{.MemUsage}}|{{.PIDs}}', name])).trim();
  const [n, cpu, mem, pids] = line.split('|');
  expect(n).toBe(name);
  // A busy loop uses a good share of a CPU.
  expect(parseFloat(cpu!)).toBeGreaterThan(20);
  expect(mem).toMatch(/MiB \/ 100MiB$/);
  expect(parseFloat(mem!)).toBeGreaterThan(25);
  expect(Number(pids)).toBeGreaterThanOrEqual(1);
  // The raw API stream: one JSON document per second with precpu from the previous one.
  const docker = berthd.client();
  const stream = (await docker.getContainer(name).stats({ stream: true })) as NodeJS.ReadableStream;
  const samples: Array<{ cpu_stats: { cpu_usage: { total_usage: number } }; precpu_stats: { cpu_usage: { total_usage: number } }; memory_stats: { usage: number; limit: number } }> = [];
  let buf = '';
  await new Promise<void>((resolve) => {
    stream.on('data', (d: Buffer) => {
      buf += d.toString();
      let nl;
      while ((nl = buf.indexOf('\n')) >= 0) {
        samples.push(JSON.parse(buf.slice(0, nl)));
        buf = buf.slice(nl + 1);
        if (samples.length === 3) {
          (stream as unknown as { destroy(): void }).destroy();
          resolve();
        }
      }
    });
  });
  expect(samples[2]!.precpu_stats.cpu_usage.total_usage).toBe(samples[1]!.cpu_stats.cpu_usage.total_usage);
  expect(samples[2]!.cpu_stats.cpu_usage.total_usage).toBeGreaterThan(samples[1]!.cpu_stats.cpu_usage.total_usage);
  expect(samples[0]!.memory_stats.limit).toBe(100 * 1024 * 1024);
  // The CLI's streaming mode prints refreshed tables until interrupted.
  const live = spawn('docker', ['stats', '--format', '{{.Name}} {{.PIDs}}', name], { env: berthd.env });
  let out = '';
  live.stdout.on('data', (d: Buffer) => (out += d.toString()));
  await expect.poll(() => (out.match(new RegExp(name, 'g')) ?? []).length, { timeout: 10_000 }).toBeGreaterThanOrEqual(2);
  live.kill();
  await berthd.dockerOk(['rm', '-f', name]);
});
