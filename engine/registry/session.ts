/**
 * An authenticated conversation with one registry endpoint for one set of
 * scopes (`repository:<name>:pull` or `push,pull`). It pings /v2/ to learn
 * the challenge, then authorizes each request: Basic with the client's
 * credentials, or a Bearer token from the challenge's realm (GET with Basic,
 * or the OAuth POST flow for identity tokens), cached per scope until expiry.
 */
import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import { parseChallenges, type Challenge } from './challenge.js';
import { errorFromResponse, NoBasicAuthCredentialsError, TransportError } from './errors.js';
import { discard, header, headerAll, readBody, type HttpResponse, type HttpTransport, type Headers } from './transport.js';
import type { Endpoint } from './endpoints.js';
import type { AuthConfig } from './authconfig.js';

/** Tokens shorter-lived than this are treated as living this long (distribution's minimum). */
const MIN_TOKEN_LIFETIME_S = 60;
const TOKEN_RESPONSE_LIMIT = 1024 * 1024;

interface CachedToken {
  token: string;
  expiresAt: number;
}

/** In-memory bearer tokens, keyed by realm, service, scopes and a hash of the credentials. */
export class TokenCache {
  private readonly tokens = new Map<string, CachedToken>();

  get(key: string): string | undefined {
    const t = this.tokens.get(key);
    if (!t) return undefined;
    // Refresh a little early so a token does not expire in flight.
    if (Date.now() > t.expiresAt - 5_000) {
      this.tokens.delete(key);
      return undefined;
    }
    return t.token;
  }

  set(key: string, token: string, expiresAt: number): void {
    if (this.tokens.size > 1000) this.tokens.clear();
    this.tokens.set(key, { token, expiresAt });
  }

  clear(): void {
    this.tokens.clear();
  }
}

export function repositoryScope(repo: string, actions: string[]): string {
  return `repository:${repo}:${actions.join(',')}`;
}

export interface SendOptions {
  headers?: Headers;
  body?: Buffer | string | Readable | null;
  signal?: AbortSignal | undefined;
  /** Extra scopes for this request (cross-repository mounts). */
  scopes?: string[];
  headersTimeout?: number;
}

export interface TokenResult {
  token: string;
  refreshToken?: string;
}

export class RegistrySession {
  private challenges: Challenge[] = [];
  /** Set by login: ask the token server for a refresh token. */
  offlineAccess = false;
  refreshToken: string | undefined;

  constructor(
    private readonly transport: HttpTransport,
    readonly endpoint: Endpoint,
    private readonly auth: AuthConfig,
    readonly scopes: string[],
    private readonly tokens: TokenCache,
  ) {}

  get base(): string {
    return `${this.endpoint.url.protocol}//${this.endpoint.url.host}`;
  }

  url(path: string): string {
    return path.startsWith('http://') || path.startsWith('https://') ? path : this.base + path;
  }

  /** GET /v2/ to learn how the registry wants to be authorized. Returns the status. */
  async ping(signal?: AbortSignal): Promise<number> {
    const res = await this.transport.send({ method: 'GET', url: this.url('/v2/'), signal, tls: this.endpoint.tls, headersTimeout: 15_000 });
    await discard(res);
    if (res.status === 401) this.challenges = parseChallenges(headerAll(res, 'www-authenticate'));
    return res.status;
  }

  private get bearer(): Challenge | undefined {
    return this.challenges.find((c) => c.scheme === 'bearer');
  }

  private get basic(): Challenge | undefined {
    return this.challenges.find((c) => c.scheme === 'basic');
  }

  private credentialKey(): string {
    const a = this.auth;
    return createHash('sha256')
      .update([a.username ?? '', a.password ?? '', a.identitytoken ?? '', a.registrytoken ?? ''].join('\0'))
      .digest('hex');
  }

  /** The Authorization header value for a request, fetching a token if needed. */
  private async authorization(scopes: string[], signal: AbortSignal | undefined, fresh: boolean): Promise<string | undefined> {
    const bearer = this.bearer;
    if (bearer) {
      if (this.auth.registrytoken) return `Bearer ${this.auth.registrytoken}`;
      const realm = bearer.params.realm;
      if (!realm) throw new Error('no realm specified for token auth challenge');
      const service = bearer.params.service ?? '';
      const key = [realm, service, [...scopes].sort().join(' '), this.credentialKey()].join('\n');
      let token = fresh ? undefined : this.tokens.get(key);
      if (!token) {
        const r = await this.fetchToken(realm, service, scopes, signal);
        token = r.token;
        this.tokens.set(key, r.token, r.expiresAt);
      }
      return `Bearer ${token}`;
    }
    if (this.basic) {
      if (!this.auth.username || !this.auth.password) throw new NoBasicAuthCredentialsError();
      return 'Basic ' + Buffer.from(`${this.auth.username}:${this.auth.password}`).toString('base64');
    }
    return undefined;
  }

  private async fetchToken(realmUrl: string, service: string, scopes: string[], signal: AbortSignal | undefined): Promise<{ token: string; expiresAt: number }> {
    let realm: URL;
    try {
      realm = new URL(realmUrl);
    } catch {
      throw new Error(`invalid token auth challenge realm: ${realmUrl}`);
    }
    const tls = this.endpoint.tls;
    let res: HttpResponse;
    if (this.auth.identitytoken) {
      const form = new URLSearchParams();
      form.set('scope', scopes.join(' '));
      form.set('service', service);
      form.set('client_id', 'docker');
      form.set('grant_type', 'refresh_token');
      form.set('refresh_token', this.auth.identitytoken);
      res = await this.transport.send({ method: 'POST', url: realm.toString(), headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: form.toString(), signal, tls });
    } else {
      const u = new URL(realm);
      if (service) u.searchParams.append('service', service);
      for (const s of scopes) u.searchParams.append('scope', s);
      if (this.offlineAccess) {
        u.searchParams.append('offline_token', 'true');
        u.searchParams.append('client_id', 'docker');
      }
      const headers: Headers = {};
      if (this.auth.username && this.auth.password) {
        u.searchParams.append('account', this.auth.username);
        headers.authorization = 'Basic ' + Buffer.from(`${this.auth.username}:${this.auth.password}`).toString('base64');
      }
      res = await this.transport.send({ method: 'GET', url: u.toString(), headers, signal, tls });
    }
    const body = await readBody(res.body, TOKEN_RESPONSE_LIMIT, () => new Error('token response is too large'));
    if (res.status < 200 || res.status >= 300) throw errorFromResponse(res.status, body.toString('utf8'));
    let json: { token?: string; access_token?: string; expires_in?: number; issued_at?: string; refresh_token?: string };
    try {
      json = JSON.parse(body.toString('utf8'));
    } catch (err) {
      throw new Error(`unable to decode token response: ${(err as Error).message}`);
    }
    const token = json.access_token || json.token;
    if (!token) throw new Error('authorization server did not include a token in the response');
    if (json.refresh_token) this.refreshToken = json.refresh_token;
    const lifetime = Math.max(Number(json.expires_in) || 0, MIN_TOKEN_LIFETIME_S);
    const issued = json.issued_at ? Date.parse(json.issued_at) : NaN;
    return { token, expiresAt: (Number.isFinite(issued) ? issued : Date.now()) + lifetime * 1000 };
  }

  /**
   * Sends an authorized request. On a 401 the challenge is re-read and the
   * request retried once with a fresh token, when its body can be resent.
   */
  async send(method: 'GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH' | 'DELETE', path: string, opts: SendOptions = {}): Promise<HttpResponse> {
    const url = this.url(path);
    const scopes = [...this.scopes, ...(opts.scopes ?? [])];
    const replayable = opts.body === undefined || opts.body === null || typeof opts.body === 'string' || Buffer.isBuffer(opts.body);
    for (let attempt = 0; ; attempt++) {
      let authz: string | undefined;
      try {
        authz = await this.authorization(scopes, opts.signal, attempt > 0);
      } catch (err) {
        throw new TransportError(method, url, (err as Error).message, err instanceof TransportError && err.tlsFailure, { cause: err });
      }
      const headers: Headers = { ...opts.headers };
      if (authz) headers.authorization = authz;
      const res = await this.transport.send({ method, url, headers, body: opts.body ?? null, signal: opts.signal, tls: this.endpoint.tls, ...(opts.headersTimeout ? { headersTimeout: opts.headersTimeout } : {}) });
      if (res.status !== 401 || attempt > 0 || !replayable) return res;
      const fresh = parseChallenges(headerAll(res, 'www-authenticate'));
      const bearerErr = fresh.find((c) => c.scheme === 'bearer')?.params.error;
      // A token that lacks the scope will not get it by asking again.
      if (bearerErr === 'insufficient_scope' && authz) return res;
      if (fresh.length === 0) return res;
      const hadAuth = authz !== undefined;
      this.challenges = fresh;
      if (hadAuth && this.basic && !this.bearer) return res; // wrong Basic credentials
      await discard(res);
    }
  }

  /** Throws the registry's error for a failed response. */
  async fail(res: HttpResponse): Promise<never> {
    const body = res.status === 204 || res.status === 304 ? Buffer.alloc(0) : await readBody(res.body, 64 * 1024, () => new Error('error response is too large')).catch(() => Buffer.alloc(0));
    const bearer = parseChallenges(headerAll(res, 'www-authenticate')).find((c) => c.scheme === 'bearer');
    const errParams = bearer?.params.error ? { error: bearer.params.error, ...(bearer.params.error_description ? { description: bearer.params.error_description } : {}) } : undefined;
    throw errorFromResponse(res.status, body.toString('utf8'), errParams);
  }

  /** Content digest header of a response, if any. */
  static digestOf(res: HttpResponse): string | undefined {
    return header(res, 'docker-content-digest');
  }
}
