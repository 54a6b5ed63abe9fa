/**
 * One `docker build`, start to finish, in dockerd's order: the tags are
 * checked, the context read (an upload or a `remote` URL), the Dockerfile
 * found and parsed, .dockerignore applied, the stages planned — all before
 * any output, so bad input is an HTTP error — then the build streams its
 * progress, says "Successfully built <id>" and tags the image. Errors after
 * the first line go into the stream; with `q` only the image ID is printed
 * (and, on failure, what the build said before it failed).
 */
import fsp from 'node:fs/promises';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { InvalidParameterError, NotImplementedError } from '../errdefs.js';
import { parseReference } from '../images/reference.js';
import type { BuildBackend } from './backend.js';
import { BuildContext, BuildContextError, type ContextLimits } from './context/build-context.js';
import { parseDockerfile, DockerfileSyntaxError, type ParseResult } from './dockerfile/parser.js';
import { InstructionError } from './dockerfile/instructions.js';
import { Builder, BuildError, type BuildOptions } from './builder.js';
import { BuildOutput, formatError } from './output.js';
import { DispatchError } from './dispatchers.js';
import { eagerHashing } from './context-hashes.js';

export interface BuildRequest {
  /** The uploaded context (ignored with `remote`). */
  body: Readable | undefined;
  /** A URL of a tar or a Dockerfile. */
  remote: string;
  /** Path of the Dockerfile in the context. */
  dockerfile: string;
  quiet: boolean;
  options: BuildOptions;
}

export interface BuildEnv {
  backend: BuildBackend;
  /** Where contexts are spooled and scratch files live (one folder per build, removed after). */
  tmpRoot: string;
  limits?: Partial<ContextLimits>;
}

export interface BuildOutcome {
  imageId?: string;
  /** Set when the build failed after its output began (the error is in the stream). */
  error?: Error;
  /** How long reading the context took, and its size (for the log). */
  timings?: { context?: number; contextBytes?: number };
}

const isGitUrl = (s: string) => /^(git:\/\/|git@|github\.com\/)/.test(s) || (/^https?:\/\//.test(s) && /\.git(?:#.+)?$/.test(s));

/** Build errors that are the request's fault answer 400 before any output. */
export function asRequestError(err: unknown): unknown {
  if (err instanceof BuildContextError || err instanceof DockerfileSyntaxError || err instanceof InstructionError || err instanceof DispatchError || err instanceof BuildError) {
    return new InvalidParameterError((err as Error).message);
  }
  return err;
}

/** The tags, checked and normalized before anything else (moby's sanitizeRepoAndTags). */
function checkTags(tags: readonly string[]): string[] {
  const out: string[] = [];
  for (const t of tags) {
    if (t === '') continue;
    let ref;
    try {
      ref = parseReference(t);
    } catch (err) {
      throw new InvalidParameterError((err as Error).message);
    }
    if (ref.digest !== undefined) throw new InvalidParameterError('build tag cannot contain a digest');
    const name = ref.tagged().toString();
    if (!out.includes(name)) out.push(name);
  }
  return out;
}

async function fetchRemote(url: string, signal: AbortSignal): Promise<Response> {
  try {
    const res = await fetch(url, { signal, redirect: 'follow' });
    if (res.status >= 400) throw new InvalidParameterError(`failed to GET ${url} with status ${res.status} ${res.statusText}: ${(await res.text().catch(() => '')).slice(0, 1024)}`);
    return res;
  } catch (err) {
    if (err instanceof InvalidParameterError) throw err;
    throw new InvalidParameterError(`unable to download remote context ${url}: ${(err as Error).message}`);
  }
}

/** The context and Dockerfile of the request. */
async function openSource(env: BuildEnv, req: BuildRequest, tmp: string, signal: AbortSignal): Promise<{ ctx: BuildContext; dockerfile: Buffer; name: string }> {
  const remote = req.remote;
  const spool = path.join(tmp, 'context');
  let ctx: BuildContext;
  if (remote === '') {
    if (!req.body) throw new InvalidParameterError('a build context (tar archive) is required');
    ctx = await BuildContext.read(req.body, spool, { ...(env.limits ? { limits: env.limits } : {}), signal, hashing: eagerHashing(req.dockerfile) });
  } else if (remote === 'client-session') {
    throw new InvalidParameterError('experimental session with v1 builder is no longer supported, use builder version v2 (BuildKit) instead');
  } else if (isGitUrl(remote)) {
    throw new NotImplementedError(`git build contexts are not supported by berthd: clone ${remote} and build from its directory`);
  } else if (/^https?:\/\//i.test(remote)) {
    const res = await fetchRemote(remote, signal);
    const type = (res.headers.get('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
    const body = Readable.fromWeb(res.body as import('node:stream/web').ReadableStream<Uint8Array>);
    if (type === 'text/plain') {
      const chunks: Buffer[] = [];
      let size = 0;
      for await (const c of body) {
        size += (c as Buffer).length;
        if (size > 16 * 1024 * 1024) throw new InvalidParameterError('the remote Dockerfile is larger than 16 MiB');
        chunks.push(c as Buffer);
      }
      // A Dockerfile alone: the build has no context.
      return { ctx: BuildContext.empty(), dockerfile: Buffer.concat(chunks), name: req.dockerfile };
    }
    ctx = await BuildContext.read(body, spool, { ...(env.limits ? { limits: env.limits } : {}), signal, hashing: eagerHashing(req.dockerfile) });
  } else {
    throw new InvalidParameterError(`remoteURL (${remote}) could not be recognized as URL`);
  }
  try {
    const df = await ctx.dockerfile(req.dockerfile);
    // Read first, so an ignored Dockerfile still builds; COPY then does not see it, as with dockerd.
    await ctx.applyDockerignore();
    return { ctx, dockerfile: df.content, name: df.name };
  } catch (err) {
    await ctx.close();
    throw err;
  }
}

function parse(name: string, content: Buffer): ParseResult {
  if (content.length === 0) throw new InvalidParameterError(`the Dockerfile (${name}) cannot be empty`);
  try {
    return parseDockerfile(content);
  } catch (err) {
    throw new InvalidParameterError(`failed to parse ${name}: ${(err as Error).message}`);
  }
}

/**
 * Runs the build, writing the stream to sink. Throws only while nothing has been
 * written (the caller answers with an HTTP error); later errors end the stream.
 */
export async function runBuild(env: BuildEnv, req: BuildRequest, sink: (data: string) => void, signal: AbortSignal): Promise<BuildOutcome> {
  let started = false;
  const write = (d: string) => {
    started = true;
    sink(d);
  };
  const quietBuffer: string[] = [];
  const out = new BuildOutput(req.quiet ? (d) => quietBuffer.push(d) : write);
  const tags = checkTags(req.options.tags);
  const tmp = path.join(env.tmpRoot, `build-${randomBytes(8).toString('hex')}`);
  const startedAt = Date.now();
  const timings: NonNullable<BuildOutcome['timings']> = {};
  await fsp.mkdir(tmp, { recursive: true, mode: 0o700 });
  let ctx: BuildContext | undefined;
  try {
    let source;
    try {
      source = await openSource(env, req, tmp, signal);
    } catch (err) {
      throw asRequestError(err);
    }
    ctx = source.ctx;
    timings.context = Date.now() - startedAt;
    timings.contextBytes = ctx.received;
    const parsed = parse(source.name, source.dockerfile);
    let plan;
    try {
      plan = Builder.plan(parsed, req.options);
    } catch (err) {
      throw asRequestError(err);
    }
    const builder = new Builder(env.backend, ctx, req.options, out, signal, tmp);
    try {
      const imageId = await builder.build(parsed, plan);
      out.stdout(`Successfully built ${imageId.replace(/^sha256:/, '').slice(0, 12)}\n`);
      for (const t of tags) out.stdout(`Successfully tagged ${await env.backend.tag(imageId, t)}\n`);
      if (req.quiet) write(`{"stream":"${imageId}\\n"}\r\n`);
      return { imageId, timings };
    } catch (err) {
      if (req.quiet && quietBuffer.length > 0) for (const d of quietBuffer) write(d);
      if (!started) throw asRequestError(err);
      write(formatError(err));
      return { error: err as Error };
    }
  } finally {
    await ctx?.close();
    await fsp.rm(tmp, { recursive: true, force: true }).catch(() => undefined);
  }
}
