import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { BerthdEngine, tailFile } from './berthd-engine.js';
import { readEngineConfig, writeEngineConfig } from './daemon-config.js';
import { DAEMON_NODE_FLAGS } from '../../../engine/daemon/node-flags.js';

const dirs: string[] = [];
const tmp = () => {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-eng-'));
  dirs.push(d);
  return d;
};
afterEach(() => dirs.splice(0).forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

function engine(dir: string, extra: Partial<ConstructorParameters<typeof BerthdEngine>[0]> = {}) {
  return new BerthdEngine({
    daemonScript: '/opt/berth/engine/daemon/main.js',
    socket: path.join(dir, 'docker.sock'),
    dataRoot: path.join(dir, 'data'),
    configFile: path.join(dir, 'daemon.json'),
    logFile: path.join(dir, 'berthd.log'),
    pidFile: path.join(dir, 'berthd.pid'),
    ...extra,
  });
}

describe('BerthdEngine', () => {
  it('passes the flags daemon.json does not set (berthd refuses a key given both ways) and creates an empty config', () => {
    const dir = tmp();
    const e = engine(dir, { execRoot: '/run/bx' });
    expect(e.daemonArgs()).toEqual([...DAEMON_NODE_FLAGS, '/opt/berth/engine/daemon/main.js', '--config-file', path.join(dir, 'daemon.json'), '--data-root', path.join(dir, 'data'), '--exec-root', '/run/bx', '-H', `unix://${path.join(dir, 'docker.sock')}`]);
    expect(fs.readFileSync(path.join(dir, 'daemon.json'), 'utf8').trim()).toBe('{}');
    fs.writeFileSync(path.join(dir, 'daemon.json'), JSON.stringify({ 'data-root': '/srv/berth', hosts: [`unix://${path.join(dir, 'docker.sock')}`, 'tcp://127.0.0.1:2375'] }));
    expect(e.daemonArgs()).toEqual([...DAEMON_NODE_FLAGS, '/opt/berth/engine/daemon/main.js', '--config-file', path.join(dir, 'daemon.json'), '--exec-root', '/run/bx']);
  });

  it('refuses a daemon.json whose hosts leave out the socket Berth talks to', () => {
    const dir = tmp();
    fs.writeFileSync(path.join(dir, 'daemon.json'), JSON.stringify({ hosts: ['tcp://0.0.0.0:2375'] }));
    expect(() => engine(dir).daemonArgs()).toThrow(/does not include unix:/);
  });

  it('is stopped when nothing serves the socket and no pid file points at a live berthd', async () => {
    const dir = tmp();
    const e = engine(dir);
    fs.writeFileSync(path.join(dir, 'berthd.pid'), `${process.pid}\n`);
    // Our own pid is alive but is not berthd: not mistaken for it.
    expect(e.livePid()).toBeUndefined();
    expect(await e.probe()).toBe('stopped');
    await e.stop();
    expect(e.state()).toBe('stopped');
    e.dispose();
  });

  it('reports berthd exiting while starting, with its log', async () => {
    const dir = tmp();
    const script = path.join(dir, 'fake-berthd.js');
    fs.writeFileSync(script, 'console.error("berthd needs to run as root"); process.exit(1);');
    const e = engine(dir, { daemonScript: script, startTimeoutMs: 5000 });
    await expect(e.start()).rejects.toThrow(/exited with code 1 while starting: .*needs to run as root/);
    expect(e.state()).toBe('error');
    expect((await e.readLogs(5)).text).toContain('needs to run as root');
    e.dispose();
  });
});

describe('engine config', () => {
  it('edits mirrors and insecure registries and keeps every other key', async () => {
    const dir = tmp();
    const file = path.join(dir, 'etc', 'daemon.json');
    expect(readEngineConfig(file)).toEqual({ registryMirrors: [], insecureRegistries: [] });
    fs.mkdirSync(path.dirname(file));
    fs.writeFileSync(file, JSON.stringify({ 'log-level': 'debug', 'registry-mirrors': ['https://old'] }));
    await writeEngineConfig(file, { registryMirrors: ['https://m.example'], insecureRegistries: ['10.0.0.0/8'] });
    expect(JSON.parse(fs.readFileSync(file, 'utf8'))).toEqual({ 'log-level': 'debug', 'registry-mirrors': ['https://m.example'], 'insecure-registries': ['10.0.0.0/8'] });
    await writeEngineConfig(file, { registryMirrors: [], insecureRegistries: [] });
    expect(JSON.parse(fs.readFileSync(file, 'utf8'))).toEqual({ 'log-level': 'debug' });
  });

  it('refuses to rewrite a file it cannot parse', async () => {
    const dir = tmp();
    const file = path.join(dir, 'daemon.json');
    fs.writeFileSync(file, '{ "log-level": ');
    await expect(writeEngineConfig(file, { registryMirrors: [], insecureRegistries: [] })).rejects.toThrow(/cannot parse .*fix or remove/);
    expect(fs.readFileSync(file, 'utf8')).toBe('{ "log-level": ');
  });
});

describe('tailFile', () => {
  it('returns the last lines of a large file', async () => {
    const dir = tmp();
    const file = path.join(dir, 'log');
    fs.writeFileSync(file, Array.from({ length: 50_000 }, (_, i) => `line ${i}`).join('\n') + '\n');
    expect(await tailFile(file, 3)).toBe('line 49997\nline 49998\nline 49999\n');
    fs.writeFileSync(file, 'one\ntwo');
    expect(await tailFile(file, 5)).toBe('one\ntwo\n');
  });
});
