/**
 * Berth's engine in its Linux VM (the default on macOS and Windows, an option on Linux): berthd in
 * the guest, reached through the host socket the VM's host agent serves. Start/stop/restart go to
 * the VM controller (vm/host/controller.ts); the boot's progress (QEMU, kernel, engine) and the
 * accelerator show as the engine's progress.
 */
import type Docker from 'dockerode';
import type { EngineInfo, EngineKind } from '../../contract/models.js';
import type { VmController, HostStatus } from '../../../vm/host/controller.js';
import type { VmStatus } from '../../../vm/host/machine.js';
import { dockerHostOf } from '../../../vm/host/paths.js';
import { BaseEngine } from './engine.js';
import { BackendError } from '../errors.js';

export class VmEngine extends BaseEngine {
  readonly id = 'berth-vm';
  readonly name = 'Berth (VM)';
  readonly kind: EngineKind = 'vm';
  readonly source: EngineInfo['source'] = 'berth';
  readonly host: string;
  readonly controllable = true;
  readonly configFile = undefined;
  private busy: Promise<unknown> = Promise.resolve();

  constructor(readonly vm: VmController) {
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

  private show(s: VmStatus): void {
    const detail = s.accelerator ? `${s.accelerator}${s.accelerator === 'tcg' ? ' (software emulation)' : ''}` : undefined;
    if (s.state === 'starting' || s.state === 'stopping') this.setState(s.state, undefined, { step: s.step ?? s.state, ...(detail ? { detail } : {}) });
    else if (s.state === 'running') this.setState('running');
    else if (s.state === 'error') this.setState('error', s.error);
    else this.setState('stopped');
  }

  start(): Promise<void> {
    return this.exclusive(async () => {
      const s = await this.vm.status();
      if (s?.state === 'running') return this.show(s);
      this.setState('starting', undefined, { step: 'Starting QEMU' });
      try {
        this.show(await this.vm.start((p) => this.show(p)));
      } catch (err) {
        const e = err as Error & { consoleTail?: string };
        this.setState('error', e.message);
        throw new BackendError(e.consoleTail ? `${e.message}\n${e.consoleTail}` : e.message, 500);
      }
    });
  }

  stop(): Promise<void> {
    return this.exclusive(async () => {
      this.setState('stopping', undefined, { step: 'Shutting down the VM' });
      try {
        await this.vm.stop();
        this.setState('stopped');
      } catch (err) {
        this.setState('error', (err as Error).message);
        throw new BackendError((err as Error).message, 500);
      }
    });
  }

  override restart(): Promise<void> {
    return this.stop().then(() => this.start());
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
    if (!s) this.setState('stopped');
    else if (s.state === 'running') await super.probe();
    else this.show(s);
    return this.currentState;
  }

  override async readLogs(tail: number): Promise<{ text: string; file?: string }> {
    let engine = '';
    try {
      if ((await this.vm.status())?.state === 'running') engine = await this.vm.engineLog(tail);
    } catch {
      // The console is still worth showing.
    }
    const console = this.vm.consoleLog(tail);
    return { text: `${engine ? `── berthd (in the VM) ──\n${engine}` : ''}── VM console ──\n${console}\n`, file: this.vm.paths.consoleLog };
  }
}
