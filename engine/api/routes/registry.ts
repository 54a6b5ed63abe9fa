/**
 * Registry routes that are not image routes: `POST /auth` (docker login:
 * the credentials are checked against the registry and forgotten) and
 * `GET /distribution/{name}/json` (manifest descriptor and platforms).
 */
import type { Router } from '../router.js';
import { readJson, sendJson } from '../context.js';
import { InvalidParameterError, NotFoundError } from '../../errdefs.js';
import { decodeAuthHeader, type AuthConfig } from '../../registry/authconfig.js';

/** What the registry routes need. */
export interface RegistryBackend {
  login(body: unknown): Promise<{ Status: string; IdentityToken: string }>;
  distributionInspect(name: string, auth: AuthConfig): Promise<unknown>;
}

export function registerRegistryRoutes(r: Router, b: RegistryBackend): void {
  r.post('/auth', async (ctx) => {
    const body = await readJson(ctx);
    if (body === undefined) throw new InvalidParameterError('invalid JSON: EOF');
    sendJson(ctx, 200, await b.login(body));
  });

  r.get('/distribution/*', async (ctx) => {
    const rest = decodeURIComponent(ctx.params['*'] ?? '');
    const m = /^(.+)\/json$/.exec(rest);
    if (!m) throw new NotFoundError('page not found');
    sendJson(ctx, 200, await b.distributionInspect(m[1]!, decodeAuthHeader(ctx.req.headers['x-registry-auth'])));
  });
}
