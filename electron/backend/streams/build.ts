/**
 * `docker build` from the app: the context is a folder on this host (packed by
 * services/builds.ts) or a tar the page uploads in chunks; the engine builds it with the classic
 * builder (POST /build through dockerode, with the stored registry credentials as the CLI sends
 * them in X-Registry-Config); its stream becomes the page's events — the text for the log
 * terminal, and each step's start, cache hit and duration — and the build is recorded in the
 * history.
 */
import { randomBytes } from 'node:crypto';
import { PassThrough, type Readable } from 'node:stream';
import type Docker from 'dockerode';
import type { BuildRecord, BuildRequest } from '../../contract/models.js';
import type { StreamParamsOf } from '../../contract/api.js';
import type { StreamSink } from '../rpc/session.js';
import { packFolder, type BuildHistory } from '../services/builds.js';
import { readJsonLines } from './json-lines.js';

interface BuildMessage {
  stream?: string;
  aux?: { ID?: string };
  error?: string;
  errorDetail?: { message?: string };
  status?: string;
  progress?: string;
  id?: string;
}

export async function streamBuild(docker: Docker, history: BuildHistory, p: StreamParamsOf<'images.build'>, sink: StreamSink<'images.build'>, registryConfig: () => Promise<Record<string, Docker.AuthConfig>> = async () => ({})): Promise<void> {
  const req: BuildRequest = p.request;
  const startedAt = Date.now();
  let context: Readable;
  let source: string;
  if (req.source.kind === 'path') {
    context = packFolder(req.source.path, req.dockerfile);
    source = req.source.path;
  } else {
    // The page sends the folder it uploaded as tar chunks.
    const body = new PassThrough();
    sink.onInput((input) => {
      if (input.type === 'chunk') body.write(Buffer.from(input.data, 'base64'));
      else body.end();
    });
    sink.signal.addEventListener('abort', () => body.destroy(), { once: true });
    context = body;
    source = `upload: ${req.source.name}`;
  }
  const opts: Record<string, unknown> = { rm: true, abortSignal: sink.signal };
  if (req.tag) opts.t = req.tag;
  if (req.dockerfile) opts.dockerfile = req.dockerfile;
  if (req.target) opts.target = req.target;
  if (req.noCache) opts.nocache = true;
  if (req.pull) opts.pull = true;
  if (Object.keys(req.buildArgs).length > 0) opts.buildargs = req.buildArgs;
  const record: BuildRecord = { id: randomBytes(8).toString('hex'), engineId: p.engineId, source, tag: req.tag, target: req.target, startedAt, durationMs: 0, status: 'failed', steps: 0, cachedSteps: 0 };
  let current: { index: number; started: number; cached: boolean } | undefined;
  const finishStep = () => {
    if (!current) return;
    sink.emit({ type: 'step-done', index: current.index, cached: current.cached, durationMs: Date.now() - current.started });
    if (current.cached) record.cachedSteps++;
    current = undefined;
  };
  let pending = '';
  const onText = (text: string) => {
    sink.emit({ type: 'output', text });
    pending += text;
    let nl: number;
    while ((nl = pending.indexOf('\n')) >= 0) {
      const line = pending.slice(0, nl);
      pending = pending.slice(nl + 1);
      const step = /^Step (\d+)\/(\d+) : (.*)$/.exec(line);
      if (step) {
        finishStep();
        current = { index: Number(step[1]), started: Date.now(), cached: false };
        record.steps = Number(step[2]);
        sink.emit({ type: 'step', index: current.index, total: record.steps, instruction: step[3]! });
      } else if (line === ' ---> Using cache' && current) current.cached = true;
      else if (/^Successfully built /.test(line)) finishStep();
    }
  };
  try {
    // Looked up only now: the upload's chunks may already be arriving, and onInput is registered.
    const auths = await registryConfig();
    if (Object.keys(auths).length > 0) opts.registryconfig = auths;
    const stream = (await docker.buildImage(context as unknown as NodeJS.ReadableStream, opts as Docker.ImageBuildOptions)) as unknown as Readable;
    let failure: string | undefined;
    await readJsonLines(stream, sink.signal, (v) => {
      const m = v as BuildMessage;
      if (m.error || m.errorDetail?.message) {
        failure = m.errorDetail?.message || m.error;
        onText(`\u001b[91m${failure}\u001b[0m\r\n`);
        return;
      }
      if (m.aux?.ID) record.imageId = m.aux.ID;
      if (typeof m.stream === 'string') onText(m.stream);
      else if (m.status) onText(`${m.id ? `${m.id}: ` : ''}${m.status}${m.progress ? ' ' + m.progress : ''}\n`);
    });
    finishStep();
    if (sink.signal.aborted) record.status = 'cancelled';
    else if (failure) {
      record.status = 'failed';
      record.error = failure;
    } else record.status = 'succeeded';
  } catch (err) {
    record.status = sink.signal.aborted ? 'cancelled' : 'failed';
    record.error = (err as { json?: { message?: string } }).json?.message ?? (err as Error).message;
    onText(`\u001b[91m${record.error}\u001b[0m\r\n`);
  }
  record.durationMs = Date.now() - startedAt;
  if (record.status !== 'succeeded') delete record.imageId;
  await history.add(record);
  if (!sink.signal.aborted) sink.emit({ type: 'done', record });
}
