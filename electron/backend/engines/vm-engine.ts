/**
 * Berth's engine in its Linux VM (the default on macOS and Windows, offered beside native berthd on
 * Linux): berthd in the guest, reached through the host socket the VM's host agent serves.
 * Start/stop/restart/reset go to the VM controller (vm/host/controller.ts), the one owner of the VM's
 * processes and files; the boot's progress (QEMU, kernel, engine), the accelerator, the resources
 * the VM runs with and the settings waiting for a restart show in the engine's info.
 */
import type Docker from 'dockerode';
import type { EngineInfo, EngineKind, EngineLogSource, VmEngineDetails } from '../../contract/models.js';
import type { VmController, HostStatus } from '../../../vm/host/controller.js';
import type { VmStatus } from '../../../vm/host/machine.js';
import { dockerHostOf } from '../../../vm/host/paths.js';
import { BaseEngine } from './engine.js';
import { BackendError } from '../errors.js';

/** What the engine needs of the controller (a fake in the unit tests). */
export type VmControl = Pick<VmController, 'paths' | 'status' | 'start' | 'stop' | 'reset' | 'consoleLog' | 'engineLog' | 'desiredResources'>;

/** Settings that apply at the VM's next start, as the Settings page names them. */
const RESTART_LABELS: Record<string, string> = { cpus: 'CPUs', memoryMiB: 'memory', diskGiB: 'disk size', arch: 'architecture', sharedFolders: 'shared folders', fileSharing: 'file sharing' };

/** Which settings differ between what the VM runs with and what its next start would use. */
export function pendingRestart(running: Record<string, unknown>, desired: Record<string, unknown>): string[] {
  const keys = new Set([...Object.keys(running), ...Object.keys(desired)].filter((k) => k in RESTART_LABELS));
  const out: string[] = [];
  for (const k of Object.keys(RESTART_LABELS)) {
    if (!keys.has(k)) continue;
    if (JSON.stringify(running[k] ?? null) !== JSON.stringify(desired[k] ?? null)) out.push(RESTART_LABELS[k]!);
  }
  return out;
}

export class VmEngine extends BaseEngine {
  readonly id = 'berth-vm';
  readonly name = 'Berth (VM)';
  readonly kind: EngineKind = 'vm';
  readonly source: EngineInfo['source'] = 'berth';
  readonly host: string;
  readonly controllable = true;
  readonly configFile = undefined;
  private busy: Promise<unknown> = Promise.resolve();
  private details: VmEngineDetails = {};
  /** What the running VM was started with (from the host agent's status). */
  private runningResources: HostStatus['resources'] | undefined;

  constructor(readonly vm: VmControl) {
    super();
    this.host = dockerHostOf(vm.paths);
  }

  protected dockerOptions(): Docker.DockerOptions {
    return { socketPath: this.vm.paths.dockerSocket };
  }

  protected override unreachableState() {
    return 'stopped' as const;
  }

  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.busy.then(fn, fn);
    this.busy = run.catch(() => undefined);
    return run;
  }

  private show(s: VmStatus | HostStatus): void {
    if (s.accelerator) {
      this.details.accelerator = s.accelerator;
      if (s.accelerator === 'tcg') this.details.acceleratorNote = s.acceleratorNotes?.length ? `software emulation (${s.acceleratorNotes.join('; ')})` : 'software emulation';
      else delete this.details.acceleratorNote;
    }
    if ('resources' in s && s.resources) this.runningResources = s.resources;
    if ('fileSharing' in s && s.fileSharing) this.details.fileSharingNote = s.fileSharing.why;
    else if (s.state === 'running') delete this.details.fileSharingNote;
    if (s.timings?.totalMs) this.details.bootSeconds = Math.round(s.timings.totalMs / 100) / 10;
    if (s.state === 'error' && s.consoleTail) this.details.consoleTail = s.consoleTail;
    else if (s.state !== 'error') delete this.details.consoleTail;
    if (s.state !== 'running') this.runningResources = undefined;
    this.refreshPending();
    const detail = this.details.accelerator ? `${this.details.accelerator}${this.details.accelerator === 'tcg' ? ' (software emulation)' : ''}` : undefined;
    if (s.state === 'starting' || s.state === 'stopping') this.setState(s.state, undefined, { step: s.step ?? s.state, ...(detail ? { detail } : {}) });
    else if (s.state === 'running') this.setState('running');
    else if (s.state === 'error') this.setState('error', s.error);
    else this.setState('stopped');
  }

  /** Recomputes which changed settings wait for a restart; true when that changed. */
  private refreshPending(): boolean {
    const before = JSON.stringify(this.details.restartRequired ?? []);
    let pending: string[] = [];
    if (this.runningResources) {
      try {
        pending = pendingRestart(this.runningResources as unknown as Record<string, unknown>, this.vm.desiredResources() as unknown as Record<string, unknown>);
      } catch {
        // Settings the VM would refuse: the Settings page shows why; nothing to restart into.
      }
    }
    if (pending.length) this.details.restartRequired = pending;
    else delete this.details.restartRequired;
    return JSON.stringify(pending) !== before;
  }

  /** The settings changed: resources apply at the next start, so say whether a restart is needed. */
  settingsChanged(): void {
    if (this.refreshPending()) this.events.emit('change');
  }

  override info(): EngineInfo {
    const i = super.info();
    const d: VmEngineDetails = { ...this.details };
    if (this.runningResources) d.resources = { ...this.runningResources };
    return Object.keys(d).length ? { ...i, vm: d } : i;
  }

  private async doStart(): Promise<void> {
    const s = await this.vm.status();
    if (s?.state === 'running') return this.show(s);
    delete this.details.consoleTail;
    this.setState('starting', undefined, { step: 'Starting QEMU' });
    try {
      this.show(await this.vm.start((p) => this.show(p)));
    } catch (err) {
      const e = err as Error & { consoleTail?: string };
      if (e.consoleTail) this.details.consoleTail = e.consoleTail;
      this.runningResources = undefined;
      this.setState('error', e.message);
      this.events.emit('change');
      throw new BackendError(e.consoleTail ? `${e.message}\n${e.consoleTail}` : e.message, 500);
    }
  }

  private async doStop(step = 'Shutting down the VM'): Promise<void> {
    this.setState('stopping', undefined, { step });
    try {
      await this.vm.stop();
      this.runningResources = undefined;
      this.refreshPending();
      this.setState('stopped');
    } catch (err) {
      this.setState('error', (err as Error).message);
      throw new BackendError((err as Error).message, 500);
    }
  }

  start(): Promise<void> {
    return this.exclusive(() => this.doStart());
  }

  stop(): Promise<void> {
    return this.exclusive(() => this.doStop());
  }

  override restart(): Promise<void> {
    return this.exclusive(async () => {
      await this.doStop();
      await this.doStart();
    });
  }

  /**
   * Deletes every image, container and volume: the controller stops the VM and removes its data
   * disk and state; a VM that was running is started again on a blank disk.
   */
  override resetData(): Promise<void> {
    return this.exclusive(async () => {
      const wasRunning = (await this.vm.status().catch(() => undefined))?.state === 'running';
      this.setState('stopping', undefined, { step: 'Stopping the VM and deleting its data' });
      try {
        await this.vm.reset();
      } catch (err) {
        this.setState('error', (err as Error).message);
        throw new BackendError(`resetting the VM failed: ${(err as Error).message}`, 500);
      }
      this.details = {};
      this.runningResources = undefined;
      this.setState('stopped');
      if (wasRunning) await this.doStart();
    });
  }

  override async probe() {
    if (this.currentState === 'starting' || this.currentState === 'stopping') return this.currentState;
    let s: HostStatus | undefined;
    try {
      s = await this.vm.status();
    } catch (err) {
      this.setState('error', (err as Error).message);
      return this.currentState;
    }
    if (!s) {
      this.runningResources = undefined;
      this.refreshPending();
      this.setState('stopped');
    } else if (s.state === 'running') {
      this.show(s);
      await super.probe();
    } else this.show(s);
    return this.currentState;
  }

  override async readLogs(tail: number, source: EngineLogSource = 'engine'): Promise<{ text: string; file?: string }> {
    if (source === 'console') return { text: this.vm.consoleLog(tail), file: this.vm.paths.consoleLog };
    let running = false;
    try {
      running = (await this.vm.status())?.state === 'running';
    } catch {
      running = false;
    }
    if (!running) return { text: `berthd runs inside the Berth VM, which is not running: its log is read from the VM while it runs. The VM's console log shows the last boot (${this.vm.paths.consoleLog}).` };
    try {
      return { text: await this.vm.engineLog(tail) };
    } catch (err) {
      return { text: `berthd's log could not be read from the VM: ${(err as Error).message}` };
    }
  }
}
