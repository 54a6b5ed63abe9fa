/**
 * One function per instruction, doing what dockerd 20.10's classic builder
 * does (builder/dockerfile/dispatchers.go): the run config it changes, the
 * `#(nop)` history entry that is also its cache key, a cache probe, then a
 * commit — an image with an empty layer for config-only instructions, a
 * layer the builder plans for COPY/ADD/WORKDIR, a container's changes for
 * RUN. What it prints matches dockerd's stream line for line.
 */
import fsp from 'node:fs/promises';
import path, { posix } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { ImageRunConfig } from '../images/oci.js';
import { parseSignal } from '../system/signals.js';
import { goDuration, goList, goQuote, goQuoteList, goQuoteRune } from './go-format.js';
import { ShellLex, envFromList } from './shell-lex.js';
import { parseDockerfile, parseHeredoc, chompHeredocContent } from './dockerfile/parser.js';
import { parseCommand, type Command } from './dockerfile/instructions.js';
import { BuildStepError } from './output.js';
import { copyRunConfig, getShell, withCmdComment, withCmdCommentString, type DispatchState } from './state.js';
import { copyInfosFor, CopyError, normalizeDest, performCopy, sourceHash, type CopyInfo, type Identity } from './copy.js';
import { ContextSource, ImageSource, SingleFileSource, type CopySource } from './sources.js';
import { PendingLayer, LayerPlanError } from './layer-plan.js';
import { resolveChown } from './chown.js';
import { PatternMatcher } from './dockerignore.js';
import type { BuildBackend, LayerEntry } from './backend.js';
import type { BuildContext } from './context/build-context.js';
import type { BuildOutput } from './output.js';

type Cmd<K extends Command['kind']> = Extract<Command, { kind: K }>;

export class DispatchError extends Error {}

/** dockerd's message for the options only BuildKit has. */
export function requiresBuildKit(flag: string): DispatchError {
  return new DispatchError(`the --${flag} option requires BuildKit. Refer to https://docs.docker.com/go/buildkit/ to learn how to build images with BuildKit enabled`);
}

/** A step's containers: made for a RUN or a config-only step, run, removed when the step is done. */
export interface StepContainerSet {
  create(state: DispatchState, cfg: ImageRunConfig, binds?: string[]): Promise<string>;
  createForConfig(state: DispatchState, cfg: ImageRunConfig): Promise<string>;
  run(id: string): Promise<{ exitCode: number; error?: string }>;
  removeAll(): Promise<void>;
}

/** What the dispatchers need of the build (builder.ts's Builder; kept here so the two do not import each other). */
export interface StepBuilder {
  readonly backend: BuildBackend;
  readonly context: BuildContext | undefined;
  readonly opts: { readonly remove: boolean; readonly forceRemove: boolean };
  readonly out: BuildOutput;
  readonly tmpDir: string;
  readonly containers: StepContainerSet;
  /** `docker commit --change` dispatches without committing. */
  readonly disableCommit: boolean;
  probeCache(state: DispatchState, cfg: ImageRunConfig): Promise<boolean>;
  commitConfigOnly(state: DispatchState, containerId: string, cfg: ImageRunConfig): Promise<void>;
  commitLayer(state: DispatchState, entries: LayerEntry[] | undefined, cfg: ImageRunConfig, containerId: string): Promise<void>;
  commitContainer(state: DispatchState, containerId: string, cfg: ImageRunConfig): Promise<void>;
  imageForFrom(from: string, state: DispatchState): Promise<string>;
  download(url: string, dest: string, checksum: string): Promise<{ source: SingleFileSource; name: string; cleanup: () => Promise<void> }>;
}

/** A step of one stage: the builder, the stage's state and its lexer. */
export interface StepContext {
  b: StepBuilder;
  state: DispatchState;
  shlex: ShellLex;
}

/** Variables visible to word expansion: the stage's ENV plus the build args no ENV overrides. */
export function expansionEnv(state: DispatchState): string[] {
  const env = state.runConfig.Env ?? [];
  return [...env, ...state.buildArgs.filterAllowed(env)];
}

function expander(s: StepContext): (w: string) => string {
  const env = envFromList(expansionEnv(s.state));
  return (w) => s.shlex.processWord(w, env);
}

/** Expands the words an instruction allows variables in (moby's Expand per command). */
export function expandCommand(s: StepContext, c: Command): Command {
  const x = expander(s);
  switch (c.kind) {
    case 'env':
      return { ...c, env: c.env.map((kv) => ({ ...kv, key: x(kv.key), value: x(kv.value) })) };
    case 'label':
      return c.noExpand ? c : { ...c, labels: c.labels.map((kv) => ({ ...kv, key: x(kv.key), value: x(kv.value) })) };
    case 'add':
      return { ...c, chown: x(c.chown), chmod: x(c.chmod), checksum: x(c.checksum), sourcePaths: c.sourcePaths.map(x), dest: x(c.dest) };
    case 'copy':
      return { ...c, chown: x(c.chown), chmod: x(c.chmod), sourcePaths: c.sourcePaths.map(x), dest: x(c.dest) };
    case 'workdir':
      return { ...c, path: x(c.path) };
    case 'user':
      return { ...c, user: x(c.user) };
    case 'volume':
      return { ...c, volumes: c.volumes.map(x) };
    case 'stopsignal':
      return { ...c, signal: x(c.signal) };
    case 'arg':
      return { ...c, args: c.args.map((a) => ({ key: x(a.key), value: a.value === undefined ? undefined : x(a.value) })) };
    default:
      return c;
  }
}

export async function dispatch(s: StepContext, raw: Command): Promise<void> {
  let c: Command;
  try {
    c = expandCommand(s, raw);
  } catch (err) {
    throw new DispatchError((err as Error).message);
  }
  let failed = true;
  try {
    await dispatchExpanded(s, c);
    failed = false;
  } finally {
    // Intermediate containers go after a step that worked (always with forcerm), as dockerd's defer does.
    if (s.b.opts.forceRemove || (s.b.opts.remove && !failed)) await s.b.containers.removeAll();
  }
}

async function dispatchExpanded(s: StepContext, c: Command): Promise<void> {
  switch (c.kind) {
    case 'env':
      return dispatchEnv(s, c);
    case 'maintainer':
      s.state.maintainer = c.maintainer;
      return commit(s, `MAINTAINER ${c.maintainer}`);
    case 'label':
      return dispatchLabel(s, c);
    case 'add':
      return dispatchCopy(s, c, 'ADD');
    case 'copy':
      return dispatchCopy(s, c, 'COPY');
    case 'onbuild':
      s.state.runConfig.OnBuild = [...(s.state.runConfig.OnBuild ?? []), c.expression];
      return commit(s, `ONBUILD ${c.expression}`);
    case 'workdir':
      return dispatchWorkdir(s, c);
    case 'run':
      return dispatchRun(s, c);
    case 'cmd':
      return dispatchCmd(s, c);
    case 'healthcheck':
      return dispatchHealthcheck(s, c);
    case 'entrypoint':
      return dispatchEntrypoint(s, c);
    case 'expose':
      return dispatchExpose(s, c);
    case 'user':
      s.state.runConfig.User = c.user;
      return commit(s, `USER ${c.user}`);
    case 'volume':
      return dispatchVolume(s, c);
    case 'stopsignal':
      try {
        parseSignal(c.signal);
      } catch (err) {
        throw new DispatchError((err as Error).message);
      }
      s.state.runConfig.StopSignal = c.signal;
      return commit(s, `STOPSIGNAL ${c.signal}`);
    case 'arg':
      return dispatchArg(s, c);
    case 'shell':
      s.state.runConfig.Shell = [...c.shell];
      return commit(s, `SHELL ${goList(s.state.runConfig.Shell)}`);
  }
}

// ---- config-only instructions ---------------------------------------------------

/** Commits the state with a `#(nop)` command: a cache probe, then an image without a layer. */
export async function commit(s: StepContext, comment: string): Promise<void> {
  const { b, state } = s;
  if (b.disableCommit) return;
  if (!state.hasFromImage()) throw new DispatchError('Please provide a source image with `from` prior to commit');
  const cfg = copyRunConfig(state.runConfig, withCmdComment(comment));
  if (await b.probeCache(state, cfg)) return;
  const id = await b.containers.createForConfig(state, cfg);
  await b.commitConfigOnly(state, id, cfg);
}

function dispatchEnv(s: StepContext, c: Cmd<'env'>): Promise<void> {
  const rc = s.state.runConfig;
  let message = 'ENV';
  const env = [...(rc.Env ?? [])];
  for (const kv of c.env) {
    const v = `${kv.key}=${kv.value}`;
    message += ' ' + v;
    const at = env.findIndex((e) => e.split('=', 1)[0] === kv.key);
    if (at >= 0) env[at] = v;
    else env.push(v);
  }
  rc.Env = env;
  return commit(s, message);
}

function dispatchLabel(s: StepContext, c: Cmd<'label'>): Promise<void> {
  const rc = s.state.runConfig;
  rc.Labels = { ...(rc.Labels ?? {}) };
  let message = 'LABEL';
  for (const kv of c.labels) {
    rc.Labels[kv.key] = kv.value;
    message += ` ${kv.key}=${kv.value}`;
  }
  return commit(s, message);
}

/** The shell form gets the SHELL prefix; the exec form is used as is. */
function resolveCmdLine(c: { cmdLine: string[] | null; prependShell: boolean }, rc: ImageRunConfig): string[] | null {
  if (c.prependShell && c.cmdLine !== null) return [...getShell(rc), ...c.cmdLine];
  return c.cmdLine === null ? null : [...c.cmdLine];
}

async function dispatchCmd(s: StepContext, c: Cmd<'cmd'>): Promise<void> {
  const rc = s.state.runConfig;
  rc.Cmd = resolveCmdLine(c, rc);
  rc.ArgsEscaped = false;
  await commit(s, `CMD ${goQuoteList(rc.Cmd)}`);
  if ((c.cmdLine ?? []).length !== 0) s.state.cmdSet = true;
}

function dispatchEntrypoint(s: StepContext, c: Cmd<'entrypoint'>): Promise<void> {
  const rc = s.state.runConfig;
  rc.Entrypoint = resolveCmdLine(c, rc);
  rc.ArgsEscaped = false;
  // An ENTRYPOINT drops an inherited CMD, unless this stage set one.
  if (!s.state.cmdSet) rc.Cmd = null;
  return commit(s, `ENTRYPOINT ${goQuoteList(rc.Entrypoint)}`);
}

/** `%q` of dockerd 20.10's *HealthConfig: `&{["CMD-SHELL" "x"] "30s" "0s" "0s" '\x03'}`. */
export function healthcheckString(h: NonNullable<ImageRunConfig['Healthcheck']>): string {
  return `&{${goQuoteList(h.Test)} ${goQuote(goDuration(h.Interval ?? 0))} ${goQuote(goDuration(h.Timeout ?? 0))} ${goQuote(goDuration(h.StartPeriod ?? 0))} ${goQuoteRune(h.Retries ?? 0)}}`;
}

function dispatchHealthcheck(s: StepContext, c: Cmd<'healthcheck'>): Promise<void> {
  const rc = s.state.runConfig;
  const old = rc.Healthcheck?.Test;
  if (old && old.length > 0 && old[0] !== 'NONE') s.b.out.stdout(`Note: overriding previous HEALTHCHECK: ${goList(old)}\n`);
  rc.Healthcheck = { ...c.health, ...(c.health.Test ? { Test: [...c.health.Test] } : {}) };
  return commit(s, `HEALTHCHECK ${healthcheckString(rc.Healthcheck)}`);
}

/** nat.ParsePortSpecs for EXPOSE: ports, ranges, protocols; the container side of host:container forms. */
export function exposedPorts(specs: readonly string[]): string[] {
  const out: string[] = [];
  for (const spec of specs) {
    const slash = spec.lastIndexOf('/');
    const proto = slash >= 0 ? spec.slice(slash + 1).toLowerCase() : 'tcp';
    const rest = slash >= 0 ? spec.slice(0, slash) : spec;
    if (!['tcp', 'udp', 'sctp'].includes(proto)) throw new DispatchError(`invalid proto: ${proto}`);
    const container = rest.split(':').pop()!;
    const m = /^(\d+)(?:-(\d+))?$/.exec(container);
    if (!m) throw new DispatchError(`invalid containerPort: ${container}`);
    const lo = Number(m[1]);
    const hi = Number(m[2] ?? m[1]);
    if (lo > 65535 || hi > 65535 || hi < lo) throw new DispatchError(`invalid containerPort: ${container}`);
    for (let p = lo; p <= hi; p++) out.push(`${p}/${proto}`);
  }
  return out;
}

function dispatchExpose(s: StepContext, c: Cmd<'expose'>): Promise<void> {
  const env = envFromList(expansionEnv(s.state));
  const ports: string[] = [];
  try {
    for (const p of c.ports) ports.push(...s.shlex.processWords(p, env));
  } catch (err) {
    throw new DispatchError((err as Error).message);
  }
  const rc = s.state.runConfig;
  rc.ExposedPorts = { ...(rc.ExposedPorts ?? {}) };
  for (const p of exposedPorts(ports)) rc.ExposedPorts[p] = {};
  return commit(s, `EXPOSE ${ports.join(' ')}`);
}

function dispatchVolume(s: StepContext, c: Cmd<'volume'>): Promise<void> {
  const rc = s.state.runConfig;
  rc.Volumes = { ...(rc.Volumes ?? {}) };
  for (const v of c.volumes) {
    if (v === '') throw new DispatchError('VOLUME specified can not be an empty string');
    rc.Volumes[v] = {};
  }
  return commit(s, `VOLUME ${goList(c.volumes)}`);
}

function dispatchArg(s: StepContext, c: Cmd<'arg'>): Promise<void> {
  const parts: string[] = [];
  for (const a of c.args) {
    parts.push(a.value === undefined ? a.key : `${a.key}=${a.value}`);
    s.state.buildArgs.addArg(a.key, a.value);
  }
  return commit(s, `ARG ${parts.join(' ')}`);
}

// ---- WORKDIR --------------------------------------------------------------------

/** Relative WORKDIRs join the current one (cleaned); absolute ones are kept as written. */
export function normalizeWorkdir(current: string, requested: string): string {
  if (requested === '') throw new DispatchError('cannot normalize nothing');
  if (!requested.startsWith('/')) return posix.join('/', current || '/', requested);
  return requested;
}

async function dispatchWorkdir(s: StepContext, c: Cmd<'workdir'>): Promise<void> {
  const { b, state } = s;
  const rc = state.runConfig;
  rc.WorkingDir = normalizeWorkdir(rc.WorkingDir ?? '', c.path);
  if (b.disableCommit) return;
  const cfg = copyRunConfig(rc, withCmdCommentString(`WORKDIR ${rc.WorkingDir}`));
  if (await b.probeCache(state, cfg)) return;
  const id = await b.containers.createForConfig(state, cfg);
  // The directory is made at once, root-owned, as dockerd's ContainerCreateWorkdir does.
  const imageFS = await b.backend.imageFS(state.imageID);
  try {
    const layer = new PendingLayer(imageFS);
    try {
      const parts = layer.resolve(posix.normalize(rc.WorkingDir), true);
      const st = layer.lstat(parts);
      if (st && st.type !== 'dir') throw new DispatchError(`Cannot mkdir: ${rc.WorkingDir} is not a directory`);
      layer.mkdirAll(parts, 0o755, 0, 0);
    } catch (err) {
      if (err instanceof LayerPlanError) throw new DispatchError(`Cannot mkdir: ${err.message}`);
      throw err;
    }
    await b.commitLayer(state, layer.size > 0 ? layer.list() : undefined, cfg, id);
  } finally {
    await imageFS.close();
  }
}

// ---- COPY and ADD ---------------------------------------------------------------

const isUrl = (s: string) => /^https?:\/\//i.test(s);

async function dispatchCopy(s: StepContext, c: Cmd<'copy'> | Cmd<'add'>, name: 'COPY' | 'ADD'): Promise<void> {
  const { b, state } = s;
  if (c.chmod !== '') throw requiresBuildKit('chmod');
  const cleanupsFirst: Array<() => Promise<void>> = [];
  let source: CopySource | undefined;
  let preserveOwnership = false;
  if (c.kind === 'copy' && c.from !== '') {
    let imageId: string;
    try {
      imageId = await b.imageForFrom(c.from, state);
    } catch (err) {
      throw new DispatchError(`invalid from flag value ${c.from}: ${(err as Error).message}`);
    }
    const fromFS = await b.backend.imageFS(imageId);
    source = new ImageSource(imageId, fromFS);
    preserveOwnership = c.chown === '';
    cleanupsFirst.push(() => fromFS.close());
  } else if (b.context) source = new ContextSource(b.context);
  const exclude = c.exclude.length > 0 ? new PatternMatcher(c.exclude) : undefined;
  const infos: CopyInfo[] = [];
  const cleanups: Array<() => Promise<void>> = cleanupsFirst;
  try {
    try {
      for (const orig of c.sourcePaths) {
        if (isUrl(orig)) {
          if (c.kind === 'copy') throw new CopyError("source can't be a URL for COPY");
          const dl = await b.download(orig, c.dest, c.checksum);
          cleanups.push(dl.cleanup);
          infos.push({ source: dl.source, path: dl.name, hash: 'file:' + (await dl.source.hash(dl.name)), noDecompress: c.unpack !== true });
          continue;
        }
        if (!source) throw new CopyError('missing build context');
        infos.push(...(await copyInfosFor(source, orig, { ...(exclude ? { exclude } : {}), parents: c.kind === 'copy' && c.parents })));
      }
      for (const content of c.sourceContents) {
        let data = content.data;
        if (content.expand) data = new ShellLex('\\', { skipProcessQuotes: true }).processWord(data, envFromList(expansionEnv(s.state)));
        const file = new SingleFileSource('inline', content.path, Buffer.from(data), { mode: 0o644, mtime: Math.floor(Date.now() / 1000) });
        infos.push({ source: file, path: content.path, hash: 'file:' + (await file.hash(content.path)), noDecompress: true });
      }
      if (infos.length === 0) throw new CopyError('no source files were specified');
    } catch (err) {
      if (err instanceof CopyError) throw new DispatchError(`${name} failed: ${err.message}`);
      throw err;
    }
    if (infos.length > 1 && !c.dest.endsWith('/')) throw new DispatchError(`When using ${name} with more than one source file, the destination must be a directory and end with a /`);
    // dockerd 20.10 writes the --chown flag without a space before the hash.
    const chown = c.chown !== '' ? `--chown=${c.chown}` : '';
    const cfg = copyRunConfig(state.runConfig, withCmdCommentString(`${name} ${chown}${sourceHash(infos)} in ${c.dest} `));
    if (await b.probeCache(state, cfg)) return;
    const imageFS = await b.backend.imageFS(state.imageID);
    cleanups.push(() => imageFS.close());
    const layer = new PendingLayer(imageFS);
    let identity: Identity | undefined = { uid: 0, gid: 0 };
    if (c.chown !== '') {
      try {
        identity = await resolveChown(c.chown, layer, imageFS);
      } catch (err) {
        throw new DispatchError((err as Error).message);
      }
    } else if (preserveOwnership) identity = undefined;
    const dest = normalizeDest(state.runConfig.WorkingDir ?? '', c.dest);
    try {
      cleanups.push(...(await performCopy(layer, dest, infos, { identity, decompress: c.kind === 'add' && c.unpack !== false, ...(exclude ? { exclude } : {}), tmpDir: b.tmpDir })));
    } catch (err) {
      if (err instanceof CopyError || err instanceof LayerPlanError) throw new DispatchError(`failed to copy files: ${err.message}`);
      throw err;
    }
    await b.commitLayer(state, layer.list(), cfg, '');
  } finally {
    for (const cleanup of cleanups) await cleanup().catch(() => undefined);
  }
}

// ---- RUN --------------------------------------------------------------------------

/**
 * moby's prependEnvOnCmd: the build args in the history and cache key
 * (`|2 A=1 B=2 /bin/sh -c ...`), sorted, leaving out proxy variables no ARG declared.
 */
export function prependEnvOnCmd(state: DispatchState, buildArgs: readonly string[], cmd: readonly string[]): string[] {
  const kept = buildArgs.filter((e) => state.buildArgs.isReferencedOrNotBuiltin(e.split('=', 1)[0]!)).sort();
  return [`|${kept.length}`, ...kept, ...cmd];
}

/** Heredocs in RUN, as BuildKit runs them: a script with a #! runs as a file, others through the shell. */
async function heredocCommand(s: StepContext, c: Cmd<'run'>): Promise<{ cmdLine: string[]; binds: string[]; cleanup?: () => Promise<void> }> {
  const line = c.cmdLine ?? [];
  if (line.length !== 1 || !c.prependShell) throw new DispatchError(`parsing produced an invalid run command: ${goList(line)}`);
  const first = c.files[0]!;
  if (!parseHeredoc(line[0]!)) {
    // A heredoc inside a longer command: the shell gets the whole text and reads the body itself.
    let text = line[0]!;
    for (const f of c.files) text += `\n${f.data}${f.name}`;
    return { cmdLine: [text], binds: [] };
  }
  const data = first.chomp ? chompHeredocContent(first.data) : first.data;
  if (!data.startsWith('#!')) return { cmdLine: [data], binds: [] };
  const dir = path.join(s.b.tmpDir, `heredoc-${randomBytes(6).toString('hex')}`);
  await fsp.mkdir(dir, { recursive: true, mode: 0o755 });
  await fsp.writeFile(path.join(dir, first.name), data, { mode: 0o755 });
  return { cmdLine: [`/dev/pipes/${first.name}`], binds: [`${dir}:/dev/pipes:ro`], cleanup: () => fsp.rm(dir, { recursive: true, force: true }) };
}

async function dispatchRun(s: StepContext, c: Cmd<'run'>): Promise<void> {
  const { b, state } = s;
  if (c.flagsUsed.length > 0) throw requiresBuildKit(c.flagsUsed[0]!);
  let cmdLine = c.cmdLine;
  let binds: string[] = [];
  let cleanup: (() => Promise<void>) | undefined;
  if (c.files.length > 0) ({ cmdLine, binds, cleanup } = await heredocCommand(s, c));
  try {
    const rc = state.runConfig;
    const cmdFromArgs = resolveCmdLine({ cmdLine, prependShell: c.prependShell }, rc) ?? [];
    const buildArgs = state.buildArgs.filterAllowed(rc.Env);
    const saveCmd = buildArgs.length > 0 ? prependEnvOnCmd(state, buildArgs, cmdFromArgs) : cmdFromArgs;
    const probeCfg = copyRunConfig(rc, (x) => {
      x.Cmd = saveCmd;
      x.ArgsEscaped = false;
      if (saveCmd.length > 0) x.Entrypoint = null;
    });
    if (await b.probeCache(state, probeCfg)) return;
    if (!state.imageID) throw new DispatchError(`The command '${cmdFromArgs.join(' ')}' cannot run: this stage starts FROM scratch and has no files yet`);
    const runCfg = copyRunConfig(rc, (x) => {
      x.Cmd = cmdFromArgs;
      x.ArgsEscaped = false;
      x.Env = [...(rc.Env ?? []), ...buildArgs];
      // Entrypoint [""] in dockerd: no entrypoint at all.
      if (saveCmd.length > 0) x.Entrypoint = [];
      x.Healthcheck = { Test: ['NONE'] };
    });
    const id = await b.containers.create(state, runCfg, binds);
    const result = await b.containers.run(id);
    if (result.exitCode !== 0) {
      let message = `The command '${(runCfg.Cmd ?? []).join(' ')}' returned a non-zero code: ${result.exitCode}`;
      if (result.error) message += `: ${result.error}`;
      throw new BuildStepError(message, result.exitCode);
    }
    await b.commitContainer(state, id, probeCfg);
  } finally {
    await cleanup?.().catch(() => undefined);
  }
}

// ---- ONBUILD triggers ---------------------------------------------------------

/** Runs a base image's ONBUILD triggers right after FROM. */
export async function dispatchTriggers(s: StepContext, triggers: readonly string[]): Promise<void> {
  const out = s.b.out;
  out.stdout(`# Executing ${triggers.length} build trigger`);
  if (triggers.length > 1) out.stdout('s');
  out.stdout('\n');
  for (const trigger of triggers) {
    s.state.updateRunConfig();
    let nodes;
    try {
      nodes = parseDockerfile(trigger).nodes;
    } catch (err) {
      throw new DispatchError((err as Error).message);
    }
    if (nodes.length !== 1) throw new DispatchError('onbuild trigger should be a single expression');
    let cmd: Command;
    try {
      cmd = parseCommand(nodes[0]!);
    } catch (err) {
      throw new DispatchError((err as Error).message);
    }
    await dispatch(s, cmd);
  }
}
