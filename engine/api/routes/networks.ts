/** Network routes: list, inspect, create, remove, connect, disconnect, prune. */
import type { Router } from '../router.js';
import { readJson, sendJson, sendStatus, versionLess, type RequestContext } from '../context.js';
import { Filters } from '../filters.js';
import { InvalidParameterError } from '../../errdefs.js';
import type { NetworkCreateRequest } from '../../network/manager.js';
import { networkFilterKeys, type NetworkJson } from '../../network/views.js';
import type { EndpointSettings } from '../types.js';

/** What the network routes need (moby's router/network/backend.go). */
export interface NetworkBackend {
  list(filters: Filters): NetworkJson[];
  inspect(ref: string): NetworkJson;
  create(req: NetworkCreateRequest, opts?: { allowDuplicate?: boolean }): Promise<{ Id: string; Warning: string }>;
  remove(ref: string): Promise<void>;
  connect(ref: string, container: string, endpoint: Partial<EndpointSettings> | null | undefined): Promise<void>;
  disconnect(ref: string, container: string, force: boolean): Promise<void>;
  prune(filters: Filters): Promise<{ NetworksDeleted: string[] }>;
}

function networkId(ctx: RequestContext): string {
  return decodeURIComponent(ctx.params.id ?? '');
}

function objectBody(body: unknown, what: string): Record<string, unknown> {
  if (body === undefined) return {};
  if (body === null || typeof body !== 'object' || Array.isArray(body)) throw new InvalidParameterError(`json: cannot unmarshal ${Array.isArray(body) ? 'array' : typeof body} into Go value of type ${what}`);
  return body as Record<string, unknown>;
}

export function registerNetworkRoutes(r: Router, b: NetworkBackend): void {
  r.get('/networks', (ctx) => {
    const f = Filters.parse(ctx.query.get('filters')).validate(networkFilterKeys);
    sendJson(ctx, 200, b.list(f));
  });

  r.get('/networks/:id', (ctx) => {
    sendJson(ctx, 200, b.inspect(networkId(ctx)));
  });

  r.post('/networks/create', async (ctx) => {
    const body = objectBody(await readJson(ctx), 'network.CreateRequest') as NetworkCreateRequest;
    if (body.Name !== undefined && typeof body.Name !== 'string') throw new InvalidParameterError('json: cannot unmarshal into Go struct field CreateRequest.Name of type string');
    // CheckDuplicate: false still allowed a second network of the same name below API 1.44 (moby ignores it since).
    const allowDuplicate = versionLess(ctx.version, '1.44') && (body as { CheckDuplicate?: unknown }).CheckDuplicate === false;
    sendJson(ctx, 201, await b.create(body, { allowDuplicate }));
  });

  r.delete('/networks/:id', async (ctx) => {
    await b.remove(networkId(ctx));
    sendStatus(ctx, 204);
  });

  r.post('/networks/:id/connect', async (ctx) => {
    const body = objectBody(await readJson(ctx), 'network.ConnectOptions') as { Container?: string; EndpointConfig?: Partial<EndpointSettings> | null };
    if (!body.Container) throw new InvalidParameterError('container ID or name is required');
    await b.connect(networkId(ctx), body.Container, body.EndpointConfig);
    sendStatus(ctx, 200);
  });

  r.post('/networks/:id/disconnect', async (ctx) => {
    const body = objectBody(await readJson(ctx), 'network.DisconnectOptions') as { Container?: string; Force?: boolean };
    if (!body.Container) throw new InvalidParameterError('container ID or name is required');
    await b.disconnect(networkId(ctx), body.Container, body.Force ?? false);
    sendStatus(ctx, 200);
  });

  r.post('/networks/prune', async (ctx) => {
    const f = Filters.parse(ctx.query.get('filters')).validate(['until', 'label', 'label!']);
    sendJson(ctx, 200, await b.prune(f));
  });
}
