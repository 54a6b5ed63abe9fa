/**
 * The tray menu as a pure function of state: a status line, engine start /
 * stop / restart (the VM's, with its accelerator and the settings waiting for
 * a restart), Open Dashboard, the running containers with a quick stop, the
 * Berth VM when it is offered beside the active engine (Linux), other engines
 * to switch to, Settings and Quit. The Electron tray is a thin adapter over
 * this (electron/main/tray.ts) and runs the actions through tray-actions.ts,
 * so every case is unit-tested.
 */
import type { EngineInfo } from '../../contract/models.js';

export type TrayIconState = 'running' | 'stopped' | 'starting' | 'error';

export type TrayAction =
  | { kind: 'open-dashboard' }
  | { kind: 'open-page'; page: 'settings' | 'troubleshoot' | 'containers' }
  | { kind: 'engine'; op: 'start' | 'stop' | 'restart'; engineId: string }
  | { kind: 'use-engine'; engineId: string }
  | { kind: 'stop-container'; engineId: string; containerId: string }
  | { kind: 'open-container'; containerId: string }
  | { kind: 'quit' };

export type TrayItem =
  | { type: 'separator' }
  | { type: 'item'; id: string; label: string; enabled: boolean; action?: TrayAction; checked?: boolean; submenu?: TrayItem[] };

export interface TrayState {
  engines: EngineInfo[];
  activeId: string | null;
  /** The active engine's model: connected, or why not. */
  modelStatus: 'idle' | 'connecting' | 'connected' | 'unreachable';
  running: Array<{ id: string; name: string }>;
}

/** Containers listed directly; more go into a "N more" submenu so the menu stays usable. */
export const MAX_LISTED = 10;

export function activeOf(s: TrayState): EngineInfo | undefined {
  return s.engines.find((e) => e.id === s.activeId);
}

export function trayIconState(s: TrayState): TrayIconState {
  const e = activeOf(s);
  if (!e) return 'stopped';
  if (e.state === 'starting' || e.state === 'stopping') return 'starting';
  if (e.state === 'error') return 'error';
  if (e.state === 'running') return s.modelStatus === 'unreachable' ? 'error' : 'running';
  if (e.state === 'unreachable') return 'error';
  return 'stopped';
}

export function statusLine(s: TrayState): string {
  const e = activeOf(s);
  if (!e) return 'No engine configured';
  switch (trayIconState(s)) {
    case 'running':
      return `${e.name}: running${s.running.length ? ` · ${s.running.length} container${s.running.length === 1 ? '' : 's'}` : ''}`;
    case 'starting':
      return `${e.name}: ${e.state === 'stopping' ? 'stopping' : 'starting'}${e.progress ? ` (${e.progress.step})` : ''}…`;
    case 'error':
      return `${e.name}: ${e.state === 'running' || e.state === 'unreachable' ? 'unreachable' : 'error'}`;
    case 'stopped':
      return `${e.name}: stopped`;
  }
}

export function trayTooltip(s: TrayState): string {
  const e = activeOf(s);
  return e?.error ? `Berth — ${statusLine(s)}\n${e.error}` : `Berth — ${statusLine(s)}`;
}

const sep: TrayItem = { type: 'separator' };

export function buildTrayMenu(s: TrayState): TrayItem[] {
  const e = activeOf(s);
  const icon = trayIconState(s);
  const items: TrayItem[] = [{ type: 'item', id: 'status', label: statusLine(s), enabled: false }];
  if (e?.error && icon === 'error') items.push({ type: 'item', id: 'status-error', label: truncate(e.error, 80), enabled: false });
  items.push(sep, { type: 'item', id: 'open-dashboard', label: 'Open Dashboard', enabled: true, action: { kind: 'open-dashboard' } });

  if (e?.kind === 'vm') items.splice(1, 0, ...vmDetails(e, 'vm'));
  if (e?.controllable) items.push(sep, ...engineControls(e, 'engine'));

  if (e && icon === 'running') {
    items.push(sep);
    if (s.running.length === 0) items.push({ type: 'item', id: 'containers-none', label: 'No running containers', enabled: false });
    else {
      items.push({ type: 'item', id: 'containers-title', label: 'Running containers', enabled: false });
      const sorted = [...s.running].sort((a, b) => a.name.localeCompare(b.name));
      const entry = (c: { id: string; name: string }): TrayItem => ({
        type: 'item',
        id: `container-${c.id}`,
        label: c.name,
        enabled: true,
        submenu: [
          { type: 'item', id: `container-open-${c.id}`, label: 'Open', enabled: true, action: { kind: 'open-container', containerId: c.id } },
          { type: 'item', id: `container-stop-${c.id}`, label: 'Stop', enabled: true, action: { kind: 'stop-container', engineId: e.id, containerId: c.id } },
        ],
      });
      for (const c of sorted.slice(0, MAX_LISTED)) items.push(entry(c));
      if (sorted.length > MAX_LISTED) {
        items.push({ type: 'item', id: 'containers-more', label: `${sorted.length - MAX_LISTED} more`, enabled: true, submenu: sorted.slice(MAX_LISTED).map(entry) });
      }
    }
  }

  // The Berth VM offered beside the active engine (Linux, where native berthd is the default).
  for (const vm of s.engines.filter((x) => x.kind === 'vm' && x.id !== s.activeId)) {
    items.push(sep, { type: 'item', id: `vm-status-${vm.id}`, label: engineLine(vm), enabled: false }, ...vmDetails(vm, `vm-${vm.id}`), ...engineControls(vm, `vm-${vm.id}`));
  }

  if (s.engines.length > 1) {
    items.push(sep, {
      type: 'item',
      id: 'engines',
      label: 'Engine',
      enabled: true,
      submenu: s.engines.map((x) => ({ type: 'item', id: `use-${x.id}`, label: `${x.name} (${x.state})`, enabled: true, checked: x.id === s.activeId, action: { kind: 'use-engine', engineId: x.id } })),
    });
  }

  items.push(
    sep,
    { type: 'item', id: 'settings', label: 'Settings…', enabled: true, action: { kind: 'open-page', page: 'settings' } },
    { type: 'item', id: 'troubleshoot', label: 'Troubleshoot…', enabled: true, action: { kind: 'open-page', page: 'troubleshoot' } },
    sep,
    { type: 'item', id: 'quit', label: 'Quit Berth', enabled: true, action: { kind: 'quit' } },
  );
  return items;
}

/** Start / stop / restart of an engine Berth runs ("… VM" for the VM). */
function engineControls(e: EngineInfo, prefix: string): TrayItem[] {
  const busy = e.state === 'starting' || e.state === 'stopping';
  const what = e.kind === 'vm' ? 'VM' : 'engine';
  return [
    { type: 'item', id: `${prefix}-start`, label: `Start ${what}`, enabled: !busy && e.state !== 'running', action: { kind: 'engine', op: 'start', engineId: e.id } },
    { type: 'item', id: `${prefix}-stop`, label: `Stop ${what}`, enabled: !busy && e.state === 'running', action: { kind: 'engine', op: 'stop', engineId: e.id } },
    { type: 'item', id: `${prefix}-restart`, label: `Restart ${what}`, enabled: !busy && e.state === 'running', action: { kind: 'engine', op: 'restart', engineId: e.id } },
  ];
}

/** The VM's accelerator and the settings waiting for its restart (with the restart as the action). */
function vmDetails(e: EngineInfo, prefix: string): TrayItem[] {
  const out: TrayItem[] = [];
  if (e.vm?.accelerator && e.state !== 'stopped') out.push({ type: 'item', id: `${prefix}-accelerator`, label: `Accelerator: ${e.vm.accelerator}${e.vm.accelerator === 'tcg' ? ' (software emulation)' : ''}`, enabled: false });
  if (e.vm?.restartRequired?.length && e.state === 'running')
    out.push({ type: 'item', id: `${prefix}-apply`, label: `Restart VM to apply ${e.vm.restartRequired.join(', ')}`, enabled: true, action: { kind: 'engine', op: 'restart', engineId: e.id } });
  return out;
}

/** One engine's state for a menu line, whether or not it is the active one. */
function engineLine(e: EngineInfo): string {
  if (e.state === 'starting' || e.state === 'stopping') return `${e.name}: ${e.state}${e.progress ? ` (${e.progress.step})` : ''}…`;
  return `${e.name}: ${e.state}`;
}

function truncate(s: string, n: number): string {
  return s.length > n ? `${s.slice(0, n - 1)}…` : s;
}
