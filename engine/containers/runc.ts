/**
 * The OCI runtime (runc), driven through its CLI with a state root of our
 * own so other runc users on the host are never touched.
 */
import { run } from '../system/command.js';
import { ConflictError, SystemError } from '../errdefs.js';

export interface RuncState {
  id: string;
  pid: number;
  status: 'creating' | 'created' | 'running' | 'paused' | 'stopped';
  bundle: string;
}

export class Runc {
  constructor(
    public binary: string,
    readonly root: string,
    private readonly extraArgs: readonly string[] = [],
  ) {}

  /** Global arguments every invocation needs (also handed to conmon). */
  globalArgs(): string[] {
    return ['--root', this.root, ...this.extraArgs];
  }

  private exec(args: string[]) {
    return run(this.binary, [...this.globalArgs(), ...args]);
  }

  async start(id: string): Promise<void> {
    await this.exec(['start', id]);
  }

  async kill(id: string, signal: string | number, all = false): Promise<void> {
    const args = ['kill'];
    if (all) args.push('--all');
    args.push(id, String(signal));
    try {
      await this.exec(args);
    } catch (err) {
      const msg = (err as Error).message;
      if (/container not running|process already finished|not exist/i.test(msg)) throw new ConflictError(`container ${id} is not running`);
      throw err;
    }
  }

  async delete(id: string, force = false): Promise<void> {
    try {
      await this.exec(force ? ['delete', '--force', id] : ['delete', id]);
    } catch (err) {
      // Already gone is what we wanted.
      if (/does not exist|not found/i.test((err as Error).message)) return;
      throw err;
    }
  }

  async pause(id: string): Promise<void> {
    await this.exec(['pause', id]);
  }

  async resume(id: string): Promise<void> {
    await this.exec(['resume', id]);
  }

  async state(id: string): Promise<RuncState | undefined> {
    try {
      const { stdout } = await this.exec(['state', id]);
      return JSON.parse(stdout) as RuncState;
    } catch {
      return undefined;
    }
  }

  /** Applies new resource limits to a running container. */
  async update(id: string, resources: object): Promise<void> {
    try {
      await run(this.binary, [...this.globalArgs(), 'update', '--resources', '-', id], { input: JSON.stringify(resources) });
    } catch (err) {
      throw new SystemError(`Cannot update container ${id}: ${(err as Error).message}`, { cause: err });
    }
  }

  /** Host PIDs of every process in the container. */
  async pids(id: string): Promise<number[]> {
    const { stdout } = await this.exec(['ps', '--format', 'json', id]);
    const pids = JSON.parse(stdout) as number[] | null;
    return pids ?? [];
  }
}
