/**
 * The plugin store against a real temporary data root: a plugin context (tar of config.json and
 * rootfs/) is stored, listed with Enabled false, found by name or ID prefix, refused when enabled,
 * removed; what a crash leaves half-written is dropped on load; bad contexts are clear errors.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import * as tar from 'tar-stream';
import { afterEach, describe, expect, it } from 'vitest';
import { EventBus } from '../events/bus.js';
import { PluginStore, pluginRef } from './store.js';

async function context(files: Record<string, string>, gzip = false): Promise<Buffer> {
  const pack = tar.pack();
  for (const [name, content] of Object.entries(files)) {
    if (name.endsWith('/')) pack.entry({ name, type: 'directory' });
    else pack.entry({ name }, content);
  }
  pack.finalize();
  const chunks: Buffer[] = [];
  for await (const c of pack) chunks.push(c as Buffer);
  const raw = Buffer.concat(chunks);
  return gzip ? zlib.gzipSync(raw) : raw;
}

const CONFIG = JSON.stringify({ description: 'Dummy', entrypoint: ['/dummy'], network: { type: 'host' }, interface: { types: ['docker.volumedriver/1.0'], socket: 'dummy.sock' }, env: [{ name: 'DEBUG', settable: ['value'], value: '0' }] });

const dirs: string[] = [];
function root(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-plugins-'));
  dirs.push(d);
  return path.join(d, 'plugins');
}
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

describe('plugin store', () => {
  it('names plugins as dockerd does', () => {
    expect(pluginRef('docker-sdk-py/dummy')).toBe('docker-sdk-py/dummy:latest');
    expect(pluginRef('localhost:5000/a/b:v1')).toBe('localhost:5000/a/b:v1');
    expect(() => pluginRef('Bad Name')).toThrow('invalid reference format');
    expect(() => pluginRef('a@sha256:' + '0'.repeat(64))).toThrow('canonical references are not permitted');
  });

  it('stores, lists, inspects, refuses to enable, removes; survives a reload', async () => {
    const dir = root();
    const events = new EventBus();
    const s = new PluginStore(dir, events, '28.5.0');
    await s.load();
    const p = await s.create('docker-sdk-py/dummy', await context({ 'config.json': CONFIG, 'rootfs/': '', 'rootfs/dummy/': '', 'rootfs/dummy/file.txt': 'hi' }));
    expect(p).toMatchObject({ Name: 'docker-sdk-py/dummy:latest', Enabled: false, PluginReference: 'docker-sdk-py/dummy:latest', Settings: { Env: ['DEBUG=0'], Args: [], Mounts: [], Devices: [] } });
    expect(p.Id).toMatch(/^[0-9a-f]{64}$/);
    expect(p.Config).toMatchObject({ Entrypoint: ['/dummy'], Description: 'Dummy', Interface: { Socket: 'dummy.sock', Types: ['docker.volumedriver/1.0'] }, Network: { Type: 'host' } });
    expect((p.Config.rootfs as { diff_ids: string[] }).diff_ids[0]).toMatch(/^sha256:[0-9a-f]{64}$/);
    await expect(s.create('docker-sdk-py/dummy:latest', await context({ 'config.json': CONFIG, 'rootfs/': '' }))).rejects.toThrow('plugin "docker-sdk-py/dummy:latest" already exists');
    expect(s.get('docker-sdk-py/dummy').Id).toBe(p.Id);
    expect(s.get(p.Id.slice(0, 12)).Id).toBe(p.Id);
    expect(() => s.get('nope')).toThrow('plugin "nope" not found');
    expect(s.list().map((x) => x.Name)).toEqual(['docker-sdk-py/dummy:latest']);
    expect(s.list({ enabled: true })).toEqual([]);
    expect(s.list({ capability: ['volumedriver'] })).toHaveLength(1);
    expect(s.list({ capability: ['networkdriver'] })).toHaveLength(0);
    expect(() => s.enable('docker-sdk-py/dummy')).toThrow('cannot be enabled: berthd has no plugin runtime');
    // The rootfs is kept, re-packed without its rootfs/ prefix.
    const stored = zlib.gunzipSync(fs.readFileSync(path.join(dir, p.Id, 'rootfs.tar.gz')));
    const names: string[] = [];
    for await (const e of (await import('node:stream')).Readable.from([stored]).pipe(tar.extract())) {
      names.push(e.header.name);
      e.resume();
    }
    expect(names).toEqual(['dummy', 'dummy/file.txt']);

    // A crash mid-create leaves a temporary directory: dropped, never listed.
    fs.mkdirSync(path.join(dir, '.tmp-abc'));
    const again = new PluginStore(dir, events, '28.5.0');
    await again.load();
    expect(again.list().map((x) => x.Id)).toEqual([p.Id]);
    expect(fs.existsSync(path.join(dir, '.tmp-abc'))).toBe(false);
    await again.remove('docker-sdk-py/dummy:latest');
    expect(again.list()).toEqual([]);
    expect(fs.readdirSync(dir)).toEqual([]);
    await expect(again.remove('docker-sdk-py/dummy')).rejects.toThrow('not found');
  });

  it('refuses contexts without config.json or rootfs, or with a bad config, and keeps nothing', async () => {
    const dir = root();
    const s = new PluginStore(dir, new EventBus(), '28.5.0');
    await s.load();
    await expect(s.create('a/b', await context({ 'config.json': CONFIG }))).rejects.toThrow('no rootfs found');
    await expect(s.create('a/b', await context({ 'rootfs/': '' }))).rejects.toThrow('config not found');
    await expect(s.create('a/b', await context({ 'config.json': '{nope', 'rootfs/': '' }, true))).rejects.toThrow('failed to parse config');
    await expect(s.create('a/b', Buffer.from('not a tar at all, not a tar at all'))).rejects.toThrow();
    expect(s.list()).toEqual([]);
    expect(fs.readdirSync(dir)).toEqual([]);
    // A gzipped context works too (docker-py's create_plugin(gzip=True)).
    expect((await s.create('a/b', await context({ 'config.json': CONFIG, 'rootfs/': '' }, true))).Name).toBe('a/b:latest');
  });
});
