/**
 * The archive routes behind `docker cp`: HEAD (stat), GET (tar out) and PUT
 * (tar in) on /containers/{id}/archive, with the X-Docker-Container-Path-Stat
 * header (base64 of the path's stat as JSON).
 */
import type { Router } from '../router.js';
import { sendStatus, type RequestContext } from '../context.js';
import { boolParam } from '../query.js';
import { InvalidParameterError } from '../../errdefs.js';
import type { Readable, Writable } from 'node:stream';
import type { PathStat } from '../../containers/archive.js';

/** What `docker cp` needs (moby's router/container copy backend). */
export interface ArchiveBackend {
  stat(ref: string, path: string): Promise<PathStat>;
  get(ref: string, path: string, begin: (stat: PathStat) => Writable): Promise<void>;
  put(ref: string, path: string, input: Readable, opts: { noOverwriteDirNonDir: boolean; copyUIDGID: boolean }): Promise<void>;
}

const STAT_HEADER = 'X-Docker-Container-Path-Stat';

function statHeader(s: PathStat): string {
  return Buffer.from(JSON.stringify(s)).toString('base64');
}

function params(ctx: RequestContext): { id: string; path: string } {
  const p = ctx.query.get('path');
  if (p === null) throw new InvalidParameterError('bad parameter: path cannot be empty');
  return { id: decodeURIComponent(ctx.params.id ?? ''), path: p };
}

export function registerArchiveRoutes(r: Router, b: ArchiveBackend): void {
  r.head('/containers/:id/archive', async (ctx) => {
    const { id, path } = params(ctx);
    const stat = await b.stat(id, path);
    const res = ctx.res!;
    res.writeHead(200, { [STAT_HEADER]: statHeader(stat), 'Content-Type': 'application/json', 'Content-Length': 0 });
    res.end();
  });

  r.get('/containers/:id/archive', async (ctx) => {
    const { id, path } = params(ctx);
    const res = ctx.res!;
    await b.get(id, path, (stat) => {
      res.writeHead(200, { [STAT_HEADER]: statHeader(stat), 'Content-Type': 'application/x-tar' });
      return res;
    });
  });

  r.put('/containers/:id/archive', async (ctx) => {
    const { id, path } = params(ctx);
    await b.put(id, path, ctx.req, { noOverwriteDirNonDir: boolParam(ctx.query, 'noOverwriteDirNonDir'), copyUIDGID: boolParam(ctx.query, 'copyUIDGID') });
    sendStatus(ctx, 200);
  });
}
