/**
 * The registry side of berthd, behind the API: pull, push, login (POST
 * /auth), search and distribution inspect. It picks endpoints (mirrors for
 * Docker Hub pulls, HTTPS then plain HTTP for insecure registries), runs the
 * operation against each in turn as dockerd does, and reports through the
 * JSON progress stream, with errors in-band once output has begun.
 */
import path from 'node:path';
import { STATUS_CODES } from 'node:http';
import type { DaemonConfig } from '../daemon/config.js';
import type { Logger } from '../daemon/log.js';
import type { EventBus } from '../events/bus.js';
import type { BlobStore } from '../images/blobs.js';
import type { LayerMeta, LayerStore } from '../images/layers.js';
import type { ImageStore, Image } from '../images/store.js';
import { MediaTypes, type Platform } from '../images/oci.js';
import { parseReference, validateDigest, validateTag, type Reference } from '../images/reference.js';
import { ForbiddenError, InvalidParameterError, NotFoundError, UnauthorizedError } from '../errdefs.js';
import type { Filters } from '../api/filters.js';
import type { JsonLineOutput } from '../progress/jsonmessage.js';
import { authConfigFromJson, type AuthConfig } from './authconfig.js';
import { Repository } from './client.js';
import { EndpointResolver, DOCKER_HUB_INDEX, type Endpoint } from './endpoints.js';
import { RegistryApiError, translateLoginError, translatePullError, TransportError, UnexpectedResponseError, UnexpectedStatusError } from './errors.js';
import { DownloadManager, DynamicSemaphore } from './download.js';
import { checkConfigMediaType, parseManifest, parsePlatform, UnsupportedManifestError, CONFIG_LIMIT } from './manifest.js';
import { ProgressStream } from './progress.js';
import { ConfigPullError, platformWarning, Puller } from './pull.js';
import { Pusher, unwrapAuth } from './push.js';
import { searchRegistry, type SearchResult } from './search.js';
import { RegistrySession, TokenCache, repositoryScope } from './session.js';
import { BlobSources } from './sources.js';
import { HttpTransport } from './transport.js';
import type { RegistryContext } from './context.js';

export interface RegistryServiceDeps {
  config: DaemonConfig;
  log: Logger;
  events: EventBus;
  images: ImageStore;
  layers: LayerStore;
  blobs: BlobStore;
}

/** A pull as `POST /images/create?fromImage=` asks for it. */
export interface PullOptions {
  fromImage: string;
  tag: string | null;
  platform: string | null;
  auth: AuthConfig;
  /** Aborted when the client goes away (moby cancels on a write error). */
  signal: AbortSignal;
}

export interface PushOptions {
  name: string;
  tag: string | null;
  auth: AuthConfig;
  signal: AbortSignal;
}

export interface SearchOptions {
  term: string;
  limit: number;
  filters: Filters;
  auth: AuthConfig;
}

/** Errors after which a pull may try the next endpoint (moby's continueOnError). */
function fallbackAllowed(err: unknown, mirror: boolean): boolean {
  if (err instanceof UnsupportedManifestError) return false;
  if (err instanceof RegistryApiError) return mirror;
  if (err instanceof ConfigPullError) return mirror;
  if (err instanceof TransportError || err instanceof UnexpectedStatusError || err instanceof UnexpectedResponseError) return true;
  return mirror;
}

export class RegistryService {
  readonly transport = new HttpTransport();
  readonly tokens = new TokenCache();
  readonly resolver: EndpointResolver;
  readonly rc: RegistryContext;
  private readonly log: Logger;

  constructor(private readonly deps: RegistryServiceDeps) {
    const cfg = () => deps.config;
    this.log = deps.log.with({ module: 'registry' });
    this.resolver = new EndpointResolver(() => ({ registryMirrors: cfg().registryMirrors, insecureRegistries: cfg().insecureRegistries }));
    const retryDelay = (attempt: number) => attempt * 5;
    this.rc = {
      images: deps.images,
      layers: deps.layers,
      blobs: deps.blobs,
      events: deps.events,
      log: this.log,
      downloads: new DownloadManager(deps.blobs, { maxConcurrent: () => cfg().maxConcurrentDownloads, maxAttempts: () => cfg().maxDownloadAttempts, retryDelay }, this.log),
      uploads: new DynamicSemaphore(() => cfg().maxConcurrentUploads),
      registering: new Map<string, Promise<LayerMeta>>(),
      blobUsers: new Map<string, number>(),
      sources: new BlobSources(path.join(deps.config.dataRoot, 'image', 'distribution', 'sources')),
      retryDelay,
    };
  }

  private session(ep: Endpoint, auth: AuthConfig, scopes: string[]): RegistrySession {
    return new RegistrySession(this.transport, ep, auth, scopes, this.tokens);
  }

  // ---- pull -----------------------------------------------------------

  /** Parses fromImage/tag the way moby's postImagesCreate does. */
  static pullReference(fromImage: string, tag: string | null): Reference {
    // "pull -a" may send a name with a trailing colon.
    let ref = parseReference(fromImage.replace(/:$/, ''));
    if (tag) {
      if (/^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:/.test(tag) && !/^[\w][\w.-]{0,127}$/.test(tag)) {
        validateDigest(tag);
        ref = ref.withDigest(tag);
      } else {
        validateTag(tag);
        ref = ref.withTag(tag);
      }
    }
    if (ref.familiarName === 'scratch') throw new ForbiddenError("'scratch' is a reserved name");
    return ref;
  }

  /** Pulls an image, reporting Docker's progress lines to `out`; errors before any output are thrown. */
  async pull(opts: PullOptions, out: JsonLineOutput): Promise<void> {
    const ref = RegistryService.pullReference(opts.fromImage, opts.tag);
    const platform = opts.platform ? parsePlatform(opts.platform) : undefined;
    const stream = new ProgressStream(out);
    try {
      const { updated, images } = await this.pullRef(ref, opts.auth, platform, stream, opts.signal);
      stream.message(undefined, `Status: ${updated ? 'Downloaded newer image for' : 'Image is up to date for'} ${ref.familiarString()}`);
      if (platform && images[0]) {
        const warning = platformWarning(ref.toString(), images[0].config, platform);
        if (warning) stream.message(undefined, warning);
      }
      const labels = images[0]?.config.config?.Labels ?? {};
      this.deps.events.publish('image', 'pull', ref.familiarString(), { ...labels, name: ref.familiarName });
    } catch (err) {
      const e = translatePullError(err, ref.familiarName, ref.familiarString());
      if (!opts.signal.aborted) this.log.info('pull failed', { ref: ref.familiarString(), err: e.message });
      if (!stream.started) throw e;
      stream.error(e.message);
    }
    stream.end();
  }

  /** Tries each endpoint in turn; mirrors and transport failures fall through to the next. */
  private async pullRef(ref: Reference, auth: AuthConfig, platform: Platform | undefined, stream: ProgressStream, signal: AbortSignal): Promise<{ updated: boolean; images: Image[] }> {
    const endpoints = await this.resolver.lookup(ref.domain, true);
    const confirmedTls = new Set<string>();
    let lastErr: unknown;
    for (const ep of endpoints) {
      if (ep.url.protocol === 'http:' && confirmedTls.has(ep.url.host)) continue;
      const session = this.session(ep, auth, [repositoryScope(ref.path, ['pull'])]);
      try {
        await session.ping(signal);
      } catch (err) {
        if (signal.aborted) throw signal.reason;
        this.log.debug('registry endpoint unreachable', { endpoint: ep.url.toString(), err: (err as Error).message });
        lastErr = err;
        continue;
      }
      if (ep.url.protocol === 'https:') confirmedTls.add(ep.url.host);
      const puller = new Puller(this.rc, new Repository(session, ref.path), ref.name, { platform, sink: stream, signal });
      try {
        return await puller.pull(ref);
      } catch (err) {
        if (signal.aborted) throw signal.reason;
        if (ep.mirror && fallbackAllowed(err, true)) {
          this.log.info('attempting next endpoint for pull after error', { endpoint: ep.url.toString(), err: (err as Error).message });
          lastErr = err;
          continue;
        }
        throw err;
      }
    }
    throw lastErr ?? new Error(`no endpoints found for ${ref.familiarString()}`);
  }

  // ---- push -----------------------------------------------------------

  /** Pushes a repository's tags (or one tag), reporting to `out`; failures are reported in-band. */
  async push(opts: PushOptions, out: JsonLineOutput): Promise<void> {
    let ref = parseReference(opts.name);
    if (opts.tag) {
      validateTag(opts.tag);
      ref = ref.withTag(opts.tag);
    }
    const endpoints = await this.resolver.lookup(ref.domain, false);
    const stream = new ProgressStream(out);
    stream.message(undefined, `The push refers to repository [${ref.name}]`);
    try {
      await this.pushRef(ref, opts.auth, endpoints, stream, opts.signal);
      this.deps.events.publish('image', 'push', ref.familiarString(), { name: ref.familiarName });
    } catch (err) {
      const u = unwrapAuth(err);
      const e = u instanceof Error ? u : new Error(String(u));
      if (!opts.signal.aborted) this.log.info('push failed', { ref: ref.familiarString(), err: e.message });
      stream.error(e.message);
    }
    stream.end();
  }

  /** Local tags of the repository `name`, as moby's ReferencesByName. */
  private tagsOf(ref: Reference): Array<{ ref: Reference; image: Image }> {
    const out: Array<{ ref: Reference; image: Image }> = [];
    for (const img of this.deps.images.all()) {
      for (const r of this.deps.images.references(img.id)) if (r.name === ref.name) out.push({ ref: r, image: img });
    }
    return out.sort((a, b) => (a.ref.tag ?? '').localeCompare(b.ref.tag ?? ''));
  }

  private async pushRef(ref: Reference, auth: AuthConfig, endpoints: Endpoint[], stream: ProgressStream, signal: AbortSignal): Promise<void> {
    const associations = this.tagsOf(ref);
    if (associations.length === 0) throw new Error(`An image does not exist locally with the tag: ${ref.familiarName}`);
    let lastErr: unknown;
    const confirmedTls = new Set<string>();
    for (const ep of endpoints) {
      if (ep.url.protocol === 'http:' && confirmedTls.has(ep.url.host)) continue;
      const session = this.session(ep, auth, [repositoryScope(ref.path, ['push', 'pull'])]);
      try {
        await session.ping(signal);
      } catch (err) {
        if (signal.aborted) throw signal.reason;
        lastErr = err;
        continue;
      }
      if (ep.url.protocol === 'https:') confirmedTls.add(ep.url.host);
      const pusher = new Pusher(this.rc, new Repository(session, ref.path), ref.name, { sink: stream, signal });
      if (ref.tag !== undefined) {
        const id = this.deps.images.resolveReference(ref);
        const image = id ? this.deps.images.get(id) : undefined;
        if (!image) throw new Error(`tag does not exist: ${ref.familiarString()}`);
        await pusher.pushTag(ref, image);
        return;
      }
      if (ref.digest !== undefined) throw new Error('cannot push a digest reference');
      const tagged = associations.filter((a) => a.ref.tag !== undefined);
      if (tagged.length === 0) throw new Error(`no tags to push for ${ref.familiarName}`);
      for (const a of tagged) await pusher.pushTag(a.ref, a.image);
      return;
    }
    throw lastErr ?? new Error(`no endpoints found for ${ref.name}`);
  }

  // ---- login ------------------------------------------------------------

  /** POST /auth: checks the credentials against the registry; returns an identity token if it issued one. */
  async login(body: unknown, signal?: AbortSignal): Promise<{ Status: string; IdentityToken: string }> {
    const auth = authConfigFromJson(body);
    let host = DOCKER_HUB_INDEX;
    if (auth.serveraddress) {
      const addr = /^https?:\/\//.test(auth.serveraddress) ? auth.serveraddress : `https://${auth.serveraddress}`;
      try {
        host = new URL(addr).host;
      } catch (err) {
        throw new InvalidParameterError(`unable to parse server address: ${(err as Error).message}`);
      }
    }
    const endpoints = await this.resolver.lookup(host, false);
    let lastErr: unknown;
    for (const ep of endpoints) {
      const session = this.session(ep, auth, []);
      session.offlineAccess = true;
      const url = `${session.base}/v2/`;
      try {
        const status = await session.ping(signal);
        if (status !== 200) {
          const res = await session.send('GET', '/v2/', { signal });
          await res.body.dump().catch(() => undefined);
          if (res.status !== 200) throw new Error(`login attempt to ${url} failed with status: ${res.status} ${statusText(res.status)}`);
        }
        return { Status: 'Login Succeeded', IdentityToken: session.refreshToken ?? '' };
      } catch (err) {
        const e = translateLoginError(err);
        // Wrong credentials are final; anything else tries the next endpoint.
        if (e instanceof UnauthorizedError) throw e;
        this.log.info('error logging in to endpoint, trying next endpoint', { endpoint: url, err: (err as Error).message });
        lastErr = err;
      }
    }
    throw lastErr ?? new Error(`no endpoints found for ${host}`);
  }

  // ---- search -------------------------------------------------------------

  async search(opts: SearchOptions): Promise<SearchResult[]> {
    return searchRegistry({ transport: this.transport, resolver: this.resolver }, opts.term, opts.limit, opts.filters, opts.auth, undefined);
  }

  // ---- distribution inspect ------------------------------------------------

  /** GET /distribution/{name}/json: the manifest descriptor and platforms, without pulling. */
  async inspect(name: string, auth: AuthConfig): Promise<unknown> {
    if (/^(sha256:)?[a-f0-9]{64}$/.test(name)) throw new Error('no manifest found for full image ID');
    let ref = parseReference(name);
    if (ref.tag === undefined && ref.digest === undefined) ref = ref.tagged();
    const endpoints = await this.resolver.lookup(ref.domain, true);
    let lastErr: unknown;
    for (const ep of endpoints) {
      try {
        const session = this.session(ep, auth, [repositoryScope(ref.path, ['pull'])]);
        await session.ping();
        const repo = new Repository(session, ref.path);
        const fetched = await repo.manifest(ref.digest ?? ref.tag!, undefined);
        const parsed = parseManifest(fetched.raw, fetched.mediaType, ref.toString());
        const platforms: Platform[] = [];
        if (parsed.kind === 'index') {
          for (const m of parsed.index.manifests) if (m.platform) platforms.push(m.platform);
        } else {
          checkConfigMediaType(parsed.manifest.config.mediaType);
          try {
            const cfg = JSON.parse((await repo.blob(parsed.manifest.config.digest, CONFIG_LIMIT, undefined)).toString('utf8')) as Partial<Platform>;
            if (cfg.os || cfg.architecture) {
              platforms.push({
                architecture: cfg.architecture ?? '',
                os: cfg.os ?? '',
                ...(cfg['os.version'] ? { 'os.version': cfg['os.version'] } : {}),
                ...(cfg.variant ? { variant: cfg.variant } : {}),
              });
            }
          } catch {
            /* platforms stay empty, as in moby */
          }
        }
        return {
          Descriptor: { mediaType: parsed.mediaType || MediaTypes.dockerManifest, digest: fetched.digest, size: fetched.raw.length },
          Platforms: platforms,
        };
      } catch (err) {
        lastErr = err;
      }
    }
    throw translatePullError(lastErr ?? new NotFoundError(`no endpoints found for ${ref.familiarString()}`), ref.familiarName, ref.familiarString());
  }

  async close(): Promise<void> {
    await this.transport.close();
  }
}

function statusText(status: number): string {
  return STATUS_CODES[status] ?? '';
}
