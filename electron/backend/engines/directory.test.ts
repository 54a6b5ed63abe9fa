import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { EngineDirectory } from './directory.js';
import { EndpointEngine } from './endpoint-engine.js';
import { SettingsStore } from '../settings/settings-store.js';
import type { DiscoveredEndpoint } from './discovery.js';

const dirs: string[] = [];
afterEach(() => dirs.splice(0).forEach((d) => fs.rmSync(d, { recursive: true, force: true })));
const settings = () => {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-reg-'));
  dirs.push(d);
  return new SettingsStore(d);
};
const own = () => Object.assign(new EndpointEngine({ id: 'berth', name: 'Berth (local)', host: 'unix:///var/run/berth/docker.sock', source: 'berth' }), {});

describe('EngineDirectory', () => {
  it('lists Berth, DOCKER_HOST and contexts once per host; DOCKER_HOST is active until the user chooses', async () => {
    const found: DiscoveredEndpoint[] = [
      { id: 'env-docker-host', name: 'DOCKER_HOST', host: 'unix:///tmp/x.sock', source: 'env', current: true },
      { id: 'context-prod', name: 'context prod', host: 'ssh://prod', source: 'context', current: false },
      { id: 'context-berth', name: 'context berth', host: 'unix:///var/run/berth/docker.sock', source: 'context', current: false },
    ];
    const s = settings();
    const r = new EngineDirectory(s, { own: own(), discover: () => found });
    expect(r.list().map((e) => e.id)).toEqual(['berth', 'env-docker-host', 'context-prod']);
    expect(r.activeId()).toBe('env-docker-host');
    await r.setActive('context-prod');
    expect(r.activeId()).toBe('context-prod');
    expect(s.get().activeEngineId).toBe('context-prod');
    await expect(r.setActive('nope')).rejects.toThrow(/no engine/);
    r.dispose();
  });

  it('defaults to Berth when nothing else is current; added endpoints persist and can be removed, discovered ones cannot', async () => {
    const s = settings();
    const r = new EngineDirectory(s, { own: own(), discover: () => [] });
    expect(r.activeId()).toBe('berth');
    const added = await r.add({ name: 'build box', host: 'tcp://10.1.1.1:2375' });
    expect(added.source).toBe('settings');
    expect(s.get().endpoints).toEqual([{ id: added.id, name: 'build box', host: 'tcp://10.1.1.1:2375' }]);
    await expect(r.add({ name: 'again', host: 'tcp://10.1.1.1:2375' })).rejects.toThrow(/already listed/);
    await expect(r.remove('berth')).rejects.toThrow(/cannot be removed/);
    await r.setActive(added.id);
    await r.remove(added.id);
    expect(r.list().map((e) => e.id)).toEqual(['berth']);
    expect(r.activeId()).toBe('berth');
    r.dispose();
  });

  it('lists Berth\'s offered engines (the VM on Linux) beside its own, keeps its own the default, and the berth context is the VM', async () => {
    const vm = new EndpointEngine({ id: 'berth-vm', name: 'Berth (VM)', host: 'unix:///run/vm-default/docker.sock', source: 'berth' });
    let disposed = 0;
    vm.dispose = () => void disposed++;
    const found: DiscoveredEndpoint[] = [{ id: 'context-berth', name: 'context berth', host: 'unix:///run/vm-default/docker.sock', source: 'context', current: false }];
    const r = new EngineDirectory(settings(), { own: own(), offered: [vm], discover: () => found });
    expect(r.list().map((e) => e.id)).toEqual(['berth', 'berth-vm']);
    expect(r.activeId()).toBe('berth');
    // `docker context use berth` (the VM's context) makes the VM the preferred engine.
    found[0]!.current = true;
    r.reload();
    expect(r.activeId()).toBe('berth-vm');
    r.dispose();
    expect(disposed).toBe(0);
  });
});
