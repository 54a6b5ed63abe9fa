/**
 * The berth.service engine against a fake systemctl and a real unix socket
 * that answers like an engine: start/stop go through systemd (pkexec when
 * polkit wants a password), states say why the socket cannot be used, logs
 * come from the journal. And how `berth engine install` plans its command.
 */
import http from 'node:http';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SystemdBerthdEngine } from './systemd-engine.js';
import { inServiceGroup, installedUnit, installPlan, type CommandResult } from './linux-service.js';

const servers: http.Server[] = [];
const dirs: string[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await new Promise((r) => s.close(r));
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

function tmp(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-systemd-test-'));
  dirs.push(d);
  return d;
}

/** An engine API on a unix socket (GET /version), started on demand like systemd would start berthd. */
function fakeEngine(socket: string): { up(): Promise<void>; down(): Promise<void> } {
  let server: http.Server | undefined;
  return {
    up: () =>
      new Promise((resolve) => {
        server = http.createServer((_req, res) => {
          res.writeHead(200, { 'Content-Type': 'application/json' });
          res.end(JSON.stringify({ Version: '28.5.0', Components: [{ Name: 'berthd', Version: '0.1.0' }] }));
        });
        servers.push(server);
        server.listen(socket, () => resolve());
      }),
    down: () => new Promise((resolve) => (server ? server.close(() => resolve()) : resolve())),
  };
}

interface Call {
  cmd: string;
  args: string[];
}

function runner(script: (c: Call) => Promise<CommandResult> | CommandResult) {
  const calls: Call[] = [];
  const run = async (cmd: string, args: string[]) => {
    const c = { cmd, args };
    calls.push(c);
    return script(c);
  };
  return { calls, run };
}

const okResult = { code: 0, stdout: '', stderr: '' };

describe('SystemdBerthdEngine', () => {
  it('starts berth.service with systemctl, waits for the API, and reads the version as berthd x', async () => {
    const socket = path.join(tmp(), 'docker.sock');
    const engine = fakeEngine(socket);
    let active = false;
    const r = runner(async ({ cmd, args }) => {
      if (cmd === 'systemctl' && args.includes('start')) {
        active = true;
        setTimeout(() => void engine.up(), 100);
        return okResult;
      }
      if (cmd === 'systemctl' && args[0] === 'is-active') return { ...okResult, code: active ? 0 : 3 };
      return { code: 1, stdout: '', stderr: 'unexpected' };
    });
    const e = new SystemdBerthdEngine({ socket, run: r.run, inGroup: () => true, pollMs: 20 });
    expect(await e.probe()).toBe('stopped');
    await e.start();
    expect(e.state()).toBe('running');
    expect(e.info().version).toBe('berthd 0.1.0');
    expect(r.calls.find((c) => c.args.includes('start'))).toEqual({ cmd: 'systemctl', args: ['--no-ask-password', 'start', 'berth.service'] });
    e.dispose();
  });

  it('asks through pkexec when polkit wants a password, and says when that is cancelled', async () => {
    const socket = path.join(tmp(), 'docker.sock');
    const r = runner(({ cmd, args }) => {
      if (cmd === 'systemctl' && args.includes('stop')) return { code: 1, stdout: '', stderr: 'Failed to stop berth.service: Interactive authentication required.' };
      if (cmd === 'pkexec') return { code: 126, stdout: '', stderr: '' };
      return okResult;
    });
    const e = new SystemdBerthdEngine({ socket, run: r.run, inGroup: () => true });
    await expect(e.stop()).rejects.toThrow('stop of berth.service was cancelled');
    expect(r.calls.map((c) => c.cmd)).toEqual(['systemctl', 'pkexec']);
    expect(r.calls[1]!.args).toEqual(['systemctl', 'stop', 'berth.service']);
    expect(e.state()).toBe('error');
    e.dispose();
  });

  it('an active service this user cannot reach says how to join the berth group; a stopped one is just stopped', async () => {
    const dir = tmp();
    let active = true;
    const r = runner(({ args }) => ({ ...okResult, code: args[0] === 'is-active' ? (active ? 0 : 3) : 0 }));
    const e = new SystemdBerthdEngine({ socket: path.join(dir, 'docker.sock'), run: r.run, inGroup: () => false });
    expect(await e.probe()).toBe('error');
    expect(e.error()).toContain('join the berth group to use Berth\'s engine without root (sudo usermod -aG berth $USER), then log out and in again');
    active = false;
    expect(await e.probe()).toBe('stopped');
    expect(e.error()).toBeUndefined();
    e.dispose();
  });

  it("the log is the unit's journal, or where to find it", async () => {
    const r = runner(({ cmd }) => (cmd === 'journalctl' ? { code: 0, stdout: '2026-01-01T00:00:00 host berthd[1]: berthd is ready\n', stderr: '' } : okResult));
    const e = new SystemdBerthdEngine({ socket: '/nonexistent.sock', run: r.run });
    expect(await e.readLogs(50)).toEqual({ text: '2026-01-01T00:00:00 host berthd[1]: berthd is ready\n', file: 'journalctl -u berth.service' });
    expect(r.calls[0]).toEqual({ cmd: 'journalctl', args: ['-u', 'berth.service', '-n', '50', '--no-pager', '-o', 'short-iso'] });
    const denied = new SystemdBerthdEngine({ socket: '/nonexistent.sock', run: async () => ({ code: 0, stdout: '-- No entries --\n', stderr: 'Hint: You are currently not seeing messages from other users and the system.' }) });
    expect((await denied.readLogs(5)).text).toContain('adm or systemd-journal group');
    await expect(e.resetData()).rejects.toThrow('belongs to root');
    expect(e.configFile).toBeUndefined();
    e.dispose();
    denied.dispose();
  });
});

describe('the service on this machine', () => {
  it('finds an installed unit under any of the unit folders, and group membership from /etc/group', () => {
    const root = tmp();
    expect(installedUnit(root)).toBeUndefined();
    fs.mkdirSync(path.join(root, 'usr/lib/systemd/system'), { recursive: true });
    fs.writeFileSync(path.join(root, 'usr/lib/systemd/system/berth.service'), '[Service]\n');
    expect(installedUnit(root)).toBe(path.join(root, 'usr/lib/systemd/system/berth.service'));
    const group = path.join(root, 'group');
    fs.writeFileSync(group, 'root:x:0:\nberth:x:997:alice\n');
    expect(inServiceGroup(group, [1000, 997], 1000)).toBe(true);
    expect(inServiceGroup(group, [1000], 1000)).toBe(false);
    expect(inServiceGroup(group, [], 0)).toBe(true);
    expect(inServiceGroup(path.join(root, 'missing'), [997], 1000)).toBe(false);
  });

  it('plans berth engine install: a root-owned copy for packaged apps, the checkout in place for development, pkexec before sudo', () => {
    const packaged = installPlan({
      action: 'install',
      user: 'alice',
      env: { APPDIR: '/tmp/.mount_BerthX', APPIMAGE: '/home/alice/Berth.AppImage', BERTH_SERVICE_SCRIPT: '/s/berth-engine-service.sh' },
      execPath: '/tmp/.mount_BerthX/berth',
      daemonScript: '/tmp/.mount_BerthX/resources/app.asar.unpacked/dist/engine/daemon/main.js',
      packaged: true,
      isRoot: false,
      has: (c) => c === 'pkexec',
    });
    expect(packaged).toEqual({
      argv: ['/bin/sh', '/s/berth-engine-service.sh', 'install', '--copy-app', '/tmp/.mount_BerthX', '--exec', 'berth', '--script', 'resources/app.asar.unpacked/dist/engine/daemon/main.js', '--user', 'alice'],
      elevate: 'pkexec',
      describe: 'a root-owned copy of /home/alice/Berth.AppImage in /opt/berth-engine',
    });
    const dev = installPlan({ action: 'install', env: { BERTH_SERVICE_SCRIPT: '/s/x.sh' }, execPath: '/usr/bin/node', daemonScript: '/src/berth/dist/engine/daemon/main.js', packaged: false, isRoot: false, has: (c) => c === 'sudo' });
    expect(dev.argv).toEqual(['/bin/sh', '/s/x.sh', 'install', '--exec', '/usr/bin/node', '--script', '/src/berth/dist/engine/daemon/main.js', '--allow-user-owned']);
    expect(dev.elevate).toBe('sudo');
    expect(installPlan({ action: 'uninstall', env: { BERTH_SERVICE_SCRIPT: '/s/x.sh' }, daemonScript: '', packaged: false, isRoot: true }).argv).toEqual(['/bin/sh', '/s/x.sh', 'uninstall']);
    expect(installPlan({ action: 'uninstall', env: { BERTH_SERVICE_SCRIPT: '/s/x.sh' }, daemonScript: '', packaged: false, isRoot: true }).elevate).toBe('none');
  });
});
