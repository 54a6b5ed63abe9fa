/**
 * `docker search` against a registry's v1 search endpoint (Docker Hub's
 * API shape: GET /v1/search?q=&n= → {query, num_results, results}), with
 * moby's filters (is-official, stars; is-automated is deprecated and always
 * false) and its validation messages.
 */
import { InvalidParameterError } from '../errdefs.js';
import type { Filters } from '../api/filters.js';
import type { AuthConfig } from './authconfig.js';
import { DOCKER_HUB_DOMAIN, INDEX_SERVER, type EndpointResolver } from './endpoints.js';
import { readBody, type HttpTransport } from './transport.js';
import { TransportError } from './errors.js';

export interface SearchResult {
  star_count: number;
  is_official: boolean;
  name: string;
  is_automated: boolean;
  description: string;
}

export const DEFAULT_SEARCH_LIMIT = 25;

/** Splits "host:5000/foo" into the index and the remote name; bare names go to Docker Hub. */
export function splitSearchTerm(term: string): [string, string] {
  const i = term.indexOf('/');
  if (i === -1) return [DOCKER_HUB_DOMAIN, term];
  const first = term.slice(0, i);
  if (!first.includes('.') && !first.includes(':') && first !== 'localhost') return [DOCKER_HUB_DOMAIN, term];
  return [first, term.slice(i + 1)];
}

function parseBoolFilter(f: Filters, key: string): boolean | undefined {
  const vals = f.get(key);
  if (vals.length === 0) return undefined;
  const v = vals[vals.length - 1]!.toLowerCase();
  if (['1', 't', 'true'].includes(v)) return true;
  if (['0', 'f', 'false'].includes(v)) return false;
  throw new InvalidParameterError(`invalid filter '${key}=${vals[vals.length - 1]}'`);
}

export async function searchRegistry(
  deps: { transport: HttpTransport; resolver: EndpointResolver },
  term: string,
  limit: number,
  filters: Filters,
  auth: AuthConfig,
  signal: AbortSignal | undefined,
): Promise<SearchResult[]> {
  const isAutomated = parseBoolFilter(filters, 'is-automated');
  const isOfficial = parseBoolFilter(filters, 'is-official');
  let minStars = 0;
  for (const s of filters.get('stars')) {
    const n = Number(s);
    if (!/^-?\d+$/.test(s)) throw new InvalidParameterError(`invalid filter 'stars=${s}'`);
    if (n > minStars) minStars = n;
  }
  if (isAutomated) return [];
  if (term.includes('://')) throw new InvalidParameterError(`invalid repository name: repository name (${term}) should not have a scheme`);
  const [index, remoteRaw] = splitSearchTerm(term);
  const official = index === DOCKER_HUB_DOMAIN || index === 'index.docker.io';
  const remote = official ? remoteRaw.replace(/^library\//, '') : remoteRaw;
  const n = limit === 0 ? DEFAULT_SEARCH_LIMIT : limit;
  if (n < 1 || n > 100) throw new InvalidParameterError(`limit ${n} is outside the range of [1, 100]`);

  // The v1 endpoint: Docker Hub's index, or https://<host>/v1/ (plain HTTP for insecure registries).
  const bases: Array<{ base: string; tls: ReturnType<EndpointResolver['tlsFor']> }> = [];
  if (official) bases.push({ base: INDEX_SERVER, tls: deps.resolver.tlsFor('index.docker.io', true) });
  else {
    const secure = await deps.resolver.isSecure(index);
    const tls = deps.resolver.tlsFor(index, secure);
    bases.push({ base: `https://${index}/v1/`, tls });
    if (!secure) bases.push({ base: `http://${index}/v1/`, tls });
  }
  let base: (typeof bases)[number] | undefined;
  const failures: string[] = [];
  for (const b of bases) {
    if (official) {
      base = b;
      break;
    }
    try {
      const res = await deps.transport.send({ method: 'GET', url: b.base + '_ping', tls: b.tls, signal, headersTimeout: 15_000 });
      await res.body.dump().catch(() => undefined);
      base = b;
      break;
    } catch (err) {
      if (signal?.aborted) throw err;
      failures.push((err as Error).message);
    }
  }
  if (!base) {
    if (bases.length > 1) throw new InvalidParameterError(`invalid registry endpoint "${bases[0]!.base}". HTTPS attempt: ${failures[0]}. HTTP attempt: ${failures[1]}`);
    throw new InvalidParameterError(
      `invalid registry endpoint ${bases[0]!.base}: ${failures[0]}. If this private registry supports only HTTP or HTTPS with an unknown CA certificate, add \`--insecure-registry ${index}\` to the daemon's arguments. In the case of HTTPS, if you have access to the registry's CA certificate, no need for the flag; place the CA certificate at /etc/docker/certs.d/${index}/ca.crt`,
    );
  }
  const url = `${base.base}search?q=${encodeURIComponent(remote)}&n=${n}`;
  const headers: Record<string, string> = { 'x-docker-token': 'true' };
  if (auth.username && auth.password) headers.authorization = 'Basic ' + Buffer.from(`${auth.username}:${auth.password}`).toString('base64');
  const res = await deps.transport.send({ method: 'GET', url, headers, tls: base.tls, signal });
  const body = await readBody(res.body, 16 * 1024 * 1024, () => new Error('search response is too large'));
  if (res.status !== 200) throw new Error(`unexpected status code ${res.status}`);
  let parsed: { results?: unknown };
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch (err) {
    throw new TransportError('GET', url, `error decoding registry search results: ${(err as Error).message}`, false);
  }
  const results = Array.isArray(parsed.results) ? parsed.results : [];
  const out: SearchResult[] = [];
  for (const r of results as Array<Record<string, unknown>>) {
    const item: SearchResult = {
      star_count: Number(r.star_count) || 0,
      is_official: r.is_official === true,
      name: String(r.name ?? ''),
      is_automated: false,
      description: String(r.description ?? ''),
    };
    if (isOfficial !== undefined && item.is_official !== isOfficial) continue;
    if (filters.has('stars') && item.star_count < minStars) continue;
    out.push(item);
  }
  return out;
}
