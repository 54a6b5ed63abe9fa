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
});
