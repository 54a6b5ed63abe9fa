/**
 * Default container security, checked from inside containers: capabilities,
 * seccomp, masked and read-only paths, no-new-privileges, rlimits, and the
 * known escapes the runtime must block.
 */
import fs from 'node:fs';
import { test, expect, uniq } from '../support/fixtures.js';

test.describe.configure({ mode: 'parallel' });

test('default container: Docker capability set, seccomp filter, masked and read-only paths', async ({ berthd }) => {
  const status = await berthd.dockerOk(['run', '--rm', 'busybox', 'cat', '/proc/self/status']);
  expect(status).toMatch(/^CapEff:\s+00000000a80425fb$/m);
  expect(status).toMatch(/^CapBnd:\s+00000000a80425fb$/m);
  expect(status).toMatch(/^CapInh:\s+0000000000000000$/m);
  expect(status).toMatch(/^Seccomp:\s+2$/m);
  expect(status).toMatch(/^NoNewPrivs:\s+0$/m);
  // mount and unshare are refused (EPERM from seccomp/capabilities).
  const mount = await berthd.docker(['run', '--rm', 'busybox', 'mount', '-t', 'tmpfs', 'x', '/mnt']);
  expect(mount.code).not.toBe(0);
  expect(mount.stderr).toMatch(/Operation not permitted|permission denied/i);
  const unshare = await berthd.docker(['run', '--rm', 'busybox', 'unshare', '-n', 'true']);
  expect(unshare.code).not.toBe(0);
  expect(unshare.stderr).toMatch(/Operation not permitted/);
  // Masked paths (those this kernel has): files read as empty, directories list nothing.
  const masked = ['/proc/kcore', '/proc/interrupts', '/proc/keys', '/proc/timer_list', '/proc/sched_debug', '/proc/acpi', '/proc/scsi', '/sys/firmware'].filter((p) => fs.existsSync(p));
  expect(masked.length).toBeGreaterThan(0);
  for (const p of masked) {
    const isDir = fs.statSync(p).isDirectory();
    const out = await berthd.dockerOk(['run', '--rm', 'busybox', 'sh', '-c', isDir ? `ls -A ${p} | wc -l` : `wc -c < ${p}`]);
    expect(`${p}: ${out.trim()}`).toBe(`${p}: 0`);
  }
  // /proc/sysrq-trigger and /proc/sys are read-only.
  if (fs.existsSync('/proc/sysrq-trigger')) {
    const sysrq = await berthd.docker(['run', '--rm', 'busybox', 'sh', '-c', 'echo h > /proc/sysrq-trigger']);
    expect(sysrq.code).not.toBe(0);
    expect(sysrq.stderr).toMatch(/Read-only file system/);
  }
  const procSys = await berthd.docker(['run', '--rm', 'busybox', 'sh', '-c', 'echo 1 > /proc/sys/kernel/panic']);
  expect(procSys.stderr).toMatch(/Read-only file system/);
  // /sys is read-only.
  expect((await berthd.docker(['run', '--rm', 'busybox', 'touch', '/sys/x'])).stderr).toMatch(/Read-only file system/);
});

test('privileged and seccomp=unconfined lift the restrictions', async ({ berthd }) => {
  expect(await berthd.dockerOk(['run', '--rm', '--privileged', 'busybox', 'sh', '-c', 'mkdir -p /m && mount -t tmpfs x /m && echo mounted'])).toBe('mounted\n');
  const st = await berthd.dockerOk(['run', '--rm', '--security-opt', 'seccomp=unconfined', 'busybox', 'cat', '/proc/self/status']);
  expect(st).toMatch(/^Seccomp:\s+0$/m);
  const bad = await berthd.docker(['run', '--rm', '--security-opt', 'bogus=1', 'busybox', 'true']);
  expect(bad.code).toBe(125);
  expect(bad.stderr).toContain('invalid --security-opt 2: "bogus=1"');
});

test('no-new-privileges when asked', async ({ berthd }) => {
  const st = await berthd.dockerOk(['run', '--rm', '--security-opt', 'no-new-privileges', 'busybox', 'cat', '/proc/self/status']);
  expect(st).toMatch(/^NoNewPrivs:\s+1$/m);
  const st2 = await berthd.dockerOk(['run', '--rm', '--security-opt', 'no-new-privileges:true', 'busybox', 'cat', '/proc/self/status']);
  expect(st2).toMatch(/^NoNewPrivs:\s+1$/m);
});

test('rlimits: --ulimit applies, never above the engine own hard limit', async ({ berthd }) => {
  expect(await berthd.dockerOk(['run', '--rm', '--ulimit', 'nofile=1000:2000', 'busybox', 'sh', '-c', 'ulimit -n; ulimit -Hn'])).toBe('1000\n2000\n');
  const engineHard = Number(/^Max open files\s+\d+\s+(\d+)/m.exec(fs.readFileSync('/proc/self/limits', 'utf8'))![1]);
  const out = await berthd.dockerOk(['run', '--rm', '--ulimit', `nofile=${engineHard * 10}:${engineHard * 10}`, 'busybox', 'sh', '-c', 'ulimit -Hn']);
  expect(Number(out.trim())).toBeLessThanOrEqual(engineHard);
});

test('workdir through a leaked fd (CVE-2024-21626) is refused', async ({ berthd }) => {
  for (const fd of [3, 4, 5, 6, 7, 8]) {
    const r = await berthd.docker(['run', '--rm', '-w', `/proc/self/fd/${fd}`, 'busybox', 'sh', '-c', 'ls ../../../../ | head -1']);
    // Either the runtime refuses the cwd, or the cwd is not a host directory.
    if (r.code === 0) expect(r.stdout).not.toMatch(/^(boot|etc|home|lib|opt|root|run|srv|usr|var)$/m);
    else expect(r.code).not.toBe(0);
  }
  // Only fds 0-2 are open in the container's process.
  const name = uniq('fds');
  await berthd.dockerOk(['run', '-d', '--name', name, 'busybox', 'sleep', '60']);
  expect(await berthd.dockerOk(['exec', name, 'ls', '/proc/1/fd'])).toBe('0\n1\n2\n');
  await berthd.dockerOk(['rm', '-f', name]);
});

test('the host runtime binary cannot be overwritten through /proc/self/exe (CVE-2019-5736)', async ({ berthd }) => {
  const runc = fs.readFileSync('/usr/sbin/runc');
  const name = uniq('exe');
  await berthd.dockerOk(['run', '-d', '--name', name, 'busybox', 'sleep', '60']);
  // An exec'd process trying to open its runtime binary through /proc for writing.
  const r = await berthd.docker(['exec', name, 'sh', '-c', 'for p in /proc/[0-9]*/exe; do echo x > $p 2>/dev/null && echo wrote $p; done; true']);
  expect(r.stdout).not.toContain('wrote');
  expect(fs.readFileSync('/usr/sbin/runc').equals(runc)).toBe(true);
  await berthd.dockerOk(['rm', '-f', name]);
});
