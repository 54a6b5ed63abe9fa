/**
 * An engine is something that speaks the Docker Engine API: Berth's own
 * berthd (which Berth starts and stops), any Docker endpoint or docker context
 * (unix, tcp+TLS, ssh), and Berth's VM (vm-engine.ts). The rest of the backend only sees
 * this interface and the dockerode client it hands out.
 */
import { EventEmitter } from 'node:events';
import http from 'node:http';
import Docker from 'dockerode';
import type { EngineInfo, EngineKind, EngineLogSource, EngineProgress, EngineState } from '../../contract/models.js';
import { BackendError } from '../errors.js';

export interface Engine {
  readonly id: string;
  readonly name: string;
  readonly kind: EngineKind;
  readonly source: EngineInfo['source'];
  /** unix:///…, tcp://…, ssh://… */
  readonly host: string;
  readonly controllable: boolean;
  /** The daemon.json Berth may edit, if any. */
  readonly configFile: string | undefined;
  state(): EngineState;
  error(): string | undefined;
  progress(): EngineProgress | undefined;
  start(): Promise<void>;
  stop(): Promise<void>;
  restart(): Promise<void>;
  /** Pings the engine and updates the state. */
  probe(): Promise<EngineState>;
  client(): Docker;
  /** Lets the engine know its /events stream broke or came back (cheaper than probing). */
  reportReachable(reachable: boolean, error?: string): void;
  /** The engine's own log (berthd's output), for Troubleshoot; the VM engine also has its serial console. */
  readLogs(tail: number, source?: EngineLogSource): Promise<{ text: string; file?: string }>;
  /** Applies a changed daemon.json: reload (SIGHUP) or tell the caller a restart is needed. */
  reloadConfig(): Promise<'reloaded' | 'restart-required'>;
  resetData(): Promise<void>;
  /** The settings changed (the VM engine tells whether its resources wait for a restart). */
  settingsChanged?(): void;
  info(): EngineInfo;
  onChange(listener: () => void): () => void;
  dispose(): void;
}

/** Connection options for dockerode from a Docker host string (DOCKER_HOST syntax). */
export interface DockerTls {
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
  verify: boolean;
}

export function dockerOptionsFor(host: string, tls?: DockerTls): Docker.DockerOptions {
  const url = new URL(host);
  switch (url.protocol) {
    case 'unix:':
      return { socketPath: decodeURIComponent(url.pathname) };
    case 'npipe:':
      return { socketPath: `//./pipe/${url.pathname.replace(/^\/+(\.\/pipe\/)?/, '').replace(/^pipe\//, '')}` };
    case 'tcp:':
    case 'http:':
    case 'https:': {
      const secure = url.protocol === 'https:' || !!tls;
      const port = url.port ? Number(url.port) : secure ? 2376 : 2375;
      const opts: Docker.DockerOptions = { host: url.hostname, port, protocol: secure ? 'https' : 'http' };
      if (tls) {
        if (tls.ca) opts.ca = tls.ca;
        if (tls.cert) opts.cert = tls.cert;
        if (tls.key) opts.key = tls.key;
        if (!tls.verify) (opts as { rejectUnauthorized?: boolean }).rejectUnauthorized = false;
      }
      return opts;
    }
    case 'ssh:': {
      const opts: Docker.DockerOptions = { protocol: 'ssh', host: url.hostname, port: url.port ? Number(url.port) : 22 };
      if (url.username) opts.username = decodeURIComponent(url.username);
      // dockerode runs `docker system dial-stdio` on the remote through ssh2, with the user's agent.
      opts.sshOptions = { agent: process.env.SSH_AUTH_SOCK } as Docker.DockerOptions['sshOptions'];
      return opts;
    }
    default:
      throw new BackendError(`unsupported Docker host "${host}": use unix://, tcp://, ssh:// or npipe://`);
  }
}

/** Shared state handling for engines: state, error, progress, change notifications. */
export abstract class BaseEngine implements Engine {
  protected readonly events = new EventEmitter();
  protected currentState: EngineState = 'unknown';
  protected currentError: string | undefined;
  protected currentProgress: EngineProgress | undefined;
  protected version: string | undefined;
  private docker: Docker | undefined;

  abstract readonly id: string;
  abstract readonly name: string;
  abstract readonly kind: EngineKind;
  abstract readonly source: EngineInfo['source'];
  abstract readonly host: string;
  abstract readonly controllable: boolean;
  abstract readonly configFile: string | undefined;

  protected abstract dockerOptions(): Docker.DockerOptions;
  abstract start(): Promise<void>;
  abstract stop(): Promise<void>;

  async restart(): Promise<void> {
    await this.stop();
    await this.start();
  }

  state(): EngineState {
    return this.currentState;
  }
  error(): string | undefined {
    return this.currentError;
  }
  progress(): EngineProgress | undefined {
    return this.currentProgress;
  }

  client(): Docker {
    this.docker ??= new Docker(this.dockerOptions());
    return this.docker;
  }

  async probe(): Promise<EngineState> {
    try {
      const v = await withTimeout(this.client().version(), 5000, `${this.host} did not answer within 5 s`);
      this.version = versionLabel(v);
      if (this.currentState !== 'starting' && this.currentState !== 'stopping') this.setState('running');
    } catch (err) {
      if (this.currentState !== 'starting' && this.currentState !== 'stopping') this.setState(this.unreachableState(), describeConnectError(err, this.host));
    }
    return this.currentState;
  }

  reportReachable(reachable: boolean, error?: string): void {
    if (this.currentState === 'starting' || this.currentState === 'stopping') return;
    if (reachable) this.setState('running');
    else this.setState(this.unreachableState(), error);
  }

  /** What "not answering" means for this engine: stopped for one Berth runs, unreachable for one it only connects to. */
  protected unreachableState(): EngineState {
    return 'unreachable';
  }

  async readLogs(_tail: number, _source?: EngineLogSource): Promise<{ text: string; file?: string }> {
    return { text: `Berth does not run ${this.name}; its logs live where it runs (${this.host}).` };
  }

  async reloadConfig(): Promise<'reloaded' | 'restart-required'> {
    throw new BackendError(`Berth does not manage the configuration of ${this.name}`);
  }

  async resetData(): Promise<void> {
    throw new BackendError(`Berth does not manage the data of ${this.name}`);
  }

  info(): EngineInfo {
    const i: EngineInfo = {
      id: this.id,
      name: this.name,
      kind: this.kind,
      host: this.host,
      source: this.source,
      state: this.currentState,
      controllable: this.controllable,
      configurable: this.configFile !== undefined,
    };
    if (this.currentError) i.error = this.currentError;
    if (this.currentProgress) i.progress = this.currentProgress;
    if (this.version) i.version = this.version;
    return i;
  }

  onChange(listener: () => void): () => void {
    this.events.on('change', listener);
    return () => this.events.off('change', listener);
  }

  dispose(): void {
    this.events.removeAllListeners();
    const agent = (this.docker?.modem as { agent?: http.Agent } | undefined)?.agent;
    agent?.destroy();
  }

  protected setState(state: EngineState, error?: string, progress?: EngineProgress): void {
    if (state === this.currentState && error === this.currentError && sameProgress(progress, this.currentProgress)) return;
    this.currentState = state;
    this.currentError = error;
    this.currentProgress = progress;
    this.events.emit('change');
  }
}

function sameProgress(a: EngineProgress | undefined, b: EngineProgress | undefined): boolean {
  return a === b || (!!a && !!b && a.step === b.step && a.detail === b.detail && a.percent === b.percent);
}

/**
 * What the engine is, for people: berthd's own version ("berthd 0.1.0") rather than the Docker
 * version it is compatible with, Podman's, or Docker's ("Docker 28.5.0").
 */
export function versionLabel(v: { Version?: string; Platform?: { Name?: string }; Components?: Array<{ Name?: string; Version?: string }> | null }): string | undefined {
  const components = v.Components ?? [];
  const berthd = components.find((c) => c.Name === 'berthd');
  if (berthd?.Version) return `berthd ${berthd.Version}`;
  const podman = components.find((c) => /podman/i.test(c.Name ?? ''));
  if (podman?.Version) return `Podman ${podman.Version}`;
  return v.Version ? `Docker ${v.Version}` : undefined;
}

export function describeConnectError(err: unknown, host: string): string {
  const e = err as NodeJS.ErrnoException & { statusCode?: number };
  if (e.code === 'ENOENT') return `no engine is listening on ${host} (the socket does not exist)`;
  if (e.code === 'ECONNREFUSED') return `no engine is listening on ${host} (connection refused)`;
  if (e.code === 'EACCES') return `permission denied connecting to ${host}`;
  return `${host}: ${e.message ?? String(err)}`;
}

export function withTimeout<T>(p: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new Error(message)), ms);
    }),
  ]);
}
