import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Backend } from '../backend.js';
import { BaseEngine } from '../engines/engine.js';
import { TrayStateSource } from './tray-state.js';
import { buildTrayMenu, type TrayItem } from './tray-menu.js';
import { runTrayAction, type TrayHost } from './tray-actions.js';

/** An engine Berth runs, recording what the tray asks of it. */
class FakeVmEngine extends BaseEngine {
  readonly id = 'berth-vm';
  readonly name = 'Berth (VM)';
  readonly kind = 'vm' as const;
  readonly source = 'berth' as const;
  readonly host = 'unix:///nonexistent/docker.sock';
  readonly controllable = true;
  readonly configFile = undefined;
  ops: string[] = [];
  fail: string | undefined;
  constructor() {
    super();
    this.currentState = 'running';
  }
  protected dockerOptions() {
    return { socketPath: '/nonexistent/docker.sock' };
  }
  async start() {
    this.ops.push('start');
    this.setState('running');
  }
  async stop() {
    this.ops.push('stop');
    if (this.fail) throw new Error(this.fail);
    this.setState('stopped');
  }
  override async probe() {
    return this.currentState;
  }
}

const homes: string[] = [];
afterEach(() => homes.splice(0).forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

function setup() {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-tray-'));
  homes.push(home);
  const engine = new FakeVmEngine();
  const backend = new Backend({ paths: { configDir: home, runDir: path.join(home, 'run'), logDir: path.join(home, 'logs') }, host: { capabilities: () => ({ desktop: true, pickFolder: false, startAtLogin: false, closeToTray: true, platform: 'linux' }) }, ownEngine: engine, discover: () => [] });
  const notes: string[] = [];
  const host: TrayHost = { showWindow: () => notes.push('window'), navigate: (p) => notes.push(`page ${p}`), openContainer: (id) => notes.push(`container ${id}`), quit: () => notes.push('quit'), notify: (t, b) => notes.push(`${t}: ${b}`) };
  return { engine, backend, notes, host };
}

const find = (items: TrayItem[], id: string) => items.find((i): i is Extract<TrayItem, { type: 'item' }> => i.type === 'item' && i.id === id);

describe('tray actions', () => {
  it('the menu built from the backend\'s state stops the VM through its engine', async () => {
    const { engine, backend, notes, host } = setup();
    const source = new TrayStateSource(backend);
    const stop = find(buildTrayMenu(source.state()), 'engine-stop')!;
    expect(stop).toMatchObject({ label: 'Stop VM', enabled: true });
    await runTrayAction(backend, stop.action!, host);
    expect(engine.ops).toEqual(['stop']);
    expect(find(buildTrayMenu(source.state()), 'status')!.label).toBe('Berth (VM): stopped');
    expect(notes).toEqual([]);
    source.dispose();
    await backend.dispose();
  });

  it('a failed engine operation becomes a notification, not a rejection', async () => {
    const { engine, backend, notes, host } = setup();
    engine.fail = 'the VM\'s host agent did not answer /stop within 120 s';
    await runTrayAction(backend, { kind: 'engine', op: 'stop', engineId: 'berth-vm' }, host);
    expect(notes).toEqual(['Berth VM: the VM\'s host agent did not answer /stop within 120 s']);
    await backend.dispose();
  });

  it('window, pages, containers and quit go to the host', async () => {
    const { backend, notes, host } = setup();
    await runTrayAction(backend, { kind: 'open-dashboard' }, host);
    await runTrayAction(backend, { kind: 'open-page', page: 'troubleshoot' }, host);
    await runTrayAction(backend, { kind: 'open-container', containerId: 'abc' }, host);
    await runTrayAction(backend, { kind: 'quit' }, host);
    expect(notes).toEqual(['window', 'page troubleshoot', 'container abc', 'quit']);
    await backend.dispose();
  });
});
