/**
 * Image routes. Image names contain slashes (localhost:5000/a/b:1), so the
 * per-image routes are matched with a wildcard and split on their suffix.
 */
import type { Readable, Writable } from 'node:stream';
import type { Router } from '../router.js';
import { beginStream, sendJson, sendStatus, versionLess, writeJsonLine, type RequestContext } from '../context.js';
import { boolParam } from '../query.js';
import { Filters } from '../filters.js';
import { HttpJsonLines } from '../streams/json-lines.js';
import type { ImageDeleteItem, ImageHistoryItem, ImageInspect, ImageSummary } from '../types.js';
import { InvalidParameterError, NotFoundError, NotImplementedError } from '../../errdefs.js';
import type { ImportOptions } from '../../images/importer.js';
import type { PruneReport } from '../../images/prune.js';
import { parseReference, validateTag, type Reference } from '../../images/reference.js';
import type { JsonLineOutput } from '../../progress/jsonmessage.js';
import { decodeAuthHeader } from '../../registry/authconfig.js';
import type { PullOptions, PushOptions, SearchOptions } from '../../registry/service.js';
import type { SearchResult } from '../../registry/search.js';

/** What the image routes need (moby's router/image/backend.go). */
export interface ImageBackend {
  list(filters: Filters, all: boolean): ImageSummary[];
  /** `legacyFields`: Container and ContainerConfig, for clients below API 1.45; `belowApi150`: every unset config field shown. */
  inspect(name: string, opts?: { legacyFields?: boolean; belowApi150?: boolean }): ImageInspect;
  history(name: string): ImageHistoryItem[];
  tag(name: string, ref: Reference): Promise<void>;
  remove(name: string, force: boolean, prune: boolean): Promise<ImageDeleteItem[]>;
  /** `docker import`: returns the new image's ID. */
  import(input: Readable, opts: ImportOptions, ref: Reference | undefined): Promise<string>;
  pull(opts: PullOptions, out: JsonLineOutput): Promise<void>;
  push(opts: PushOptions, out: JsonLineOutput): Promise<void>;
  save(names: string[], open: () => Writable): Promise<void>;
  load(input: Readable, quiet: boolean, out: JsonLineOutput): Promise<void>;
  prune(filters: Filters): Promise<PruneReport>;
  search(opts: SearchOptions): Promise<SearchResult[]>;
}

/** Parses repo + tag query params as the import and tag endpoints do. */
export function repoTag(repo: string, tag: string | null): Reference {
  const ref = parseReference(repo);
  if (tag) {
    validateTag(tag);
    return ref.withTag(tag);
  }
  return ref.tagged();
}

export function registerImageRoutes(r: Router, b: ImageBackend): void {
  r.get('/images/json', (ctx) => {
    const filters = Filters.parse(ctx.query.get('filters'));
    // Old clients send ?filter=name.
    const legacy = ctx.query.get('filter');
    if (legacy) filters.get('reference').push(legacy);
    sendJson(ctx, 200, b.list(filters, boolParam(ctx.query, 'all')));
  });

  r.post('/images/create', async (ctx) => {
    const q = ctx.query;
    const fromSrc = q.get('fromSrc');
    const fromImage = q.get('fromImage');
    if (fromSrc !== null) {
      if (fromSrc !== '-') throw new NotImplementedError('importing from a URL is not supported; pipe the archive to `docker import -`');
      const repo = q.get('repo') ?? '';
      const ref = repo ? repoTag(repo, q.get('tag')) : undefined;
      if (repo && parseReference(repo).digest !== undefined) throw new InvalidParameterError('cannot import digest reference');
      const changes = q.getAll('changes');
      const platform = q.get('platform');
      let plat;
      if (platform) {
        const [os = 'linux', architecture = '', variant] = platform.split('/');
        plat = { os, architecture, ...(variant ? { variant } : {}) };
      }
      const id = await b.import(ctx.req, { changes, message: q.get('message') ?? '', ...(plat ? { platform: plat } : {}) }, ref);
      const res = beginStream(ctx, 'application/json');
      writeJsonLine(res, { status: id });
      res.end();
      return;
    }
    if (fromImage !== null) {
      const out = new HttpJsonLines(ctx);
      await b.pull({ fromImage, tag: q.get('tag'), platform: q.get('platform'), auth: decodeAuthHeader(ctx.req.headers['x-registry-auth']), signal: out.signal }, out);
      return;
    }
    throw new InvalidParameterError('either fromImage or fromSrc must be specified');
  });

  const perImage = async (ctx: RequestContext) => {
    const rest = decodeURIComponent(ctx.params['*'] ?? '');
    const method = ctx.req.method;
    if (method === 'DELETE') {
      const items = await b.remove(rest, boolParam(ctx.query, 'force'), !boolParam(ctx.query, 'noprune'));
      sendJson(ctx, 200, items);
      return;
    }
    const m = /^(.*)\/(json|history|tag|push|get)$/.exec(rest);
    if (!m) throw new NotFoundError('page not found');
    const name = m[1]!;
    switch (`${method} ${m[2]}`) {
      case 'GET json':
      case 'HEAD json':
        sendJson(ctx, 200, b.inspect(name, { legacyFields: versionLess(ctx.version, '1.45'), belowApi150: versionLess(ctx.version, '1.50') }));
        return;
      case 'GET history':
        sendJson(ctx, 200, b.history(name));
        return;
      case 'POST tag': {
        b.inspect(name);
        const repo = ctx.query.get('repo');
        if (!repo) throw new InvalidParameterError('repository name must have at least one component');
        const ref = repoTag(repo, ctx.query.get('tag'));
        if (ref.digest !== undefined) throw new InvalidParameterError('refusing to create a tag with a digest reference');
        await b.tag(name, ref);
        sendStatus(ctx, 201);
        return;
      }
      case 'POST push': {
        const out = new HttpJsonLines(ctx);
        await b.push({ name, tag: ctx.query.get('tag'), auth: decodeAuthHeader(ctx.req.headers['x-registry-auth']), signal: out.signal }, out);
        return;
      }
      case 'GET get':
        await b.save([name], () => beginStream(ctx, 'application/x-tar'));
        return;
      default:
        throw new NotFoundError('page not found');
    }
  };
  r.get('/images/*', perImage);
  r.head('/images/*', perImage);
  r.post('/images/*', perImage);
  r.delete('/images/*', perImage);

  r.get('/images/get', async (ctx) => {
    await b.save(ctx.query.getAll('names'), () => beginStream(ctx, 'application/x-tar'));
  });

  r.post('/images/load', async (ctx) => {
    await b.load(ctx.req, boolParam(ctx.query, 'quiet'), new HttpJsonLines(ctx));
  });

  r.post('/images/prune', async (ctx) => {
    const f = Filters.parse(ctx.query.get('filters')).validate(['dangling', 'until', 'label', 'label!']);
    sendJson(ctx, 200, await b.prune(f));
  });

  r.get('/images/search', async (ctx) => {
    const q = ctx.query;
    const rawLimit = q.get('limit');
    let limit = 0;
    if (rawLimit !== null && rawLimit !== '') {
      if (!/^\d+$/.test(rawLimit)) throw new InvalidParameterError(`invalid limit specified: strconv.Atoi: parsing ${JSON.stringify(rawLimit)}: invalid syntax`);
      limit = Number(rawLimit);
    }
    const filters = Filters.parse(q.get('filters')).validate(['is-automated', 'is-official', 'stars']);
    sendJson(ctx, 200, await b.search({ term: q.get('term') ?? '', limit, filters, auth: decodeAuthHeader(ctx.req.headers['x-registry-auth']) }));
  });
}
