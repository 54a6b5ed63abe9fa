/**
 * The plugins API for a daemon without managed plugins (berthd has none: its volume, network and
 * log drivers are built in). Lookups answer as a dockerd with no plugins installed — an empty
 * list, `plugin "x" not found` — and what would install or build one says it is not supported.
 */
import type { Router } from '../router.js';
import { readBody, sendJson, type Handler } from '../context.js';
import { InvalidParameterError, NotFoundError, NotImplementedError } from '../../errdefs.js';
import { Filters } from '../filters.js';

export const PLUGINS_NOT_SUPPORTED = 'managed plugins are not supported by berthd: its volume, network and log drivers are built in';

function pluginName(path: string, suffix: string): string {
  const rest = decodeURIComponent(path.slice('/plugins/'.length));
  return suffix ? rest.slice(0, -suffix.length) : rest;
}

export function registerPluginRoutes(r: Router): void {
  r.get('/plugins', (ctx) => {
    Filters.parse(ctx.query.get('filters')).validate(['capability', 'enable']);
    sendJson(ctx, 200, []);
  });
  // What installing `remote` would grant: nothing is known (no plugin can be installed here).
  r.get('/plugins/privileges', (ctx) => {
    if (!ctx.query.get('remote')) throw new InvalidParameterError('remote is required');
    sendJson(ctx, 200, []);
  });
  const unsupported: Handler = async (ctx) => {
    await readBody(ctx.req);
    throw new NotImplementedError(PLUGINS_NOT_SUPPORTED);
  };
  r.post('/plugins/pull', unsupported);
  r.post('/plugins/create', unsupported);

  // Everything addressed to one plugin: none exists.
  const perPlugin: Handler = async (ctx) => {
    const m = /\/(json|enable|disable|push|upgrade|set)$/.exec(ctx.path);
    const method = ctx.req.method;
    const action = m?.[1] ?? '';
    const ok = (method === 'GET' && action === 'json') || (method === 'POST' && ['enable', 'disable', 'push', 'upgrade', 'set'].includes(action)) || (method === 'DELETE' && !m);
    if (!ok) throw new NotFoundError('page not found');
    await readBody(ctx.req);
    const name = pluginName(ctx.path, m ? `/${action}` : '');
    throw new NotFoundError(`plugin ${JSON.stringify(name)} not found`);
  };
  r.get('/plugins/*', perPlugin);
  r.post('/plugins/*', perPlugin);
  r.delete('/plugins/*', perPlugin);
}
