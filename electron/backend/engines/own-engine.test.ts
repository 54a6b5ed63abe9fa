import { describe, expect, it } from 'vitest';
import { BerthdEngine } from './berthd-engine.js';
import { berthEngines, createOwnEngine, offeredEngines, ownEngineKind } from './own-engine.js';
import { VmEngine } from './vm-engine.js';

const paths = { configDir: '/tmp/berth-own-test', runDir: '/tmp/berth-own-test/run', logDir: '/tmp/berth-own-test/logs' };

describe('ownEngineKind', () => {
  it('is the VM on macOS and Windows whatever the settings say', () => {
    expect(ownEngineKind('darwin', { engine: 'native' }, {})).toBe('vm');
    expect(ownEngineKind('win32', undefined, { BERTH_OWN_ENGINE: 'native' })).toBe('vm');
  });

  it('is native berthd on Linux unless the settings or BERTH_OWN_ENGINE pick the VM', () => {
    expect(ownEngineKind('linux', undefined, {})).toBe('native');
    expect(ownEngineKind('linux', { engine: 'vm' }, {})).toBe('vm');
    expect(ownEngineKind('linux', { engine: 'vm' }, { BERTH_OWN_ENGINE: 'native' })).toBe('native');
    expect(ownEngineKind('linux', undefined, { BERTH_OWN_ENGINE: 'vm' })).toBe('vm');
  });

  it('is none where Berth has no engine', () => {
    expect(ownEngineKind('freebsd', { engine: 'vm' }, {})).toBeUndefined();
  });
});

describe('createOwnEngine', () => {
  it('builds the VM engine, its socket under Berth\'s run folder', () => {
    const e = createOwnEngine({ paths, platform: 'darwin', env: { BERTH_VM_STATE: '/tmp/berth-own-test/vm' } });
    expect(e).toBeInstanceOf(VmEngine);
    expect(e!.host).toBe('unix:///tmp/berth-own-test/run/vm-default/docker.sock');
  });

  it('builds a berthd of its own on Linux where BERTH_ENGINE_SOCKET says so (not the system service)', () => {
    const e = createOwnEngine({ paths, platform: 'linux', env: { BERTH_ENGINE_SOCKET: '/tmp/berth-own-test/berthd.sock' } });
    expect(e).toBeInstanceOf(BerthdEngine);
    expect(e!.host).toBe('unix:///tmp/berth-own-test/berthd.sock');
  });

  it('is undefined on other platforms', () => {
    expect(createOwnEngine({ paths, platform: 'freebsd', env: {} })).toBeUndefined();
  });
});

describe('offeredEngines', () => {
  it('offers the VM beside native berthd on Linux only', () => {
    const env = { BERTH_ENGINE_SOCKET: '/tmp/berth-own-test/berthd.sock', BERTH_VM_STATE: '/tmp/berth-own-test/vm' };
    const { own, offered } = berthEngines({ paths, platform: 'linux', env });
    expect(own).toBeInstanceOf(BerthdEngine);
    expect(offered).toHaveLength(1);
    expect(offered[0]).toBeInstanceOf(VmEngine);
    expect(offered[0]!.host).toBe('unix:///tmp/berth-own-test/run/vm-default/docker.sock');
    // Where the VM is Berth's own engine, nothing more is offered.
    expect(offeredEngines({ paths, platform: 'linux', vmSettings: () => ({ engine: 'vm' }), env })).toEqual([]);
    expect(offeredEngines({ paths, platform: 'darwin', env })).toEqual([]);
    expect(offeredEngines({ paths, platform: 'win32', env })).toEqual([]);
  });
});
