/**
 * Runs whole builds against the fake backend for the unit tests: a context
 * from a file map, the stream collected as raw text and as messages.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { runBuild, type BuildOutcome } from '../build.js';
import type { BuildOptions } from '../builder.js';
import { makeTar, type RawEntry } from './tars.js';
import type { FakeBackend } from './fake-backend.js';

export interface BuildRun extends BuildOutcome {
  raw: string;
  messages: Array<Record<string, unknown>>;
  /** The `stream` texts joined (what the CLI prints). */
  text: string;
  thrown?: Error;
}

export const tmpRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-builder-unit-'));

export function defaultOptions(over: Partial<BuildOptions> = {}): BuildOptions {
  return {
    tags: [],
    noCache: false,
    pull: false,
    remove: true,
    forceRemove: false,
    buildArgs: new Map(),
    labels: {},
    target: '',
    cacheFrom: [],
    host: { NetworkMode: '', ExtraHosts: [], ShmSize: 0, CgroupParent: '', CpuShares: 0, CpuPeriod: 0, CpuQuota: 0, CpusetCpus: '', CpusetMems: '', Memory: 0, MemorySwap: 0, Ulimits: [], Binds: [] },
    auth: {},
    ...over,
  };
}

export async function build(
  backend: FakeBackend,
  dockerfile: string,
  files: Record<string, string> | RawEntry[] = {},
  opts: Partial<BuildOptions> & { quiet?: boolean; dockerfileName?: string; signal?: AbortSignal; omitDockerfile?: boolean } = {},
): Promise<BuildRun> {
  const entries: RawEntry[] = Array.isArray(files) ? [...files] : Object.entries(files).map(([name, content]) => ({ name, content }));
  if (!opts.omitDockerfile && !entries.some((e) => e.name === (opts.dockerfileName ?? 'Dockerfile'))) entries.unshift({ name: opts.dockerfileName ?? 'Dockerfile', content: dockerfile });
  let raw = '';
  const { quiet, dockerfileName, signal, omitDockerfile: _omit, ...rest } = opts;
  const run: BuildRun = { raw: '', messages: [], text: '' };
  try {
    Object.assign(
      run,
      await runBuild(
        { backend, tmpRoot },
        { body: Readable.from([makeTar(entries)]), remote: '', dockerfile: dockerfileName ?? 'Dockerfile', quiet: quiet ?? false, options: defaultOptions(rest) },
        (d) => (raw += d),
        signal ?? new AbortController().signal,
      ),
    );
  } catch (err) {
    run.thrown = err as Error;
  }
  run.raw = raw;
  run.messages = raw
    .split('\r\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, unknown>);
  run.text = run.messages.map((m) => (typeof m.stream === 'string' ? m.stream : '')).join('');
  return run;
}

/** The history `created_by` lines of an image, oldest first. */
export function createdBy(backend: FakeBackend, imageId: string): string[] {
  return (backend.images.get(imageId)?.img.config.history ?? []).map((h) => h.created_by ?? '');
}
