/**
 * Berth's own engine when it runs as the berth.service system unit (Linux
 * packages, `berth engine install`): started and stopped through systemd
 * (the polkit rule lets the berth group do that without a password; pkexec
 * asks otherwise), reached on its root:berth socket, its log in the journal.
 * What "cannot connect" means is spelled out: the service is stopped, or the
 * user is not (yet) in the berth group.
 */
import type Docker from 'dockerode';
import type { EngineInfo, EngineKind } from '../../contract/models.js';
import { BaseEngine, describeConnectError, versionLabel, withTimeout } from './engine.js';
import { BackendError } from '../errors.js';
import { SERVICE_GROUP, SERVICE_UNIT, inServiceGroup, runCommand, type CommandRunner } from './linux-service.js';

export interface SystemdEngineOptions {
  id?: string;
  name?: string;
  socket: string;
  run?: CommandRunner;
  /** Whether this user may open the socket now (a fresh group membership needs a new login). */
  inGroup?: () => boolean;
  hasPkexec?: () => boolean;
  startTimeoutMs?: number;
  pollMs?: number;
}

export class SystemdBerthdEngine extends BaseEngine {
  readonly id: string;
  readonly name: string;
  readonly kind: EngineKind = 'berth';
  readonly source: EngineInfo['source'] = 'berth';
  readonly host: string;
  readonly controllable = true;
  /** /etc/berth/daemon.json belongs to root: edited with the system's tools, not from the app. */
  readonly configFile = undefined;
  private readonly run: CommandRunner;
  private busy: Promise<void> | undefined;

  constructor(private readonly opts: SystemdEngineOptions) {
    super();
    this.id = opts.id ?? 'berth';
    this.name = opts.name ?? 'Berth (local)';
    this.host = `unix://${opts.socket}`;
    this.run = opts.run ?? runCommand;
  }

  protected dockerOptions(): Docker.DockerOptions {
    return { socketPath: this.opts.socket };
  }

  protected override unreachableState() {
    return 'stopped' as const;
  }

  private exclusive(fn: () => Promise<void>): Promise<void> {
    const run = (this.busy ?? Promise.resolve()).then(fn);
    const settled: Promise<void> = run.catch(() => undefined);
    this.busy = settled;
    void settled.then(() => {
      if (this.busy === settled) this.busy = undefined;
    });
    return run;
  }

  private async ping(): Promise<{ ok: true } | { ok: false; error: string; code?: string }> {
    try {
      const v = await withTimeout(this.client().version(), 3000, 'timeout');
      this.version = versionLabel(v);
      return { ok: true };
    } catch (err) {
      return { ok: false, error: describeConnectError(err, this.host), code: (err as NodeJS.ErrnoException).code };
    }
  }

  /** systemctl, falling back to pkexec when polkit asks for a password this app cannot type. */
  private async systemctl(verb: 'start' | 'stop' | 'restart' | 'reload'): Promise<void> {
    const r = await this.run('systemctl', ['--no-ask-password', verb, SERVICE_UNIT], { timeoutMs: 90_000 });
    if (r.code === 0) return;
    const denied = /access denied|interactive authentication required|not authorized|authentication is required/i.test(r.stderr);
    if (denied && (this.opts.hasPkexec?.() ?? true)) {
      const p = await this.run('pkexec', ['systemctl', verb, SERVICE_UNIT], { timeoutMs: 180_000 });
      if (p.code === 0) return;
      // 126: the user dismissed the authentication dialog.
      throw new BackendError(p.code === 126 ? `${verb} of ${SERVICE_UNIT} was cancelled` : `pkexec systemctl ${verb} ${SERVICE_UNIT} failed: ${(p.stderr || p.stdout).trim()}`, p.code === 126 ? 409 : 500);
    }
    const hint = denied ? ` (members of the ${SERVICE_GROUP} group may do this without a password: sudo usermod -aG ${SERVICE_GROUP} $USER, then log in again)` : '';
    throw new BackendError(`systemctl ${verb} ${SERVICE_UNIT} failed: ${(r.stderr || r.stdout).trim() || `exit code ${r.code}`}${hint}`, 500);
  }

  /** Why the socket cannot be used, in words the user can act on. */
  private explain(p: { error: string; code?: string }, active: boolean): string {
    const inGroup = this.opts.inGroup?.() ?? inServiceGroup();
    if (p.code === 'EACCES' || (!inGroup && active)) {
      return `permission denied on ${this.host}: join the ${SERVICE_GROUP} group to use Berth's engine without root (sudo usermod -aG ${SERVICE_GROUP} $USER), then log out and in again`;
    }
    return p.error;
  }

  private async isActive(): Promise<boolean> {
    const r = await this.run('systemctl', ['is-active', '--quiet', SERVICE_UNIT], { timeoutMs: 10_000 });
    return r.code === 0;
  }

  start(): Promise<void> {
    return this.exclusive(async () => {
      const first = await this.ping();
      if (first.ok) {
        this.setState('running');
        return;
      }
      this.setState('starting', undefined, { step: `Starting ${SERVICE_UNIT}`, detail: 'systemctl start' });
      try {
        await this.systemctl('start');
        await this.waitForApi();
        this.setState('running');
      } catch (err) {
        this.setState('error', (err as Error).message);
        throw err;
      }
    });
  }

  private async waitForApi(): Promise<void> {
    const deadline = Date.now() + (this.opts.startTimeoutMs ?? 60_000);
    for (;;) {
      this.setState('starting', undefined, { step: 'Waiting for the engine API', detail: this.host });
      const p = await this.ping();
      if (p.ok) return;
      if (p.code === 'EACCES') throw new BackendError(this.explain(p, true), 403);
      if (!(await this.isActive())) throw new BackendError(`${SERVICE_UNIT} stopped while starting; see its log (journalctl -u ${SERVICE_UNIT})`, 500);
      if (Date.now() > deadline) throw new BackendError(`berthd did not answer on ${this.host} within ${Math.round((this.opts.startTimeoutMs ?? 60_000) / 1000)} s (journalctl -u ${SERVICE_UNIT})`, 500);
      await new Promise((r) => setTimeout(r, this.opts.pollMs ?? 250));
    }
  }

  stop(): Promise<void> {
    return this.exclusive(async () => {
      this.setState('stopping', undefined, { step: `Stopping ${SERVICE_UNIT}`, detail: 'containers keep running' });
      try {
        await this.systemctl('stop');
        this.setState('stopped');
      } catch (err) {
        this.setState('error', (err as Error).message);
        throw err;
      }
    });
  }

  override restart(): Promise<void> {
    return this.exclusive(async () => {
      this.setState('starting', undefined, { step: `Restarting ${SERVICE_UNIT}` });
      try {
        await this.systemctl('restart');
        await this.waitForApi();
        this.setState('running');
      } catch (err) {
        this.setState('error', (err as Error).message);
        throw err;
      }
    });
  }

  override async probe() {
    if (this.currentState === 'starting' || this.currentState === 'stopping') return this.currentState;
    const p = await this.ping();
    if (p.ok) this.setState('running');
    else {
      const active = await this.isActive();
      this.setState(active || p.code === 'EACCES' ? 'error' : 'stopped', active || p.code === 'EACCES' ? this.explain(p, active) : undefined);
    }
    return this.currentState;
  }

  override reportReachable(reachable: boolean, error?: string): void {
    if (this.currentState === 'starting' || this.currentState === 'stopping') return;
    if (reachable) this.setState('running');
    else void this.probe().catch(() => this.setState('stopped', error));
  }

  override async readLogs(tail: number): Promise<{ text: string; file?: string }> {
    const r = await this.run('journalctl', ['-u', SERVICE_UNIT, '-n', String(tail), '--no-pager', '-o', 'short-iso'], { timeoutMs: 20_000 });
    if (r.code === 0 && r.stdout.trim() && !/^-- No entries --/m.test(r.stdout)) return { text: r.stdout, file: `journalctl -u ${SERVICE_UNIT}` };
    const why = r.stderr.trim() || r.stdout.trim();
    return {
      text: `The engine's log is in the system journal (journalctl -u ${SERVICE_UNIT}).${why ? ` journalctl said: ${why}` : ''}${/permission|not seeing messages/i.test(why) ? ' Members of the adm or systemd-journal group can read it.' : ''}`,
      file: `journalctl -u ${SERVICE_UNIT}`,
    };
  }

  override async reloadConfig(): Promise<'reloaded' | 'restart-required'> {
    await this.systemctl('reload');
    return 'reloaded';
  }

  override async resetData(): Promise<void> {
    throw new BackendError(`the system service's data (/var/lib/berth) belongs to root: remove its containers, images and volumes from the app, or stop ${SERVICE_UNIT} and delete it as root`, 409);
  }
}
