/**
 * Registry routes that are not image routes: `POST /auth` (docker login:
 * the credentials are checked against the registry and forgotten) and
 * `GET /distribution/{name}/json` (manifest descriptor and platforms).
 */
import type { Router } from '../router.js';
import { readJson, sendJson } from '../context.js';
import { InvalidParameterError, NotFoundError } from '../../errdefs.js';
import type { Daemon } from '../../daemon/daemon.js';

export function registerRegistryRoutes(r: Router, d: Daemon): void {
  r.post('/auth', async (ctx) => {
    const body = await readJson(ctx);
    if (body === undefined) throw new InvalidParameterError('invalid JSON: EOF');
    sendJson(ctx, 200, await (await d.registry()).login(body));
  });

  r.get('/distribution/*', async (ctx) => {
    const rest = decodeURIComponent(ctx.params['*'] ?? '');
    const m = /^(.+)\/json$/.exec(rest);
    if (!m) throw new NotFoundError('page not found');
    sendJson(ctx, 200, await (await d.registry()).inspect(m[1]!, ctx.req.headers['x-registry-auth']));
  });
}
