/**
 * The container lifecycle's facade: looks containers up by ID, name or prefix and hands them
 * to one verb per module (create.ts, start.ts, stop.ts, restart.ts, pause.ts, remove.ts,
 * rename.ts, update.ts, wait.ts, exit.ts, reconcile.ts, output.ts). Status changes happen in
 * the state machine (state.ts), restart timing in restart-policy.ts, processes through the
 * ContainerRuntime port (runtime.ts).
 */
import { InvalidParameterError, messageOf } from '../errdefs.js';
import type { WaitResponse } from '../api/types.js';
import type { Container, WaitCondition } from './container.js';
import type { ContainerStore } from './store.js';
import type { ContainerLifecycleBackend } from './backend.js';
import type { CreateBody } from './create-request.js';
import { Lifecycle, type LifecycleDeps, type RemoveOptions } from './lifecycle.js';
import type { ContainerStateMachine } from './state.js';
import { createContainer, type CreateResult } from './create.js';
import { startContainer } from './start.js';
import { killContainer, stopContainer, type StopOptions } from './stop.js';
import { restartContainer } from './restart.js';
import { pauseContainer, unpauseContainer } from './pause.js';
import { removeContainer } from './remove.js';
import { renameContainer } from './rename.js';
import { updateContainer, type UpdateConfig } from './update.js';
import { waitContainer } from './wait.js';
import { handleExit } from './exit.js';
import { loadAndReconcile, startPolicyContainers } from './reconcile.js';
import { attachContainer, containerLogs, type AttachRequest, type AttachSession, type LogsOptions, type LogsStream } from './output.js';
import { ConflictError } from '../errdefs.js';
import { parseSignal } from '../system/signals.js';

export type { StopOptions } from './stop.js';
export type { UpdateConfig } from './update.js';

export class ContainerService implements ContainerLifecycleBackend {
  readonly lc: Lifecycle;

  constructor(deps: LifecycleDeps) {
    this.lc = new Lifecycle(deps);
    this.lc.remove = (c, opts) => removeContainer(this.lc, c, c.id, opts);
  }

  get store(): ContainerStore {
    return this.lc.d.store;
  }

  /** Every status change, for listeners such as health checks. */
  get states(): ContainerStateMachine {
    return this.lc.state;
  }

  // ---- daemon start and stop ---------------------------------------------

  /** Loads containers and reconciles each with what exists (live restore). */
  async init(): Promise<void> {
    const report = await loadAndReconcile(this.lc);
    if (report.orphansCleaned + report.unmounted + report.lost > 0) this.lc.d.log.info('reconciled containers', { ...report });
    this.lc.logKeeper.start();
  }

  /**
   * Starts delivering exits, including those that happened while berthd was down. Called once
   * networking and volumes took back what running containers hold, so an exit releases it all.
   */
  watchExits(): void {
    this.lc.d.runtime.watchExits((id, code, at) => void handleExit(this.lc, id, code, false, at).catch((err) => this.lc.d.log.warn('exit handling failed', { container: id, err: messageOf(err) })));
  }

  startPolicyContainers(): void {
    startPolicyContainers(this.lc);
  }

  async shutdown(): Promise<void> {
    this.lc.shuttingDown = true;
    this.lc.d.runtime.shutdown();
    this.lc.logKeeper.stop();
    this.lc.restarts.shutdown();
  }

  // ---- verbs ----------------------------------------------------------------

  create(body: CreateBody, name: string | null): Promise<CreateResult> {
    return createContainer(this.lc, body, name);
  }

  start(ref: string): Promise<void> {
    return startContainer(this.lc, this.store.get(ref));
  }

  stop(ref: string, opts: StopOptions = {}): Promise<void> {
    return stopContainer(this.lc, this.store.get(ref), opts);
  }

  kill(ref: string, signal: string | undefined): Promise<void> {
    // A bad signal is a 400 even for a container that does not exist.
    const sig = signal ? parseSignal(signal) : 9;
    return killContainer(this.lc, this.store.get(ref), ref, sig);
  }

  restart(ref: string, opts: StopOptions = {}): Promise<void> {
    return restartContainer(this.lc, this.store.get(ref), opts);
  }

  pause(ref: string): Promise<void> {
    return pauseContainer(this.lc, this.store.get(ref));
  }

  unpause(ref: string): Promise<void> {
    return unpauseContainer(this.lc, this.store.get(ref));
  }

  remove(ref: string, opts: RemoveOptions): Promise<void> {
    return removeContainer(this.lc, this.store.get(ref), ref, opts);
  }

  async rename(ref: string, newName: string): Promise<void> {
    if (!ref || !newName) throw new InvalidParameterError('Neither old nor new names may be empty');
    return renameContainer(this.lc, this.store.get(ref), newName);
  }

  update(ref: string, body: UpdateConfig): Promise<string[]> {
    return updateContainer(this.lc, this.store.get(ref), body);
  }

  /** Registers a waiter for a condition and returns its result (headers can be flushed as soon as this returns). */
  wait(ref: string, condition: WaitCondition): Promise<WaitResponse> {
    return waitContainer(this.store.get(ref), condition);
  }

  resize(ref: string, height: number, width: number): void {
    const c = this.store.get(ref);
    if (!c.isRunning()) throw new ConflictError(`Container ${c.id} is not running`);
    if (c.record.config.Tty && height > 0 && width > 0) this.lc.d.runtime.resizeTerminal(c, height, width);
  }

  logs(ref: string, opts: LogsOptions): LogsStream {
    return containerLogs(this.lc, this.store.get(ref), opts);
  }

  attach(ref: string, opts: AttachRequest): AttachSession {
    return attachContainer(this.lc, this.store.get(ref), opts);
  }

  event(c: Container, action: string, extra: Record<string, string> = {}): void {
    this.lc.event(c, action, extra);
  }
}
