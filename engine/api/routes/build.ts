/**
 * POST /build, /build/prune, /build/cancel: the query and headers decoded as
 * leniently as dockerd's newImageBuildOptions (booleans false only for "", 0,
 * no, false, none; integers that do not parse are 0; empty values accepted —
 * the CLI sends `cpuperiod=0&cgroupparent=&cachefrom=[]`), X-Registry-Config
 * credentials (bad input ignored), the body as the context. The response
 * begins with the build's first line, so what fails earlier is an HTTP error.
 */
import { PassThrough } from 'node:stream';
import type { IncomingMessage } from 'node:http';
import type { Router } from '../router.js';
import { sendJson, versionLess, type RequestContext } from '../context.js';
import { boolParam } from '../query.js';
import { Filters } from '../filters.js';
import { HttpJsonLines } from '../streams/json-lines.js';
import { errorLine, type JsonLineOutput } from '../../progress/jsonmessage.js';
import { InvalidParameterError, NotImplementedError } from '../../errdefs.js';
import { authConfigFromJson, type AuthConfig } from '../../registry/authconfig.js';
import type { BuildRequest, BuildOutcome } from '../../builder/build.js';
import type { BuildOptions } from '../../builder/builder.js';
import type { BuildCachePruneReport, PruneOptions } from '../../builder/cache-store.js';
import { parsePlatform, PlatformError } from '../../builder/platform.js';

/** What the build routes need (moby's router/build/backend.go). */
export interface BuildRoutesBackend {
  /**
   * Runs a build, writing its JSON stream to `out` (the first line begins the response: what
   * fails before it is thrown and answers as an HTTP error). `buildId` lets cancel stop it.
   */
  build(req: BuildRequest, out: JsonLineOutput, signal: AbortSignal, buildId: string): Promise<BuildOutcome>;
  prune(opts: PruneOptions): Promise<BuildCachePruneReport>;
  cancel(buildId: string): boolean;
  experimental(): boolean;
}

/** httputils.Int64ValueOrZero */
function int64OrZero(q: URLSearchParams, name: string): number {
  const v = q.get(name);
  if (v === null || !/^[+-]?\d+$/.test(v.trim())) return 0;
  return Number(v.trim());
}

function json<T>(q: URLSearchParams, name: string, what: string, check: (v: unknown) => v is T): T | undefined {
  const raw = q.get(name);
  if (raw === null || raw === '') return undefined;
  let v: unknown;
  try {
    v = JSON.parse(raw);
  } catch (err) {
    throw new InvalidParameterError(`${what}${(err as Error).message}`);
  }
  if (v === null) return undefined;
  if (!check(v)) throw new InvalidParameterError(`${what}json: cannot unmarshal ${Array.isArray(v) ? 'array' : typeof v} into Go value`);
  return v;
}

const isStringMap = (v: unknown): v is Record<string, string> => typeof v === 'object' && v !== null && !Array.isArray(v) && Object.values(v).every((x) => typeof x === 'string');
const isArgMap = (v: unknown): v is Record<string, string | null> => typeof v === 'object' && v !== null && !Array.isArray(v) && Object.values(v).every((x) => typeof x === 'string' || x === null);
const isStringList = (v: unknown): v is string[] => Array.isArray(v) && v.every((x) => typeof x === 'string');
const isUlimits = (v: unknown): v is Array<{ Name: string; Soft: number; Hard: number }> => Array.isArray(v) && v.every((x) => typeof x === 'object' && x !== null);

/** X-Registry-Config: base64url JSON of registry → credentials; anything malformed is ignored, as dockerd does. */
export function registryConfigHeader(value: string | string[] | undefined): Record<string, AuthConfig> {
  const v = Array.isArray(value) ? value[0] : value;
  if (!v) return {};
  try {
    const decoded = JSON.parse(Buffer.from(v, 'base64url').toString('utf8')) as unknown;
    if (typeof decoded !== 'object' || decoded === null || Array.isArray(decoded)) return {};
    const out: Record<string, AuthConfig> = {};
    for (const [k, a] of Object.entries(decoded as Record<string, unknown>)) {
      try {
        out[k] = authConfigFromJson(a);
      } catch {
        /* ignored */
      }
    }
    return out;
  } catch {
    return {};
  }
}

/** The build request from the query (moby's newImageBuildOptions). */
export function buildRequest(ctx: Pick<RequestContext, 'query' | 'version' | 'req'>, experimental: boolean): { req: BuildRequest; buildId: string } {
  const q = ctx.query;
  const version = ctx.version;
  if (q.has('securityopt')) throw new InvalidParameterError('The daemon on this platform does not support setting security options on build');
  const isolation = q.get('isolation') ?? '';
  if (isolation !== '' && isolation.toLowerCase() !== 'default') throw new InvalidParameterError(`Unsupported isolation: "${isolation}"`);
  let shmSize = 0;
  const shm = q.get('shmsize');
  if (shm !== null && shm !== '') {
    if (!/^[+-]?\d+$/.test(shm)) throw new InvalidParameterError(`strconv.ParseInt: parsing "${shm}": invalid syntax`);
    shmSize = Number(shm);
  }
  const forceRm = boolParam(q, 'forcerm');
  const rmRaw = q.get('rm');
  const remove = forceRm || rmRaw === null || rmRaw === '' || boolParam(q, 'rm');
  const v = q.get('version');
  if (v !== null && v !== '' && v !== '1' && v !== '2') throw new InvalidParameterError(`invalid version "${v}"`);
  if (v === '2') throw new NotImplementedError('BuildKit (builder version 2) is not supported by berthd: build with the classic builder (DOCKER_BUILDKIT=0)');
  if (boolParam(q, 'squash') && !experimental) throw new InvalidParameterError('squash is only supported with experimental mode');
  if (boolParam(q, 'squash')) throw new NotImplementedError('squash is not supported by berthd');
  let platform;
  const p = q.get('platform');
  if (p && !versionLess(version, '1.32')) {
    try {
      platform = parsePlatform(p);
    } catch (err) {
      if (err instanceof PlatformError) throw new InvalidParameterError(err.message);
      throw err;
    }
  }
  if (!versionLess(version, '1.40')) json(q, 'outputs', '', isUlimits);
  const ulimits = json(q, 'ulimits', 'error reading ulimit settings: ', isUlimits) ?? [];
  const buildArgs = json(q, 'buildargs', 'error reading build args: ', isArgMap) ?? {};
  const labels = json(q, 'labels', 'error reading labels: ', isStringMap) ?? {};
  const cacheFrom = json(q, 'cachefrom', '', isStringList) ?? [];
  const options: BuildOptions = {
    tags: q.getAll('t'),
    noCache: boolParam(q, 'nocache'),
    pull: boolParam(q, 'pull') && !versionLess(version, '1.16'),
    remove,
    forceRemove: forceRm,
    buildArgs: new Map(Object.entries(buildArgs)),
    labels,
    target: q.get('target') ?? '',
    ...(platform ? { platform } : {}),
    cacheFrom,
    host: {
      NetworkMode: q.get('networkmode') ?? '',
      ExtraHosts: q.getAll('extrahosts'),
      ShmSize: shmSize,
      CgroupParent: q.get('cgroupparent') ?? '',
      CpuShares: int64OrZero(q, 'cpushares'),
      CpuPeriod: int64OrZero(q, 'cpuperiod'),
      CpuQuota: int64OrZero(q, 'cpuquota'),
      CpusetCpus: q.get('cpusetcpus') ?? '',
      CpusetMems: q.get('cpusetmems') ?? '',
      Memory: int64OrZero(q, 'memory'),
      MemorySwap: int64OrZero(q, 'memswap'),
      Ulimits: ulimits,
      Binds: [],
    },
    auth: registryConfigHeader(ctx.req.headers['x-registry-config']),
  };
  const req: BuildRequest = { body: ctx.req, remote: q.get('remote') ?? '', dockerfile: q.get('dockerfile') || 'Dockerfile', quiet: boolParam(q, 'q'), options };
  return { req, buildId: q.get('buildid') ?? '' };
}

/**
 * The builder reads its own stream of the body and destroys it when it refuses the context half-way
 * (a decompression bomb is refused after 64 MiB of output, long before its upload ends). The
 * request stays the route's: what is left of it is read and dropped (see drainRest), so the client
 * gets the refusal instead of a connection reset.
 */
function builderBody(req: IncomingMessage): PassThrough {
  const body = new PassThrough({ highWaterMark: 1 << 20 });
  req.on('error', (err) => body.destroy(err));
  return req.pipe(body);
}

/** Bytes of an abandoned upload read and dropped before the connection is closed instead (Go's net/http reads 256 KiB). */
const DRAIN_LIMIT = 8 * 1024 * 1024;

function drainRest(req: IncomingMessage): void {
  req.unpipe();
  let left = DRAIN_LIMIT;
  req.on('data', (c: Buffer) => {
    left -= c.length;
    if (left < 0) req.destroy();
  });
  req.resume();
}

/** Drops the aux lines (image IDs) that clients older than API 1.30 do not expect. */
function withoutAux(out: JsonLineOutput): JsonLineOutput {
  return {
    write: (line) => {
      if (!line.startsWith('{"aux":')) out.write(line);
    },
    get started() {
      return out.started;
    },
    get buffered() {
      return out.buffered;
    },
    end: () => out.end(),
  };
}

export function registerBuildRoutes(r: Router, b: BuildRoutesBackend): void {
  r.post('/build', async (ctx) => {
    let parsed;
    try {
      parsed = buildRequest(ctx, b.experimental());
    } catch (err) {
      drainRest(ctx.req);
      throw err;
    }
    const http = new HttpJsonLines(ctx);
    const out = versionLess(ctx.version, '1.30') ? withoutAux(http) : http;
    try {
      await b.build({ ...parsed.req, body: builderBody(ctx.req) }, out, http.signal, parsed.buildId);
    } catch (err) {
      drainRest(ctx.req);
      if (!out.started) throw err;
      // The builder reports its own failures in the stream; this is anything else.
      out.write(errorLine(err instanceof Error ? err.message : String(err)));
    }
    out.end();
  });

  r.post('/build/prune', async (ctx) => {
    const q = ctx.query;
    let filters: Filters;
    try {
      filters = Filters.parse(q.get('filters'));
    } catch (err) {
      throw new InvalidParameterError(`could not parse filters: ${(err as Error).message}`);
    }
    const bytes = (k: string): number => {
      const v = q.get(k);
      if (v === null || v === '') return 0;
      if (!/^\d+$/.test(v)) throw new InvalidParameterError(`${k} is in bytes and expects an integer, got ${v}`);
      return Number(v);
    };
    // keep-storage before API 1.48; reserved-space and max-used-space (both "keep at most") and min-free-space after.
    const keepStorage = bytes('keep-storage') || bytes('reserved-space') || bytes('max-used-space');
    sendJson(ctx, 200, await b.prune({ all: boolParam(q, 'all'), filters, keepStorage, minFreeSpace: bytes('min-free-space') }));
  });

  r.post('/build/cancel', (ctx) => {
    const id = ctx.query.get('id') ?? '';
    if (id === '') throw new InvalidParameterError('build ID not provided');
    b.cancel(id);
    sendJson(ctx, 200, {});
  });
}
