/**
 * Container routes: create, list, inspect, lifecycle, logs, attach, wait,
 * top, stats, export, changes, update, prune, and exec.
 */
import type { Router } from '../router.js';
import { beginStream, readBody, readJson, sendJson, sendStatus, writeJsonLine, type RequestContext } from '../context.js';
import { boolParam, Filters, intParam, parseTimestampNanos } from '../query.js';
import { hijack, readUpgradeBody } from '../streams/hijack.js';
import { MULTIPLEXED, RAW_STREAM } from '../streams/multiplex.js';
import { StreamWriter } from '../streams/writer.js';
import { ConflictError, InvalidParameterError } from '../../errdefs.js';
import type { Daemon } from '../../daemon/daemon.js';
import type { WaitCondition } from '../../containers/container.js';
import { nanosToLogTime, readLogs } from '../../containers/logs.js';
import { parseDetachKeys, runAttach } from '../../containers/attach.js';
import { resizeTerminal } from '../../containers/monitor.js';
import type { HostConfig } from '../types.js';

function containerId(ctx: RequestContext): string {
  return decodeURIComponent(ctx.params.id ?? '');
}

export function registerContainerRoutes(r: Router, d: Daemon): void {
  const svc = d.containers;

  r.post('/containers/create', async (ctx) => {
    const body = await readJson(ctx);
    const name = ctx.query.get('name');
    const created = await svc.create(body, name && name !== '' ? name : null);
    sendJson(ctx, 201, created);
  });

  r.get('/containers/json', (ctx) => {
    const list = d.views.list({
      all: boolParam(ctx.query, 'all'),
      limit: intParam(ctx.query, 'limit', -1),
      size: boolParam(ctx.query, 'size'),
      filters: Filters.parse(ctx.query.get('filters')),
    });
    sendJson(ctx, 200, list);
  });

  r.get('/containers/:id/json', (ctx) => {
    const c = svc.store.get(containerId(ctx));
    sendJson(ctx, 200, d.views.inspect(c, boolParam(ctx.query, 'size')));
  });

  r.post('/containers/:id/start', async (ctx) => {
    const dk = ctx.query.get('detachKeys');
    if (dk) parseDetachKeys(dk);
    await svc.start(containerId(ctx));
    sendStatus(ctx, 204);
  });

  const stopOpts = (ctx: RequestContext) => {
    const t = ctx.query.get('t') ?? ctx.query.get('timeout');
    const opts: { timeout?: number; signal?: string } = {};
    if (t !== null && t !== '') {
      const n = Number(t);
      if (!Number.isInteger(n)) throw new InvalidParameterError(`invalid value for timeout: ${t}`);
      opts.timeout = n;
    }
    const sig = ctx.query.get('signal');
    if (sig) opts.signal = sig;
    return opts;
  };

  r.post('/containers/:id/stop', async (ctx) => {
    await svc.stop(containerId(ctx), stopOpts(ctx));
    sendStatus(ctx, 204);
  });

  r.post('/containers/:id/restart', async (ctx) => {
    await svc.restart(containerId(ctx), stopOpts(ctx));
    sendStatus(ctx, 204);
  });

  r.post('/containers/:id/kill', async (ctx) => {
    await svc.kill(containerId(ctx), ctx.query.get('signal') || undefined);
    sendStatus(ctx, 204);
  });

  r.post('/containers/:id/pause', async (ctx) => {
    await svc.pause(containerId(ctx));
    sendStatus(ctx, 204);
  });

  r.post('/containers/:id/unpause', async (ctx) => {
    await svc.unpause(containerId(ctx));
    sendStatus(ctx, 204);
  });

  r.post('/containers/:id/rename', async (ctx) => {
    await svc.rename(containerId(ctx), ctx.query.get('name') ?? '');
    sendStatus(ctx, 204);
  });

  r.post('/containers/:id/update', async (ctx) => {
    const body = ((await readJson(ctx)) ?? {}) as Partial<HostConfig>;
    if (typeof body !== 'object' || Array.isArray(body)) throw new InvalidParameterError('json: cannot unmarshal into Go value of type container.UpdateConfig');
    const warnings = await svc.update(containerId(ctx), body);
    sendJson(ctx, 200, { Warnings: warnings });
  });

  r.delete('/containers/:id', async (ctx) => {
    if (boolParam(ctx.query, 'link')) throw new ConflictError('Conflict, cannot remove the default link name of the container');
    await svc.remove(containerId(ctx), { force: boolParam(ctx.query, 'force'), volumes: boolParam(ctx.query, 'v') });
    sendStatus(ctx, 204);
  });

  r.post('/containers/:id/wait', async (ctx) => {
    const cond = (ctx.query.get('condition') || 'not-running') as WaitCondition;
    if (!['not-running', 'next-exit', 'removed'].includes(cond)) throw new InvalidParameterError(`invalid condition: "${cond}"`);
    const result = svc.wait(containerId(ctx), cond);
    // Headers first: the CLI sends start only after it has them.
    const res = beginStream(ctx, 'application/json');
    const closed = new Promise<void>((resolve) => res.once('close', () => resolve()));
    const outcome = await Promise.race([result, closed.then(() => undefined)]);
    if (outcome && !res.writableEnded) res.end(JSON.stringify(outcome) + '\n');
  });

  r.post('/containers/:id/resize', (ctx) => {
    const c = svc.store.get(containerId(ctx));
    const h = intParam(ctx.query, 'h', 0)!;
    const w = intParam(ctx.query, 'w', 0)!;
    if (!c.isRunning()) throw new ConflictError(`Container ${c.id} is not running`);
    if (c.record.config.Tty && h > 0 && w > 0) resizeTerminal(svc.bundleDir(c.id), h, w);
    sendStatus(ctx, 200);
  });

  r.get('/containers/:id/logs', async (ctx) => {
    const c = svc.store.get(containerId(ctx));
    const q = ctx.query;
    const stdout = boolParam(q, 'stdout');
    const stderr = boolParam(q, 'stderr');
    if (!stdout && !stderr) throw new InvalidParameterError('Bad parameters: you must choose at least one stream');
    if (c.record.hostConfig.LogConfig.Type === 'none') throw new InvalidParameterError('configured logging driver does not support reading');
    const tailRaw = q.get('tail');
    let tail: number | undefined;
    if (tailRaw && tailRaw !== 'all') {
      const n = Number(tailRaw);
      if (Number.isInteger(n) && n >= 0) tail = n;
    }
    const since = q.get('since');
    const until = q.get('until');
    const sinceN = since && since !== '0' ? parseTimestampNanos(since) : undefined;
    const untilN = until && until !== '0' ? parseTimestampNanos(until) : undefined;
    const timestamps = boolParam(q, 'timestamps');
    const follow = boolParam(q, 'follow');
    const tty = c.record.config.Tty;
    const res = beginStream(ctx, tty ? RAW_STREAM : MULTIPLEXED);
    const writer = new StreamWriter(res, tty);
    const abort = new AbortController();
    res.once('close', () => abort.abort());
    const stopped = c.isRunning() ? c.onNextExit().then(() => undefined) : Promise.resolve();
    const { maxFile } = svc.logLimits(c);
    await readLogs(
      c.record.logPath,
      maxFile,
      {
        stdout,
        stderr,
        follow,
        ...(tail !== undefined ? { tail } : {}),
        ...(sinceN !== undefined ? { since: nanosToLogTime(sinceN) } : {}),
        ...(untilN !== undefined ? { until: nanosToLogTime(untilN) } : {}),
        withTime: timestamps,
      },
      timestamps ? (e) => writer.writeLine(e.stream, e.content, !e.partial, `${e.time}Z `) : (e) => writer.writeLine(e.stream, e.content, !e.partial),
      { stopped, signal: abort.signal },
    );
    await writer.flush();
    res.end();
  });

  r.post('/containers/:id/attach', async (ctx) => {
    const c = svc.store.get(containerId(ctx));
    const q = ctx.query;
    const detachKeys = parseDetachKeys(q.get('detachKeys') ?? undefined);
    if (c.status === 'removing' || c.removed) throw new ConflictError(`container ${c.id} is being removed`);
    const tty = c.record.config.Tty;
    const wantStdin = boolParam(q, 'stdin') && c.record.config.OpenStdin;
    const channel = wantStdin ? svc.stdinChannel(c) : undefined;
    // docker-modem sends its options as a JSON body; dockerd drops it (it never reaches stdin).
    const jsonBody = String(ctx.req.headers['content-type'] ?? '').startsWith('application/json');
    if (ctx.upgrade) await readUpgradeBody(ctx);
    else if (jsonBody) await readBody(ctx.req);
    const client = hijack(ctx, tty ? RAW_STREAM : MULTIPLEXED);
    const stopped = c.onNextStop();
    // A running container's monitor is up: connect now. Otherwise start() activates the channel.
    if (channel && c.isRunning()) await channel.activate();
    svc.event(c, 'attach');
    await runAttach(
      {
        logPath: svc.outputPath(c),
        maxLogFiles: svc.logLimits(c).maxFile,
        tty,
        stdin: channel,
        closeStdinOnEof: c.record.config.StdinOnce,
        stopped: c.isRunning() || c.status === 'created' || c.status === 'exited' || c.status === 'restarting' ? stopped : Promise.resolve(),
      },
      client,
      { stdin: wantStdin, stdout: boolParam(q, 'stdout'), stderr: boolParam(q, 'stderr'), logs: boolParam(q, 'logs'), stream: boolParam(q, 'stream'), detachKeys },
    );
  });

  r.get('/containers/:id/top', async (ctx) => {
    const c = svc.store.get(containerId(ctx));
    sendJson(ctx, 200, await d.inspector.top(c, ctx.query.get('ps_args') || '-ef'));
  });

  r.get('/containers/:id/stats', async (ctx) => {
    const c = svc.store.get(containerId(ctx));
    const stream = boolParam(ctx.query, 'stream', true);
    const oneShot = boolParam(ctx.query, 'one-shot');
    if (oneShot && stream) throw new InvalidParameterError('cannot have stream=true and one-shot=true');
    const res = beginStream(ctx, 'application/json');
    let closed = false;
    res.once('close', () => (closed = true));
    let prev = await d.inspector.stats(c);
    if (!stream) {
      if (!oneShot && c.isRunning()) {
        await new Promise((r2) => setTimeout(r2, 1000));
        const next = await d.inspector.stats(c, prev);
        prev = next;
      }
      res.end(JSON.stringify(prev) + '\n');
      return;
    }
    writeJsonLine(res, prev);
    while (!closed) {
      await new Promise((r2) => setTimeout(r2, 1000));
      if (closed) break;
      const next = await d.inspector.stats(c, prev);
      writeJsonLine(res, next);
      prev = next;
      if (!c.isRunning() && !svc.store.find(c.id)) break;
    }
    if (!res.writableEnded) res.end();
  });

  r.get('/containers/:id/changes', async (ctx) => {
    const c = svc.store.get(containerId(ctx));
    sendJson(ctx, 200, await d.inspector.changes(c));
  });

  r.get('/containers/:id/export', async (ctx) => {
    const c = svc.store.get(containerId(ctx));
    await d.inspector.export(c, ctx);
  });

  r.post('/containers/prune', async (ctx) => {
    const f = Filters.parse(ctx.query.get('filters')).validate(['until', 'label', 'label!']);
    sendJson(ctx, 200, await d.pruneContainers(f));
  });

  // ---- exec ----
  r.post('/containers/:id/exec', async (ctx) => {
    const body = await readJson(ctx);
    const id = d.execs.create(containerId(ctx), body);
    sendJson(ctx, 201, { Id: id });
  });

  r.get('/exec/:id/json', (ctx) => {
    sendJson(ctx, 200, d.execs.inspect(ctx.params.id!));
  });

  r.post('/exec/:id/resize', (ctx) => {
    d.execs.resize(ctx.params.id!, intParam(ctx.query, 'h', 0)!, intParam(ctx.query, 'w', 0)!);
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
    const info = d.execs.inspect(id);
    if (info.Running || info.ExitCode !== null) throw new ConflictError(`Error: Exec command ${id} is already running`);
    const consoleSize = Array.isArray(body.ConsoleSize) && body.ConsoleSize.length === 2 ? ([Number(body.ConsoleSize[0]), Number(body.ConsoleSize[1])] as [number, number]) : null;
    const detach = body.Detach === true;
    if (detach) {
      await d.execs.start(id, { detach: true, consoleSize });
      if (ctx.upgrade) {
        const client = hijack(ctx, RAW_STREAM);
        client.end();
      } else sendStatus(ctx, 200);
      return;
    }
    const tty = body.Tty === true || info.ProcessConfig.tty;
    const client = hijack(ctx, tty ? RAW_STREAM : MULTIPLEXED);
    await d.execs.start(id, { detach: false, tty, consoleSize }, client);
  });
}
