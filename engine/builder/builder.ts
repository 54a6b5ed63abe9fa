/**
 * The classic Dockerfile builder (moby's builder/dockerfile evaluator): it
 * walks the stages — meta-ARGs, FROM (pulling the base when needed, running
 * its ONBUILD triggers), each instruction — printing dockerd's stream
 * ("Step i/N : ...", " ---> Using cache", " ---> Running in <id>",
 * "Removing intermediate container <id>", " ---> <id>"), emits the image ID
 * of each stage as aux, and ends with the unused-build-arg warning. Stages up
 * to `target` are built; `--label`s land on the last one.
 *
 * Everything it does to images and containers goes through BuildBackend.
 */
import fsp from 'node:fs/promises';
import path from 'node:path';
import { createHash, randomBytes } from 'node:crypto';
import { StringDecoder } from 'node:string_decoder';
import type { ImageConfig, ImageRunConfig, Platform } from '../images/oci.js';
import { hostPlatform } from '../images/oci.js';
import type { AuthConfig } from '../registry/authconfig.js';
import type { BuildBackend, BuildHostConfig, BuildImage, LayerEntry } from './backend.js';
import type { BuildContext } from './context/build-context.js';
import { BuildArgs } from './buildargs.js';
import { ImageProber, noCache, type CacheProbe } from './cache.js';
import { BuildOutput } from './output.js';
import { DispatchState, copyRunConfig } from './state.js';
import { ShellLex, envFromList } from './shell-lex.js';
import { labelCommand, parseStages, type ArgCommand, type Stage } from './dockerfile/instructions.js';
import type { ParseResult } from './dockerfile/parser.js';
import { dispatch, dispatchTriggers, DispatchError, type StepBuilder, type StepContainerSet, type StepContext } from './dispatchers.js';
import { parsePlatform, formatPlatform } from './platform.js';
import { SingleFileSource } from './sources.js';

export interface BuildOptions {
  /** Tags to apply ("Successfully tagged ..."), as given. */
  tags: string[];
  noCache: boolean;
  /** Always pull FROM images. */
  pull: boolean;
  /** Remove intermediate containers after a successful step (rm, default true). */
  remove: boolean;
  /** Remove them even after a failure (forcerm). */
  forceRemove: boolean;
  /** --build-arg values; null means named without a value. */
  buildArgs: Map<string, string | null>;
  labels: Record<string, string>;
  target: string;
  platform?: Platform;
  cacheFrom: string[];
  host: BuildHostConfig;
  auth: Record<string, AuthConfig>;
}

export class BuildError extends Error {}

/** Intermediate containers of the running step (moby's containerManager). */
export class StepContainers implements StepContainerSet {
  private readonly ids = new Map<string, { real: boolean }>();

  constructor(private readonly b: Builder) {}

  /** A container for a RUN step. */
  async create(state: DispatchState, cfg: ImageRunConfig, binds: string[] = []): Promise<string> {
    const { id, warnings } = await this.b.backend.createContainer({ ...cfg, Image: state.imageID }, { ...this.b.opts.host, Binds: binds });
    this.ids.set(id, { real: true });
    for (const w of warnings) this.b.out.stdout(` ---> [Warning] ${w}\n`);
    this.b.out.stdout(` ---> Running in ${id.slice(0, 12)}\n`);
    return id;
  }

  /**
   * The container a config-only step commits. dockerd makes a real one and commits its
   * empty diff; that changes no file, so unless intermediate containers are kept
   * (rm=false) the step only gets an ID (the image's "container") and the same lines.
   */
  async createForConfig(state: DispatchState, cfg: ImageRunConfig): Promise<string> {
    if (!this.b.opts.remove && state.imageID) return this.create(state, cfg);
    const id = randomBytes(32).toString('hex');
    this.ids.set(id, { real: false });
    this.b.out.stdout(` ---> Running in ${id.slice(0, 12)}\n`);
    return id;
  }

  isReal(id: string): boolean {
    return this.ids.get(id)?.real ?? false;
  }

  async run(id: string): Promise<{ exitCode: number; error?: string }> {
    const out = this.b.out;
    const dec = { out: new StringDecoder('utf8'), err: new StringDecoder('utf8') };
    try {
      return await this.b.backend.runContainer(
        id,
        {
          stdout: (chunk) => {
            const t = dec.out.write(chunk);
            if (t) out.stdout(t);
          },
          stderr: (chunk) => {
            const t = dec.err.write(chunk);
            if (t) out.stderr(t);
          },
        },
        this.b.signal,
      );
    } catch (err) {
      if (this.b.signal.aborted) {
        // Cancelled: the container goes at once, as dockerd's containerManager does.
        await this.b.backend.removeContainer(id).catch(() => undefined);
        this.ids.delete(id);
        throw new BuildError('build cancelled');
      }
      throw err;
    } finally {
      const restOut = dec.out.end();
      if (restOut) out.stdout(restOut);
      const restErr = dec.err.end();
      if (restErr) out.stderr(restErr);
    }
  }

  /** Removes the step's containers ("Removing intermediate container <id>"). */
  async removeAll(): Promise<void> {
    for (const [id, { real }] of this.ids) {
      if (real) {
        try {
          await this.b.backend.removeContainer(id);
        } catch (err) {
          this.b.out.stdout(`Error removing intermediate container ${id.slice(0, 12)}: ${(err as Error).message}\n`);
          return;
        }
      }
      this.ids.delete(id);
      this.b.out.stdout(`Removing intermediate container ${id.slice(0, 12)}\n`);
    }
  }

  /** Containers a cancelled or failed build leaves, for the caller to clean (forcerm semantics on cancel). */
  realIds(): string[] {
    return [...this.ids].filter(([, v]) => v.real).map(([id]) => id);
  }
}

interface StageResult {
  name: string;
  imageId: string;
}

export class Builder implements StepBuilder {
  readonly containers = new StepContainers(this);
  /** `docker commit --change` dispatches without committing. */
  disableCommit = false;
  private prober: CacheProbe = noCache;
  private readonly stageResults: StageResult[] = [];
  private readonly imageCache = new Map<string, BuildImage>();
  private readonly hostPlatform = hostPlatform();

  constructor(
    readonly backend: BuildBackend,
    readonly context: BuildContext | undefined,
    readonly opts: BuildOptions,
    readonly out: BuildOutput,
    readonly signal: AbortSignal,
    /** Scratch space for archives being unpacked, downloads, heredoc scripts. */
    readonly tmpDir: string,
  ) {}

  get platform(): Platform {
    return this.opts.platform ?? this.hostPlatform;
  }

  private image(id: string): BuildImage | undefined {
    if (!id) return undefined;
    let img = this.imageCache.get(id);
    if (!img) {
      img = this.backend.findImage(id);
      if (img) this.imageCache.set(id, img);
    }
    return img;
  }

  private remember(img: BuildImage): BuildImage {
    this.imageCache.set(img.id, img);
    return img;
  }

  // ---- the cache ---------------------------------------------------------------

  async probeCache(state: DispatchState, cfg: ImageRunConfig): Promise<boolean> {
    const hit = await this.prober.probe(state.imageID, cfg, state.platform);
    if (!hit) return false;
    this.out.stdout(' ---> Using cache\n');
    state.imageID = hit;
    return true;
  }

  // ---- commits ------------------------------------------------------------------

  /** NewChildImage: the parent's history and layers plus this step's. */
  private childConfig(state: DispatchState, containerConfig: ImageRunConfig, containerId: string, diffID: string | null): ImageConfig {
    const parent = this.image(state.imageID)?.config;
    const created = new Date().toISOString();
    const entry: NonNullable<ImageConfig['history']>[number] = { created };
    if (state.maintainer) entry.author = state.maintainer;
    entry.created_by = (containerConfig.Cmd ?? []).join(' ');
    if (!diffID) entry.empty_layer = true;
    const cfg: ImageConfig = {
      architecture: parent?.architecture || state.platform.architecture,
      ...(parent ? (parent.variant ? { variant: parent.variant } : {}) : state.platform.variant ? { variant: state.platform.variant } : {}),
      os: parent?.os || state.platform.os,
      ...(parent?.['os.version'] ? { 'os.version': parent['os.version'] } : {}),
      created,
      ...(state.maintainer ? { author: state.maintainer } : {}),
      config: copyRunConfig(state.runConfig),
      ...(containerId ? { container: containerId } : {}),
      container_config: containerConfig,
      rootfs: { type: 'layers', diff_ids: [...(parent?.rootfs.diff_ids ?? []), ...(diffID ? [diffID] : [])] },
      history: [...(parent?.history ?? []), entry],
    };
    return cfg;
  }

  async commitConfigOnly(state: DispatchState, containerId: string, cfg: ImageRunConfig): Promise<void> {
    if (this.containers.isReal(containerId)) return this.commitContainer(state, containerId, cfg);
    return this.commitLayer(state, undefined, cfg, containerId);
  }

  /** A new image from a planned layer (none: no layer). */
  async commitLayer(state: DispatchState, entries: LayerEntry[] | undefined, cfg: ImageRunConfig, containerId: string): Promise<void> {
    const img = await this.backend.createImage(state.imageID, entries, (diffID) => this.childConfig(state, cfg, containerId, diffID));
    state.imageID = this.remember(img).id;
  }

  async commitContainer(state: DispatchState, containerId: string, cfg: ImageRunConfig): Promise<void> {
    const img = await this.backend.commitContainer(containerId, state.imageID, (diffID) => this.childConfig(state, cfg, containerId, diffID));
    state.imageID = this.remember(img).id;
  }

  // ---- images ---------------------------------------------------------------------

  /** A FROM image or COPY --from image: local unless missing (or --pull), else pulled. */
  private async getImage(ref: string, localOnly: boolean, platform: Platform): Promise<BuildImage> {
    const key = `${ref}@${formatPlatform(platform)}`;
    const seen = this.imageCache.get(key);
    if (seen) return seen;
    let img: BuildImage | undefined;
    if (localOnly || !this.opts.pull) img = this.backend.findImage(ref, platform);
    if (!img) {
      if (localOnly) throw new DispatchError(`No such image: ${ref}`);
      img = await this.backend.pullImage(ref, { platform, auth: this.opts.auth, progress: (line) => this.out.raw(line), signal: this.signal });
    }
    this.imageCache.set(key, img);
    return this.remember(img);
  }

  private stageByName(name: string): StageResult | undefined {
    const lower = name.toLowerCase();
    return this.stageResults.find((s) => s.name !== '' && s.name === lower);
  }

  /** COPY --from: a stage by name or index, else an image. */
  async imageForFrom(from: string, state: DispatchState): Promise<string> {
    const byName = this.stageByName(from);
    if (byName) return byName.imageId;
    if (/^[+-]?\d+$/.test(from)) {
      const i = Number(from);
      if (i === this.stageResults.length) throw new Error('refers to current build stage');
      if (i < 0 || i > this.stageResults.length) throw new Error('index out of bounds');
      return this.stageResults[i]!.imageId;
    }
    const img = await this.getImage(from, false, state.platform);
    return img.id;
  }

  // ---- ADD of a URL ---------------------------------------------------------------

  async download(url: string, dest: string, checksum: string): Promise<{ source: SingleFileSource; name: string; cleanup: () => Promise<void> }> {
    let res: Response;
    try {
      res = await fetch(url, { signal: this.signal, redirect: 'follow' });
    } catch (err) {
      throw new DispatchError(`failed to GET ${url}: ${(err as Error).message}`);
    }
    if (res.status >= 400) {
      const body = (await res.text().catch(() => '')).slice(0, 1024);
      throw new DispatchError(`failed to GET ${url} with status ${res.status} ${res.statusText}: ${body}`);
    }
    const u = new URL(url);
    let name = '';
    if (u.pathname && !u.pathname.endsWith('/')) name = path.posix.basename(decodeURIComponent(u.pathname));
    if (!name) {
      const m = /filename="?([^";]+)"?/i.exec(res.headers.get('content-disposition') ?? '');
      if (m && !m[1]!.endsWith('/')) name = path.posix.basename(m[1]!);
    }
    if (!name) {
      if (dest.endsWith('/')) throw new DispatchError(`cannot determine filename for source ${url}`);
      name = '__unnamed__';
    }
    const dir = path.join(this.tmpDir, `download-${randomBytes(6).toString('hex')}`);
    await fsp.mkdir(dir, { recursive: true, mode: 0o700 });
    const file = path.join(dir, name);
    const total = Number(res.headers.get('content-length') ?? -1);
    const handle = await fsp.open(file, 'wx', 0o600);
    const hash = createHash('sha256');
    let current = 0;
    let reported = 0;
    try {
      for await (const chunk of res.body ?? []) {
        const buf = Buffer.from(chunk as Uint8Array);
        await handle.write(buf);
        hash.update(buf);
        current += buf.length;
        if (current - reported >= 512 * 1024) {
          reported = current;
          this.out.raw(`{"status":"Downloading","progressDetail":{"current":${current}${total > 0 ? `,"total":${total}` : ''}}}`);
        }
      }
    } finally {
      await handle.close();
    }
    this.out.raw(`{"status":"Downloading","progressDetail":{"current":${current}${total > 0 ? `,"total":${total}` : ''}}}`);
    this.out.stdout('\n');
    const cleanup = () => fsp.rm(dir, { recursive: true, force: true });
    if (checksum) {
      const got = `sha256:${hash.digest('hex')}`;
      if (!/^sha256:[a-f0-9]{64}$/.test(checksum)) {
        await cleanup();
        throw new DispatchError(`invalid checksum digest format ${checksum}: only sha256 is supported`);
      }
      if (got !== checksum) {
        await cleanup();
        throw new DispatchError(`digest mismatch ${got}: ${checksum}`);
      }
    }
    const lastModified = Date.parse(res.headers.get('last-modified') ?? '');
    const mtime = Number.isNaN(lastModified) ? 0 : Math.floor(lastModified / 1000);
    return { source: new SingleFileSource('remote', name, { file, size: current }, { mode: 0o600, mtime }), name, cleanup };
  }

  // ---- the build ---------------------------------------------------------------------

  private step(index: number, total: number, code: string): number {
    this.out.stdout(`Step ${index}/${total} : ${code}`);
    this.out.stdout('\n');
    return index + 1;
  }

  private checkCancelled(): void {
    if (this.signal.aborted) {
      this.out.stdout('Build cancelled\n');
      throw new BuildError('Build cancelled');
    }
  }

  /** Stages and meta-ARGs of the Dockerfile, cut at the target, with the labels added (errors before any output). */
  static plan(parsed: ParseResult, opts: Pick<BuildOptions, 'target' | 'labels'>): { stages: Stage[]; metaArgs: ArgCommand[] } {
    const { stages, metaArgs } = parseStages(parsed.nodes);
    let kept = stages;
    if (opts.target) {
      const at = stages.findIndex((s) => s.name.toLowerCase() === opts.target.toLowerCase());
      if (at < 0) throw new BuildError(`failed to reach build target ${opts.target} in Dockerfile`);
      kept = stages.slice(0, at + 1);
    }
    const last = kept[kept.length - 1];
    if (last) for (const key of Object.keys(opts.labels).sort()) last.commands.push(labelCommand(key, opts.labels[key]!));
    return { stages: kept, metaArgs };
  }

  /** Runs the build; returns the final image ID. */
  async build(parsed: ParseResult, plan: { stages: Stage[]; metaArgs: ArgCommand[] }): Promise<string> {
    const cacheFrom: BuildImage[] = [];
    for (const ref of this.opts.cacheFrom) {
      const img = this.backend.findImage(ref);
      if (img) cacheFrom.push(img);
    }
    if (!this.opts.noCache) this.prober = new ImageProber(this.backend, cacheFrom, this.opts.cacheFrom.length > 0);
    if (parsed.warnings.length > 0) this.out.stderr(parsed.warnings.join('\n') + '\n');

    const buildArgs = new BuildArgs(this.opts.buildArgs);
    const { stages, metaArgs } = plan;
    let total = metaArgs.length + stages.length;
    for (const s of stages) total += s.commands.length;
    let index = 1;
    const shlex = new ShellLex(parsed.escapeToken);
    for (const meta of metaArgs) {
      index = this.step(index, total, meta.code);
      const env = envFromList([...buildArgs.allAllowed()].map(([k, v]) => `${k}=${v}`));
      for (const a of meta.args) {
        let key: string;
        let value: string | undefined;
        try {
          key = shlex.processWord(a.key, env);
          value = a.value === undefined ? undefined : shlex.processWord(a.value, env);
        } catch (err) {
          throw new DispatchError((err as Error).message);
        }
        buildArgs.addArg(key, value);
        buildArgs.addMetaArg(key, value);
      }
    }

    let state: DispatchState | undefined;
    for (const stage of stages) {
      if (stage.name && this.stageByName(stage.name)) throw new DispatchError(`${stage.name} stage name already used`);
      const stageArgs = buildArgs.clone();
      stageArgs.resetAllowed();
      state = new DispatchState(stageArgs);
      const ctx: StepContext = { b: this, state, shlex: new ShellLex(parsed.escapeToken) };
      index = this.step(index, total, stage.sourceCode);
      await this.initializeStage(ctx, stage);
      state.updateRunConfig();
      this.out.stdout(` ---> ${state.imageID.replace(/^sha256:/, '').slice(0, 12)}\n`);
      for (const cmd of stage.commands) {
        this.checkCancelled();
        index = this.step(index, total, cmd.code);
        await dispatch(ctx, cmd);
        state.updateRunConfig();
        this.out.stdout(` ---> ${state.imageID.replace(/^sha256:/, '').slice(0, 12)}\n`);
      }
      if (state.imageID) this.out.aux({ ID: state.imageID });
      buildArgs.mergeReferenced(state.buildArgs);
      this.stageResults.push({ name: stage.name, imageId: state.imageID });
    }
    const unused = buildArgs.unused();
    if (unused.length > 0) this.out.stdout(`[Warning] One or more build-args [${unused.join(' ')}] were not consumed\n`);
    if (!state || !state.imageID) throw new BuildError('No image was generated. Is your Dockerfile empty?');
    return state.imageID;
  }

  private metaEnv(state: DispatchState): ReturnType<typeof envFromList> {
    return envFromList([...state.buildArgs.allMeta()].map(([k, v]) => `${k}=${v}`));
  }

  /** FROM: the base (a stage, scratch, a local or pulled image), then its ONBUILD triggers. */
  private async initializeStage(s: StepContext, stage: Stage): Promise<void> {
    this.prober.reset();
    const state = s.state;
    let platform = this.platform;
    if (stage.platform) {
      let spec: string;
      try {
        spec = s.shlex.processWord(stage.platform, this.metaEnv(state));
      } catch (err) {
        throw new DispatchError(`failed to process arguments for platform ${stage.platform}: ${(err as Error).message}`);
      }
      try {
        platform = parsePlatform(spec);
      } catch (err) {
        throw new DispatchError(`failed to parse platform ${spec}: ${(err as Error).message}`);
      }
    }
    let name: string;
    try {
      name = s.shlex.processWord(stage.baseName, this.metaEnv(state));
    } catch (err) {
      throw new DispatchError((err as Error).message);
    }
    if (name === '') throw new DispatchError(`base name (${stage.baseName}) should not be blank`);
    let image: BuildImage | undefined;
    const fromStage = this.stageByName(name);
    if (fromStage) image = fromStage.imageId ? await this.getImage(fromStage.imageId, true, platform) : undefined;
    else if (name !== 'scratch') image = await this.getImage(name, false, platform);
    if (image) platform = { os: image.config.os || platform.os, architecture: image.config.architecture || platform.architecture, ...(image.config.variant ? { variant: image.config.variant } : {}) };
    state.beginStage(stage.name, image, platform);
    const triggers = state.runConfig.OnBuild ?? [];
    if (triggers.length > 0) {
      state.runConfig.OnBuild = null;
      await dispatchTriggers(s, triggers);
    }
  }
}
