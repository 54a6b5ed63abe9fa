/**
 * Any Docker-API endpoint Berth only connects to: DOCKER_HOST, a docker
 * context, or one added in settings (a remote dockerd over ssh or TLS,
 * podman's socket, another berthd). Berth cannot start or stop it.
 */
import fs from 'node:fs';
import type Docker from 'dockerode';
import type { EngineInfo, EngineKind } from '../../contract/models.js';
import { BaseEngine, dockerOptionsFor, type DockerTls } from './engine.js';
import { BackendError } from '../errors.js';
import type { TlsFiles } from './discovery.js';

export interface EndpointSpec {
  id: string;
  name: string;
  host: string;
  source: EngineInfo['source'];
  tls?: TlsFiles;
}

export class EndpointEngine extends BaseEngine {
  readonly id: string;
  readonly name: string;
  readonly kind: EngineKind = 'endpoint';
  readonly source: EngineInfo['source'];
  readonly host: string;
  readonly controllable = false;
  readonly configFile = undefined;

  constructor(private readonly spec: EndpointSpec) {
    super();
    this.id = spec.id;
    this.name = spec.name;
    this.host = spec.host;
    this.source = spec.source;
  }

  protected dockerOptions(): Docker.DockerOptions {
    let tls: DockerTls | undefined;
    if (this.spec.tls) {
      const read = (f: string | undefined) => {
        if (!f) return undefined;
        try {
          return fs.readFileSync(f);
        } catch (err) {
          throw new BackendError(`cannot read TLS file ${f} for ${this.name}: ${(err as Error).message}`);
        }
      };
      tls = { verify: this.spec.tls.verify };
      const ca = read(this.spec.tls.ca);
      const cert = read(this.spec.tls.cert);
      const key = read(this.spec.tls.key);
      if (ca) tls.ca = ca;
      if (cert) tls.cert = cert;
      if (key) tls.key = key;
    }
    return dockerOptionsFor(this.host, tls);
  }

  async start(): Promise<void> {
    throw new BackendError(`${this.name} (${this.host}) is not run by Berth: start it where it runs`);
  }

  async stop(): Promise<void> {
    throw new BackendError(`${this.name} (${this.host}) is not run by Berth: stop it where it runs`);
  }
}
