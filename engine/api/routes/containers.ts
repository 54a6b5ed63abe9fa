/**
 * Container routes: create, list, inspect, lifecycle, logs, attach, wait, top, stats,
 * export, changes, update, prune, and exec. Each handler decodes the request, calls the
 * ContainerBackend below with plain options (and an output sink for streams), and encodes
 * the answer; the backend never sees HTTP.
 */
import type { Writable } from 'node:stream';
import type { Router } from '../router.js';
import { beginStream, readBody, readJson, sendJson, sendStatus, versionLess, writeJsonLine, type RequestContext } from '../context.js';
import { boolParam, intParam } from '../query.js';
import { Filters, parseTimestampNanos } from '../filters.js';
import { clientStreams, hijack, readUpgradeBody } from '../streams/hijack.js';
import { MULTIPLEXED, RAW_STREAM } from '../streams/multiplex.js';
import { StreamWriter } from '../streams/writer.js';
import { ConflictError, InvalidParameterError, NotFoundError } from '../../errdefs.js';
import type { ContainerInspect, ContainerSummary, ExecInspect, WaitResponse } from '../types.js';
import type { WaitCondition } from '../../containers/container.js';
import { parseDetachKeys } from '../../containers/attach.js';
import { parseCreateBody, type CreateBody } from '../../containers/create-request.js';
import { parseExecConfig, type ExecConfig } from '../../containers/exec.js';
import type { AttachRequest, AttachSession, LogsOptions, LogsStream } from '../../containers/output.js';
import type { StopOptions, UpdateConfig } from '../../containers/service.js';
import type { StatsJson } from '../../containers/introspection.js';
import type { ClientStreams } from '../../containers/streams.js';
import type { ListOptions } from '../../containers/views.js';

/** What the container routes need (moby's router/container/backend.go). */
export interface ContainerBackend {
  /** Throws "No such container" (404) unless `ref` names a container. */
  check(ref: string): void;
  create(body: CreateBody, name: string | null): Promise<{ Id: string; Warnings: string[] }>;
  list(opts: ListOptions): ContainerSummary[];
  inspect(ref: string, size: boolean): ContainerInspect;
  start(ref: string): Promise<void>;
  stop(ref: string, opts: StopOptions): Promise<void>;
  restart(ref: string, opts: StopOptions): Promise<void>;
  kill(ref: string, signal: string | undefined): Promise<void>;
  pause(ref: string): Promise<void>;
  unpause(ref: string): Promise<void>;
  rename(ref: string, name: string): Promise<void>;
  update(ref: string, body: UpdateConfig): Promise<string[]>;
  remove(ref: string, opts: { force: boolean; volumes: boolean }): Promise<void>;
  /** The full ID of the container `ref` names, if any. */
  idOf(ref: string): string | undefined;
  /** `rm --link`: removes the link named "parent/alias". */
  removeLink(linkName: string): Promise<void>;
  wait(ref: string, condition: WaitCondition): Promise<WaitResponse>;
  resize(ref: string, height: number, width: number): void;
  logs(ref: string, opts: LogsOptions): LogsStream;
  attach(ref: string, opts: AttachRequest): AttachSession;
  top(ref: string, psArgs: string): Promise<{ Titles: string[]; Processes: string[][] }>;
  stats(ref: string, opts: { stream: boolean; oneShot: boolean }, emit: (s: StatsJson) => void, signal: AbortSignal): Promise<void>;
  changes(ref: string): Promise<Array<{ Path: string; Kind: 0 | 1 | 2 }> | null>;
  export(ref: string, open: () => Writable): Promise<void>;
  prune(filters: Filters): Promise<{ ContainersDeleted: string[]; SpaceReclaimed: number }>;
  execCreate(ref: string, config: ExecConfig): string;
  execInspect(id: string): ExecInspect;
  execResize(id: string, height: number, width: number): void;
  execStart(id: string, opts: { detach: boolean; tty?: boolean; consoleSize?: [number, number] | null }, client?: ClientStreams): Promise<void>;
}

function containerId(ctx: RequestContext): string {
  return decodeURIComponent(ctx.params.id ?? '');
}

function stopOpts(ctx: RequestContext): StopOptions {
  const t = ctx.query.get('t') ?? ctx.query.get('timeout');
  const opts: StopOptions = {};
  if (t !== null && t !== '') {
    const n = Number(t);
    if (!Number.isInteger(n)) throw new InvalidParameterError(`invalid value for timeout: ${t}`);
    opts.timeout = n;
  }
  const sig = ctx.query.get('signal');
  if (sig) opts.signal = sig;
  return opts;
}

/** An abort signal for the life of a streamed response. */
function untilClosed(res: { once(ev: 'close', fn: () => void): unknown }): AbortSignal {
  const abort = new AbortController();
  res.once('close', () => abort.abort());
  return abort.signal;
}

export function registerContainerRoutes(r: Router, b: ContainerBackend): void {
  r.post('/containers/create', async (ctx) => {
    const body = parseCreateBody(await readJson(ctx));
    const name = ctx.query.get('name');
    sendJson(ctx, 201, await b.create(body, name && name !== '' ? name : null));
  });

  r.get('/containers/json', (ctx) => {
    sendJson(
      ctx,
      200,
      b.list({ all: boolParam(ctx.query, 'all'), limit: intParam(ctx.query, 'limit', -1), size: boolParam(ctx.query, 'size'), filters: Filters.parse(ctx.query.get('filters')) }),
    );
  });

  r.get('/containers/:id/json', (ctx) => {
    sendJson(ctx, 200, b.inspect(containerId(ctx), boolParam(ctx.query, 'size')));
  });

  r.post('/containers/:id/start', async (ctx) => {
    const dk = ctx.query.get('detachKeys');
    if (dk) parseDetachKeys(dk);
    await b.start(containerId(ctx));
    sendStatus(ctx, 204);
  });

  r.post('/containers/:id/stop', async (ctx) => {
    await b.stop(containerId(ctx), stopOpts(ctx));
    sendStatus(ctx, 204);
  });

  r.post('/containers/:id/restart', async (ctx) => {
    await b.restart(containerId(ctx), stopOpts(ctx));
    sendStatus(ctx, 204);
  });

  r.post('/containers/:id/kill', async (ctx) => {
    await b.kill(containerId(ctx), ctx.query.get('signal') || undefined);
    sendStatus(ctx, 204);
  });

  r.post('/containers/:id/pause', async (ctx) => {
    await b.pause(containerId(ctx));
    sendStatus(ctx, 204);
  });

  r.post('/containers/:id/unpause', async (ctx) => {
    await b.unpause(containerId(ctx));
    sendStatus(ctx, 204);
  });

  r.post('/containers/:id/rename', async (ctx) => {
    await b.rename(containerId(ctx), ctx.query.get('name') ?? '');
    sendStatus(ctx, 204);
  });

  r.post('/containers/:id/update', async (ctx) => {
    const body = ((await readJson(ctx)) ?? {}) as UpdateConfig;
    if (typeof body !== 'object' || Array.isArray(body)) throw new InvalidParameterError('json: cannot unmarshal into Go value of type container.UpdateConfig');
    sendJson(ctx, 200, { Warnings: await b.update(containerId(ctx), body) });
  });

  r.delete('/containers/:id', async (ctx) => {
    if (boolParam(ctx.query, 'link')) throw new ConflictError('Conflict, cannot remove the default link name of the container');
    const ref = containerId(ctx);
    try {
      await b.remove(ref, { force: boolParam(ctx.query, 'force'), volumes: boolParam(ctx.query, 'v') });
    } catch (err) {
      // Clients of API < 1.44 (docker-py 5, compose v1) match dockerd 20.10's wording.
      const m = err instanceof ConflictError && versionLess(ctx.version, '1.44') ? /container is (running|restarting): stop the container/.exec(err.message) : null;
      const id = m ? b.idOf(ref) : undefined;
      if (m && id) throw new ConflictError(`You cannot remove a ${m[1]} container ${id}. Stop the container before attempting removal or force remove`);
      throw err;
    }
    sendStatus(ctx, 204);
  });

  // A link name ("parent/alias"): only `rm --link` may remove one.
  r.delete('/containers/:id/:alias', async (ctx) => {
    const linkName = `${decodeURIComponent(ctx.params.id!)}/${decodeURIComponent(ctx.params.alias!)}`;
    if (!boolParam(ctx.query, 'link')) throw new NotFoundError(`No such container: ${linkName}`);
    await b.removeLink(linkName);
    sendStatus(ctx, 204);
  });

  r.post('/containers/:id/wait', async (ctx) => {
    const cond = (ctx.query.get('condition') || 'not-running') as WaitCondition;
    if (!['not-running', 'next-exit', 'removed'].includes(cond)) throw new InvalidParameterError(`invalid condition: "${cond}"`);
    const result = b.wait(containerId(ctx), cond);
    // Headers first: the CLI sends start only after it has them.
    const res = beginStream(ctx, 'application/json');
    const closed = new Promise<void>((resolve) => res.once('close', () => resolve()));
    const outcome = await Promise.race([result, closed.then(() => undefined)]);
    if (outcome && !res.writableEnded) res.end(JSON.stringify(outcome) + '\n');
  });

  r.post('/containers/:id/resize', (ctx) => {
    const id = containerId(ctx);
    b.check(id);
    b.resize(id, intParam(ctx.query, 'h', 0)!, intParam(ctx.query, 'w', 0)!);
    sendStatus(ctx, 200);
  });

  r.get('/containers/:id/logs', async (ctx) => {
    const q = ctx.query;
    const id = containerId(ctx);
    const stdout = boolParam(q, 'stdout');
    const stderr = boolParam(q, 'stderr');
    const logs = () => {
      if (!stdout && !stderr) throw new InvalidParameterError('Bad parameters: you must choose at least one stream');
      const tailRaw = q.get('tail');
      let tail: number | undefined;
      if (tailRaw && tailRaw !== 'all') {
        const n = Number(tailRaw);
        if (Number.isInteger(n) && n >= 0) tail = n;
      }
      const since = q.get('since');
      const until = q.get('until');
      return b.logs(id, {
        stdout,
        stderr,
        follow: boolParam(q, 'follow'),
        tail,
        since: since && since !== '0' ? parseTimestampNanos(since) : undefined,
        until: until && until !== '0' ? parseTimestampNanos(until) : undefined,
        timestamps: boolParam(q, 'timestamps'),
      });
    };
    // A missing container is a 404 before a bad stream choice is a 400.
    b.check(id);
    const stream = logs();
    const res = beginStream(ctx, stream.tty ? RAW_STREAM : MULTIPLEXED);
    await stream.stream(new StreamWriter(res, stream.tty), untilClosed(res));
    res.end();
  });

  r.post('/containers/:id/attach', async (ctx) => {
    const q = ctx.query;
    const id = containerId(ctx);
    b.check(id);
    const detachKeys = parseDetachKeys(q.get('detachKeys') ?? undefined);
    const session = b.attach(id, { stdin: boolParam(q, 'stdin'), stdout: boolParam(q, 'stdout'), stderr: boolParam(q, 'stderr'), logs: boolParam(q, 'logs'), stream: boolParam(q, 'stream'), detachKeys });
    // docker-modem sends its options as a JSON body; dockerd drops it (it never reaches stdin).
    const jsonBody = String(ctx.req.headers['content-type'] ?? '').startsWith('application/json');
    if (ctx.upgrade) await readUpgradeBody(ctx);
    else if (jsonBody) await readBody(ctx.req);
    await session.run(clientStreams(hijack(ctx, session.tty ? RAW_STREAM : MULTIPLEXED), session.tty));
  });

  r.get('/containers/:id/top', async (ctx) => {
    sendJson(ctx, 200, await b.top(containerId(ctx), ctx.query.get('ps_args') || '-ef'));
  });

  r.get('/containers/:id/stats', async (ctx) => {
    const id = containerId(ctx);
    b.check(id);
    const stream = boolParam(ctx.query, 'stream', true);
    const oneShot = boolParam(ctx.query, 'one-shot');
    if (oneShot && stream) throw new InvalidParameterError('cannot have stream=true and one-shot=true');
    const res = beginStream(ctx, 'application/json');
    await b.stats(id, { stream, oneShot }, (s) => writeJsonLine(res, s), untilClosed(res));
    if (!res.writableEnded) res.end();
  });

  r.get('/containers/:id/changes', async (ctx) => {
    sendJson(ctx, 200, await b.changes(containerId(ctx)));
  });

  r.get('/containers/:id/export', async (ctx) => {
    await b.export(containerId(ctx), () => {
      const res = ctx.res!;
      res.writeHead(200, { 'Content-Type': 'application/x-tar' });
      return res;
    });
  });

  r.post('/containers/prune', async (ctx) => {
    const f = Filters.parse(ctx.query.get('filters')).validate(['until', 'label', 'label!']);
    sendJson(ctx, 200, await b.prune(f));
  });

  // ---- exec ----
  r.post('/containers/:id/exec', async (ctx) => {
    const body = await readJson(ctx);
    const id = containerId(ctx);
    // 404 for a missing container before the body's own errors.
    b.check(id);
    sendJson(ctx, 201, { Id: b.execCreate(id, parseExecConfig(body)) });
  });

  r.get('/exec/:id/json', (ctx) => {
    sendJson(ctx, 200, b.execInspect(ctx.params.id!));
  });

  r.post('/exec/:id/resize', (ctx) => {
    b.execResize(ctx.params.id!, intParam(ctx.query, 'h', 0)!, intParam(ctx.query, 'w', 0)!);
    sendStatus(ctx, 200);
  });

  r.post('/exec/:id/start', async (ctx) => {
    const raw = ctx.upgrade ? await readUpgradeBody(ctx) : undefined;
    let body: Record<string, unknown> = {};
    if (raw && raw.length > 0) {
      try {
        body = JSON.parse(raw.toString('utf8')) as Record<string, unknown>;
      } catch (err) {
        throw new InvalidParameterError(`invalid JSON: ${(err as Error).message}`);
      }
    } else if (!ctx.upgrade) {
      body = ((await readJson(ctx)) as Record<string, unknown> | undefined) ?? {};
    }
    const id = ctx.params.id!;
    const info = b.execInspect(id);
    if (info.Running || info.ExitCode !== null) throw new ConflictError(`Error: Exec command ${id} is already running`);
    const consoleSize = Array.isArray(body.ConsoleSize) && body.ConsoleSize.length === 2 ? ([Number(body.ConsoleSize[0]), Number(body.ConsoleSize[1])] as [number, number]) : null;
    if (body.Detach === true) {
      await b.execStart(id, { detach: true, consoleSize });
      if (ctx.upgrade) hijack(ctx, RAW_STREAM).end();
      else sendStatus(ctx, 200);
      return;
    }
    // The start request's Tty alone picks the framing (moby's router), whatever the exec was created
    // with: docker-py starts a terminal exec with Tty false and demultiplexes its output.
    const tty = body.Tty === true;
    await b.execStart(id, { detach: false, tty, consoleSize }, clientStreams(hijack(ctx, tty ? RAW_STREAM : MULTIPLEXED), tty));
  });
}
