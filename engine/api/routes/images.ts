/**
 * Image routes. Image names contain slashes (localhost:5000/a/b:1), so the
 * per-image routes are matched with a wildcard and split on their suffix.
 */
import type { Router } from '../router.js';
import { beginStream, sendJson, sendStatus, writeJsonLine, type RequestContext } from '../context.js';
import { boolParam, Filters } from '../query.js';
import { InvalidParameterError, NotFoundError, NotImplementedError } from '../../errdefs.js';
import type { Daemon } from '../../daemon/daemon.js';
import { importRootfs } from '../../images/importer.js';
import { parseReference, validateTag, type Reference } from '../../images/reference.js';
import { registerCommitRoute } from './commit.js';

/** Parses repo + tag query params as the import and tag endpoints do. */
export function repoTag(repo: string, tag: string | null): Reference {
  const ref = parseReference(repo);
  if (tag) {
    validateTag(tag);
    return ref.withTag(tag);
  }
  return ref.tagged();
}

export function registerImageRoutes(r: Router, d: Daemon): void {
  r.get('/images/json', (ctx) => {
    const filters = Filters.parse(ctx.query.get('filters'));
    // Old clients send ?filter=name.
    const legacy = ctx.query.get('filter');
    if (legacy) filters.get('reference').push(legacy);
    sendJson(ctx, 200, d.imageViews.list(filters, boolParam(ctx.query, 'all')));
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
      const img = await importRootfs(d.images, ctx.req, { changes, message: q.get('message') ?? '', ...(plat ? { platform: plat } : {}) });
      if (ref) {
        await d.images.addReference(ref, img.id);
        d.events.publish('image', 'tag', img.id, { name: ref.familiarString() });
      }
      d.events.publish('image', 'import', img.id, { name: img.id });
      const res = beginStream(ctx, 'application/json');
      writeJsonLine(res, { status: img.id });
      res.end();
      return;
    }
    if (fromImage !== null) {
      await d.pull(ctx, fromImage, q.get('tag'), q.get('platform'));
      return;
    }
    throw new InvalidParameterError('either fromImage or fromSrc must be specified');
  });

  const perImage = async (ctx: RequestContext) => {
    const rest = decodeURIComponent(ctx.params['*'] ?? '');
    const method = ctx.req.method;
    if (method === 'DELETE') {
      const items = await d.imageDeleter.delete(rest, boolParam(ctx.query, 'force'), !boolParam(ctx.query, 'noprune'));
      sendJson(ctx, 200, items);
      return;
    }
    const m = /^(.*)\/(json|history|tag|push|get)$/.exec(rest);
    if (!m) throw new NotFoundError('page not found');
    const name = m[1]!;
    switch (`${method} ${m[2]}`) {
      case 'GET json':
      case 'HEAD json':
        sendJson(ctx, 200, d.imageViews.inspect(d.images.lookup(name)));
        return;
      case 'GET history':
        sendJson(ctx, 200, d.imageViews.history(d.images.lookup(name)));
        return;
      case 'POST tag': {
        const img = d.images.lookup(name);
        const repo = ctx.query.get('repo');
        if (!repo) throw new InvalidParameterError('repository name must have at least one component');
        const ref = repoTag(repo, ctx.query.get('tag'));
        if (ref.digest !== undefined) throw new InvalidParameterError('refusing to create a tag with a digest reference');
        await d.images.addReference(ref, img.id);
        d.events.publish('image', 'tag', img.id, { name: ref.familiarString() });
        sendStatus(ctx, 201);
        return;
      }
      case 'POST push':
        await d.push(ctx, name);
        return;
      case 'GET get':
        await d.saveImages(ctx, [name]);
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
    const names = ctx.query.getAll('names');
    await d.saveImages(ctx, names);
  });

  r.post('/images/load', async (ctx) => {
    await d.loadImages(ctx, boolParam(ctx.query, 'quiet'));
  });

  r.post('/images/prune', async (ctx) => {
    const f = Filters.parse(ctx.query.get('filters')).validate(['dangling', 'until', 'label', 'label!']);
    sendJson(ctx, 200, await d.pruneImages(f));
  });

  r.get('/images/search', async (ctx) => {
    await d.search(ctx);
  });

  registerCommitRoute(r, d);
}
