/**
 * Registry errors and their wording. Registries answer failures with the
 * distribution "errcode" JSON ({"errors":[{code,message,detail}]}); Docker
 * renders them as "<code in words>: <message>" and wraps transport failures
 * the way Go's net/http does (`Get "<url>": dial tcp ...`). Users and scripts
 * match on these strings, so they are reproduced here.
 */
import { STATUS_CODES } from 'node:http';
import { EngineError, InvalidParameterError, NotFoundError, UnauthorizedError, ForbiddenError } from '../errdefs.js';

/** Default messages of the distribution error codes (used when a registry sends none). */
const codeMessages: Record<string, string> = {
  UNKNOWN: 'unknown error',
  UNSUPPORTED: 'The operation is unsupported.',
  UNAUTHORIZED: 'authentication required',
  DENIED: 'requested access to the resource is denied',
  UNAVAILABLE: 'service unavailable',
  TOOMANYREQUESTS: 'too many requests',
  BLOB_UNKNOWN: 'blob unknown to registry',
  BLOB_UPLOAD_INVALID: 'blob upload invalid',
  BLOB_UPLOAD_UNKNOWN: 'blob upload unknown to registry',
  DIGEST_INVALID: 'provided digest did not match uploaded content',
  MANIFEST_BLOB_UNKNOWN: 'blob unknown to registry',
  MANIFEST_INVALID: 'manifest invalid',
  MANIFEST_UNKNOWN: 'manifest unknown',
  MANIFEST_UNVERIFIED: 'manifest failed signature verification',
  NAME_INVALID: 'invalid repository name',
  NAME_UNKNOWN: 'repository name not known to registry',
  PAGINATION_NUMBER_INVALID: 'invalid number of results requested',
  RANGE_INVALID: 'invalid content range',
  SIZE_INVALID: 'provided length did not match content length',
  TAG_INVALID: 'manifest tag did not match URI',
};

export interface ErrcodeEntry {
  code: string;
  message: string;
  detail?: unknown;
}

function describe(e: ErrcodeEntry): string {
  const code = e.code in codeMessages ? e.code : 'UNKNOWN';
  return `${code.toLowerCase().replace(/_/g, ' ')}: ${e.message || codeMessages[code]}`;
}

/** An error the registry reported in its errcode body (or through a Bearer challenge). */
export class RegistryApiError extends Error {
  constructor(
    readonly errors: ErrcodeEntry[],
    readonly status: number,
  ) {
    super(errors.length === 1 ? describe(errors[0]!) : `errors:\n${errors.map((e) => describe(e) + '\n').join('')}`);
    this.name = 'RegistryApiError';
  }

  get code(): string {
    const c = this.errors[0]?.code ?? 'UNKNOWN';
    return c in codeMessages ? c : 'UNKNOWN';
  }

  /** The first error alone: what dockerd reports when a registry sends several. */
  first(): RegistryApiError {
    return this.errors.length <= 1 ? this : new RegistryApiError([this.errors[0]!], this.status);
  }
}

/** A 5xx (or other non-4xx failure) without a usable body. */
export class UnexpectedStatusError extends Error {
  constructor(
    readonly status: number,
    statusText: string,
  ) {
    super(`received unexpected HTTP status: ${status} ${statusText}`);
    this.name = 'UnexpectedStatusError';
  }
}

/** A 4xx whose body is not errcode JSON. */
export class UnexpectedResponseError extends Error {
  constructor(
    readonly status: number,
    parseError: string,
    body: string,
  ) {
    super(`error parsing HTTP ${status} response body: ${parseError}: ${JSON.stringify(body)}`);
    this.name = 'UnexpectedResponseError';
  }
}

/** Network-level failure, worded like Go's *url.Error. */
export class TransportError extends Error {
  constructor(
    readonly method: string,
    readonly url: string,
    readonly reason: string,
    readonly tlsFailure: boolean,
    options?: { cause?: unknown },
  ) {
    super(`${method[0]!.toUpperCase()}${method.slice(1).toLowerCase()} "${url}": ${reason}`, options);
    this.name = 'TransportError';
  }
}

/** The registry asked for Basic credentials and none were given. */
export class NoBasicAuthCredentialsError extends Error {
  constructor() {
    super('no basic auth credentials');
    this.name = 'NoBasicAuthCredentialsError';
  }
}

/** A downloaded blob did not hash to its descriptor's digest. */
export class BlobVerificationError extends Error {
  constructor(digest: string) {
    super(`filesystem layer verification failed for digest ${digest}`);
    this.name = 'BlobVerificationError';
  }
}

/** Marks an error that a retry cannot fix (moby's xfer.DoNotRetry). */
export class DoNotRetryError extends Error {
  constructor(readonly inner: Error) {
    super(inner.message, { cause: inner });
    this.name = 'DoNotRetryError';
  }
}

/** Turns a non-2xx registry response body into the error Docker would report. */
export function errorFromResponse(status: number, body: string, bearerError?: { error?: string; description?: string }): Error {
  if (status >= 400 && status < 500) {
    let fromChallenge: ErrcodeEntry | undefined;
    if (bearerError?.error === 'invalid_token') fromChallenge = { code: 'UNAUTHORIZED', message: bearerError.description || codeMessages.UNAUTHORIZED! };
    else if (bearerError?.error === 'insufficient_scope') fromChallenge = { code: 'DENIED', message: bearerError.description || codeMessages.DENIED! };
    const parsed = parseErrorBody(status, body);
    if (fromChallenge) {
      const rest = parsed instanceof RegistryApiError ? parsed.errors : [];
      return new RegistryApiError([fromChallenge, ...rest], status);
    }
    if (parsed instanceof UnexpectedResponseError && status === 401) {
      return new RegistryApiError([{ code: 'UNAUTHORIZED', message: codeMessages.UNAUTHORIZED!, detail: body }], status);
    }
    return parsed;
  }
  return new UnexpectedStatusError(status, STATUS_CODES[status] ?? '');
}

function parseErrorBody(status: number, body: string): Error {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch (err) {
    return new UnexpectedResponseError(status, body.trim() === '' ? 'EOF' : (err as Error).message, body);
  }
  const obj = json as { details?: unknown; errors?: unknown };
  // Older token servers (Docker Hub) answer {"details": "..."}.
  if (obj && typeof obj === 'object' && typeof obj.details === 'string' && obj.details !== '') {
    const code = status === 401 ? 'UNAUTHORIZED' : status === 429 ? 'TOOMANYREQUESTS' : 'UNKNOWN';
    return new RegistryApiError([{ code, message: obj.details }], status);
  }
  if (obj && typeof obj === 'object' && Array.isArray(obj.errors) && obj.errors.length > 0) {
    const entries: ErrcodeEntry[] = obj.errors.map((e: unknown) => {
      const x = (e ?? {}) as { code?: unknown; message?: unknown; detail?: unknown };
      return { code: typeof x.code === 'string' ? x.code : 'UNKNOWN', message: typeof x.message === 'string' ? x.message : '', detail: x.detail };
    });
    return new RegistryApiError(entries, status);
  }
  return new UnexpectedResponseError(status, 'no error details found in HTTP response body', body);
}

/** Go-style text for a Node network error. */
export function describeNetworkError(err: unknown, host: string): { reason: string; tls: boolean } {
  const e = err as NodeJS.ErrnoException & { cause?: NodeJS.ErrnoException & { code?: string } };
  const inner = (e?.cause ?? e) as NodeJS.ErrnoException & { code?: string; reason?: string };
  const code = inner?.code ?? e?.code ?? '';
  const msg = String(inner?.message ?? e?.message ?? err);
  const hostPort = host;
  switch (code) {
    case 'ECONNREFUSED':
      return { reason: `dial tcp ${hostPort}: connect: connection refused`, tls: false };
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return { reason: `dial tcp: lookup ${hostPort.replace(/:\d+$/, '')}: no such host`, tls: false };
    case 'ETIMEDOUT':
    case 'UND_ERR_CONNECT_TIMEOUT':
      return { reason: `dial tcp ${hostPort}: i/o timeout`, tls: false };
    case 'EHOSTUNREACH':
      return { reason: `dial tcp ${hostPort}: connect: no route to host`, tls: false };
    case 'ENETUNREACH':
      return { reason: `dial tcp ${hostPort}: connect: network is unreachable`, tls: false };
    case 'ECONNRESET':
      return { reason: `read tcp ${hostPort}: read: connection reset by peer`, tls: false };
    case 'UND_ERR_SOCKET':
    case 'UND_ERR_CLOSED':
      return { reason: 'unexpected EOF', tls: false };
    case 'UND_ERR_HEADERS_TIMEOUT':
    case 'UND_ERR_BODY_TIMEOUT':
      return { reason: 'net/http: timeout awaiting response headers', tls: false };
    case 'ERR_SSL_WRONG_VERSION_NUMBER':
    case 'ERR_SSL_PACKET_LENGTH_TOO_LONG':
    case 'EPROTO':
      return { reason: 'http: server gave HTTP response to HTTPS client', tls: true };
    case 'UNABLE_TO_VERIFY_LEAF_SIGNATURE':
    case 'SELF_SIGNED_CERT_IN_CHAIN':
    case 'DEPTH_ZERO_SELF_SIGNED_CERT':
    case 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY':
      return { reason: 'tls: failed to verify certificate: x509: certificate signed by unknown authority', tls: true };
    case 'CERT_HAS_EXPIRED':
      return { reason: 'tls: failed to verify certificate: x509: certificate has expired or is not yet valid', tls: true };
    case 'ERR_TLS_CERT_ALTNAME_INVALID':
      return { reason: `tls: failed to verify certificate: x509: certificate is not valid for ${hostPort.replace(/:\d+$/, '')}`, tls: true };
    default:
      if (/ssl|tls|certificate/i.test(msg) || code.startsWith('ERR_SSL') || code.startsWith('ERR_TLS')) return { reason: `tls: ${msg}`, tls: true };
      return { reason: msg, tls: false };
  }
}

/** True when retrying the same request may succeed (moby's retryOnError, inverted). */
export function isRetryable(err: unknown): boolean {
  if (err instanceof DoNotRetryError) return false;
  if (err instanceof RegistryApiError) {
    return !['UNAUTHORIZED', 'UNSUPPORTED', 'DENIED', 'TOOMANYREQUESTS', 'NAME_UNKNOWN', 'BLOB_UNKNOWN'].includes(err.code);
  }
  if (err instanceof NoBasicAuthCredentialsError) return false;
  if (err instanceof UnexpectedResponseError) return false;
  if (err instanceof BlobVerificationError) return false;
  if (err instanceof TransportError) {
    if (err.tlsFailure) return false;
    const c = err.cause;
    if (c instanceof RegistryApiError || c instanceof NoBasicAuthCredentialsError || c instanceof UnexpectedResponseError || c instanceof UnexpectedStatusError) return isRetryable(c);
    return true;
  }
  if (err instanceof EngineError) return false;
  const code = (err as NodeJS.ErrnoException)?.code;
  if (code === 'ENOSPC' || code === 'EDQUOT' || code === 'EROFS') return false;
  return true;
}

/**
 * The error a failed pull reports (moby's translatePullError): access and
 * not-found errors become 404s naming the image; 401s stay 401s.
 */
export function translatePullError(err: unknown, familiarName: string, familiarString: string): Error {
  const e0 = err instanceof DoNotRetryError ? err.inner : err;
  const e = e0 instanceof RegistryApiError ? e0.first() : e0;
  if (e instanceof RegistryApiError) {
    switch (e.code) {
      case 'DENIED':
        return new NotFoundError(`pull access denied for ${familiarName}, repository does not exist or may require 'docker login': ${e.message}`, { cause: e });
      case 'MANIFEST_UNKNOWN':
        return new NotFoundError(`manifest for ${familiarString} not found: ${e.message}`, { cause: e });
      case 'NAME_UNKNOWN':
        return new NotFoundError(`repository ${familiarName} not found: ${e.message}`, { cause: e });
      case 'UNAUTHORIZED':
        return new UnauthorizedError(e.message, { cause: e });
    }
  }
  if (e instanceof EngineError) return e;
  return e instanceof Error ? e : new Error(String(e));
}

/** The error a failed login reports. */
export function translateLoginError(err: unknown): Error {
  if (err instanceof RegistryApiError && err.code === 'UNAUTHORIZED') return new UnauthorizedError(err.message, { cause: err });
  if (err instanceof TransportError && err.cause instanceof RegistryApiError && err.cause.code === 'UNAUTHORIZED') return new UnauthorizedError(err.message, { cause: err });
  if (err instanceof EngineError) return err;
  return err instanceof Error ? err : new Error(String(err));
}

export { InvalidParameterError, NotFoundError, UnauthorizedError, ForbiddenError };
