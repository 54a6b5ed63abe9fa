import { describe, expect, it } from 'vitest';
import { buildTrayMenu, MAX_LISTED, statusLine, trayIconState, trayTooltip, type TrayItem, type TrayState } from './tray-menu.js';
import type { EngineInfo } from '../../contract/models.js';

const berth = (state: EngineInfo['state'], extra: Partial<EngineInfo> = {}): EngineInfo => ({ id: 'berth', name: 'Berth (local)', kind: 'berth', host: 'unix:///var/run/berth/docker.sock', source: 'berth', state, controllable: true, configurable: true, ...extra });
const remote: EngineInfo = { id: 'ctx', name: 'context prod', kind: 'endpoint', host: 'ssh://prod', source: 'context', state: 'running', controllable: false, configurable: false };
const state = (s: Partial<TrayState>): TrayState => ({ engines: [berth('running')], activeId: 'berth', modelStatus: 'connected', running: [], ...s });
const item = (items: TrayItem[], id: string) => items.find((i): i is Extract<TrayItem, { type: 'item' }> => i.type === 'item' && i.id === id);

describe('tray menu', () => {
  it('running engine: status line with the count, stop and restart enabled, start disabled, containers with quick stop', () => {
    const m = buildTrayMenu(state({ running: [{ id: 'b', name: 'web' }, { id: 'a', name: 'api' }] }));
    expect(item(m, 'status')).toMatchObject({ label: 'Berth (local): running · 2 containers', enabled: false });
    expect(item(m, 'engine-start')!.enabled).toBe(false);
    expect(item(m, 'engine-stop')).toMatchObject({ enabled: true, action: { kind: 'engine', op: 'stop', engineId: 'berth' } });
    expect(item(m, 'engine-restart')!.enabled).toBe(true);
    const containers = m.filter((i) => i.type === 'item' && i.id.startsWith('container-') && !i.id.includes('title'));
    expect(containers.map((c) => (c as { label: string }).label)).toEqual(['api', 'web']);
    expect(item(m, 'container-a')!.submenu).toContainEqual(expect.objectContaining({ label: 'Stop', action: { kind: 'stop-container', engineId: 'berth', containerId: 'a' } }));
    expect(item(m, 'open-dashboard')!.action).toEqual({ kind: 'open-dashboard' });
    expect(m.at(-1)).toMatchObject({ id: 'quit', action: { kind: 'quit' } });
    expect(trayIconState(state({}))).toBe('running');
  });

  it('stopped engine: start enabled, no containers section', () => {
    const s = state({ engines: [berth('stopped')], modelStatus: 'unreachable' });
    const m = buildTrayMenu(s);
    expect(statusLine(s)).toBe('Berth (local): stopped');
    expect(item(m, 'engine-start')!.enabled).toBe(true);
    expect(item(m, 'engine-stop')!.enabled).toBe(false);
    expect(item(m, 'containers-none')).toBeUndefined();
    expect(trayIconState(s)).toBe('stopped');
  });

  it('starting: every engine control disabled, progress in the status line', () => {
    const s = state({ engines: [berth('starting', { progress: { step: 'Waiting for the engine API' } })], modelStatus: 'connecting' });
    const m = buildTrayMenu(s);
    expect(trayIconState(s)).toBe('starting');
    expect(item(m, 'status')!.label).toBe('Berth (local): starting (Waiting for the engine API)…');
    for (const id of ['engine-start', 'engine-stop', 'engine-restart']) expect(item(m, id)!.enabled).toBe(false);
  });

  it('error: error icon and the reason in the menu and tooltip', () => {
    const s = state({ engines: [berth('error', { error: 'berthd exited with code 1: address in use' })], modelStatus: 'unreachable' });
    expect(trayIconState(s)).toBe('error');
    expect(item(buildTrayMenu(s), 'status-error')!.label).toContain('address in use');
    expect(trayTooltip(s)).toContain('address in use');
    // Running but its events stream is broken counts as an error too.
    expect(trayIconState(state({ modelStatus: 'unreachable' }))).toBe('error');
  });

  it('endpoints Berth does not run have no engine controls; several engines give a switcher', () => {
    const s = state({ engines: [berth('stopped'), remote], activeId: 'ctx' });
    const m = buildTrayMenu(s);
    expect(item(m, 'engine-start')).toBeUndefined();
    const sw = item(m, 'engines')!.submenu!;
    expect(sw).toEqual([
      expect.objectContaining({ label: 'Berth (local) (stopped)', checked: false, action: { kind: 'use-engine', engineId: 'berth' } }),
      expect.objectContaining({ label: 'context prod (running)', checked: true }),
    ]);
  });

  it('many running containers: the first ones listed, the rest in a submenu', () => {
    const running = Array.from({ length: MAX_LISTED + 5 }, (_, i) => ({ id: `c${i}`, name: `svc-${String(i).padStart(2, '0')}` }));
    const m = buildTrayMenu(state({ running }));
    expect(m.filter((i) => i.type === 'item' && /^container-c\d+$/.test(i.id))).toHaveLength(MAX_LISTED);
    expect(item(m, 'containers-more')).toMatchObject({ label: '5 more' });
    expect(item(m, 'containers-more')!.submenu).toHaveLength(5);
  });

  it('no engine at all', () => {
    const s: TrayState = { engines: [], activeId: null, modelStatus: 'idle', running: [] };
    expect(statusLine(s)).toBe('No engine configured');
    expect(trayIconState(s)).toBe('stopped');
    expect(item(buildTrayMenu(s), 'open-dashboard')).toBeDefined();
  });

  describe('the Berth VM', () => {
    const vm = (st: EngineInfo['state'], extra: Partial<EngineInfo> = {}): EngineInfo => ({ id: 'berth-vm', name: 'Berth (VM)', kind: 'vm', host: 'unix:///run/vm-default/docker.sock', source: 'berth', state: st, controllable: true, configurable: false, ...extra });

    it('as the active engine: its state, the accelerator, VM start/stop/restart and its running containers', () => {
      const s = state({ engines: [vm('running', { vm: { accelerator: 'tcg' } })], activeId: 'berth-vm', running: [{ id: 'a', name: 'web' }] });
      const m = buildTrayMenu(s);
      expect(item(m, 'status')!.label).toBe('Berth (VM): running · 1 container');
      expect(item(m, 'vm-accelerator')).toMatchObject({ label: 'Accelerator: tcg (software emulation)', enabled: false });
      expect(item(m, 'engine-start')).toMatchObject({ label: 'Start VM', enabled: false });
      expect(item(m, 'engine-stop')).toMatchObject({ label: 'Stop VM', enabled: true, action: { kind: 'engine', op: 'stop', engineId: 'berth-vm' } });
      expect(item(m, 'engine-restart')).toMatchObject({ label: 'Restart VM', enabled: true });
      expect(item(m, 'container-a')).toBeDefined();
      expect(item(m, 'open-dashboard')).toBeDefined();
    });

    it('booting: the step in the status line, every control disabled', () => {
      const s = state({ engines: [vm('starting', { progress: { step: 'Booting the kernel', detail: 'tcg (software emulation)' }, vm: { accelerator: 'tcg' } })], activeId: 'berth-vm', modelStatus: 'connecting' });
      const m = buildTrayMenu(s);
      expect(item(m, 'status')!.label).toBe('Berth (VM): starting (Booting the kernel)…');
      for (const id of ['engine-start', 'engine-stop', 'engine-restart']) expect(item(m, id)!.enabled).toBe(false);
    });

    it('a failed boot shows the reason', () => {
      const s = state({ engines: [vm('error', { error: 'the guest did not start the engine within 300 s' })], activeId: 'berth-vm', modelStatus: 'unreachable' });
      const m = buildTrayMenu(s);
      expect(item(m, 'status')!.label).toBe('Berth (VM): error');
      expect(item(m, 'status-error')!.label).toContain('did not start the engine');
      expect(item(m, 'engine-start')!.enabled).toBe(true);
    });

    it('settings waiting for a restart: an item that restarts it to apply them', () => {
      const s = state({ engines: [vm('running', { vm: { accelerator: 'kvm', restartRequired: ['CPUs', 'memory'] } })], activeId: 'berth-vm' });
      expect(item(buildTrayMenu(s), 'vm-apply')).toMatchObject({ label: 'Restart VM to apply CPUs, memory', action: { kind: 'engine', op: 'restart', engineId: 'berth-vm' } });
      expect(item(buildTrayMenu(s), 'vm-accelerator')!.label).toBe('Accelerator: kvm');
    });

    it('offered beside native berthd (Linux): its own state line and controls, the active engine\'s stay', () => {
      const s = state({ engines: [berth('running'), vm('stopped')], activeId: 'berth' });
      const m = buildTrayMenu(s);
      expect(item(m, 'engine-stop')).toMatchObject({ label: 'Stop engine', action: { kind: 'engine', op: 'stop', engineId: 'berth' } });
      expect(item(m, 'vm-status-berth-vm')!.label).toBe('Berth (VM): stopped');
      expect(item(m, 'vm-berth-vm-start')).toMatchObject({ label: 'Start VM', enabled: true, action: { kind: 'engine', op: 'start', engineId: 'berth-vm' } });
      expect(item(m, 'vm-berth-vm-stop')!.enabled).toBe(false);
      const booting = buildTrayMenu(state({ engines: [berth('running'), vm('starting', { progress: { step: 'Starting the engine' } })], activeId: 'berth' }));
      expect(item(booting, 'vm-status-berth-vm')!.label).toBe('Berth (VM): starting (Starting the engine)…');
    });
  });
});
