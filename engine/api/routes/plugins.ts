/**
 * The plugins API. berthd has no plugin runtime (its volume, network and log drivers are built
 * in), but a plugin made with `docker plugin create` is stored, listed, inspected and removed as
 * dockerd does (engine/plugins/store.ts); enabling one says why it cannot be, and installing from
 * a registry (pull, upgrade, push) is not supported.
 */
import type { Router } from '../router.js';
import { readBody, sendJson, sendStatus, type Handler } from '../context.js';
import { InvalidParameterError, NotFoundError, NotImplementedError } from '../../errdefs.js';
import { Filters } from '../filters.js';

export const PLUGINS_NOT_SUPPORTED = 'installing plugins from a registry is not supported by berthd: its volume, network and log drivers are built in, and it has no plugin runtime';

/** The API's plugin object (moby's types.Plugin). */
export interface PluginView {
  Id: string;
  Name: string;
  Enabled: boolean;
  Settings: unknown;
  PluginReference: string;
  Config: unknown;
}

export interface PluginBackend {
  list(filter: { capability?: string[]; enabled?: boolean }): PluginView[];
  get(refOrId: string): PluginView;
  create(name: string, context: Buffer): Promise<unknown>;
  remove(refOrId: string): Promise<void>;
  enable(refOrId: string): never;
  disable(refOrId: string): never;
}

/** A plugin context (config.json + rootfs) may be large; dockerd streams it, berthd caps it. */
const MAX_PLUGIN_CONTEXT = 1024 * 1024 * 1024;

function pluginName(path: string, suffix: string): string {
  const rest = decodeURIComponent(path.slice('/plugins/'.length));
  return suffix ? rest.slice(0, -suffix.length) : rest;
}

export function registerPluginRoutes(r: Router, b: PluginBackend): void {
  r.get('/plugins', (ctx) => {
    const f = Filters.parse(ctx.query.get('filters'));
    f.validate(['capability', 'enabled']);
    const enable = f.get('enabled');
    let enabled: boolean | undefined;
    if (enable.length > 0) {
      if (enable.some((v) => v !== 'true' && v !== 'false')) throw new InvalidParameterError(`Invalid filter 'enabled=${enable.join(',')}'`);
      if (!(enable.includes('true') && enable.includes('false'))) enabled = enable[0] === 'true';
    }
    sendJson(ctx, 200, b.list({ capability: f.get('capability'), ...(enabled !== undefined ? { enabled } : {}) }));
  });
  // What installing `remote` would grant: nothing is known (nothing is installed from a registry here).
  r.get('/plugins/privileges', (ctx) => {
    if (!ctx.query.get('remote')) throw new InvalidParameterError('remote is required');
    sendJson(ctx, 200, []);
  });
  const unsupported: Handler = async (ctx) => {
    await readBody(ctx.req);
    throw new NotImplementedError(PLUGINS_NOT_SUPPORTED);
  };
  r.post('/plugins/pull', unsupported);
  r.post('/plugins/create', async (ctx) => {
    const name = ctx.query.get('name') ?? '';
    const body = await readBody(ctx.req, MAX_PLUGIN_CONTEXT);
    await b.create(name, body);
    sendStatus(ctx, 204);
  });

  const perPlugin: Handler = async (ctx) => {
    const m = /\/(json|enable|disable|push|upgrade|set)$/.exec(ctx.path);
    const method = ctx.req.method;
    const action = m?.[1] ?? '';
    const ok = (method === 'GET' && action === 'json') || (method === 'POST' && ['enable', 'disable', 'push', 'upgrade', 'set'].includes(action)) || (method === 'DELETE' && !m);
    if (!ok) throw new NotFoundError('page not found');
    await readBody(ctx.req, action === 'upgrade' ? MAX_PLUGIN_CONTEXT : undefined);
    const name = pluginName(ctx.path, m ? `/${action}` : '');
    if (method === 'GET') return sendJson(ctx, 200, b.get(name));
    if (method === 'DELETE') {
      await b.remove(name);
      return sendStatus(ctx, 200);
    }
    if (action === 'enable') b.enable(name);
    if (action === 'disable') b.disable(name);
    // push, upgrade, set: the plugin must exist (404 first, as dockerd), then: not supported.
    b.get(name);
    throw new NotImplementedError(`${action} of plugins is not supported by berthd: it has no plugin runtime`);
  };
  r.get('/plugins/*', perPlugin);
  r.post('/plugins/*', perPlugin);
  r.delete('/plugins/*', perPlugin);
}
