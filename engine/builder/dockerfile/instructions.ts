/**
 * Typed Dockerfile instructions from parsed nodes (BuildKit's
 * frontend/dockerfile/instructions, read and rewritten): argument counts,
 * `--flag` parsing per instruction, stages with their names and the
 * meta-ARGs before the first FROM — with dockerd 20.10's error texts.
 */
import { goQuote, parseGoDuration } from '../go-format.js';
import type { HealthConfig } from '../../images/oci.js';
import { chompHeredocContent, parseHeredoc, type Heredoc, type Node } from './parser.js';

export class InstructionError extends Error {
  constructor(
    message: string,
    readonly line: number,
  ) {
    super(message);
  }
}

export interface KeyValue {
  key: string;
  value: string;
  /** Legacy `ENV k v` form (no `=`). */
  noDelim?: boolean;
}

interface Base {
  /** The keyword as written. */
  keyword: string;
  /** The instruction's text as printed in "Step i/N : ...". */
  code: string;
  line: number;
}

export interface InlineFile {
  name: string;
  data: string;
  chomp: boolean;
  expand: boolean;
}

export interface ShellDependentCmdLine {
  /** Exec form arguments, or [the shell-form command]; null when absent (ENTRYPOINT []). */
  cmdLine: string[] | null;
  prependShell: boolean;
  files: InlineFile[];
}

export interface SourcesAndDest {
  sourcePaths: string[];
  /** Heredoc sources (`COPY <<EOF /dst`). */
  sourceContents: Array<{ path: string; data: string; expand: boolean }>;
  dest: string;
}

export type Command =
  | (Base & { kind: 'env'; env: KeyValue[] })
  | (Base & { kind: 'maintainer'; maintainer: string })
  | (Base & { kind: 'label'; labels: KeyValue[]; noExpand: boolean })
  | (Base & SourcesAndDest & { kind: 'add'; chown: string; chmod: string; link: boolean; checksum: string; unpack: boolean | undefined; exclude: string[]; keepGitDir: boolean | undefined })
  | (Base & SourcesAndDest & { kind: 'copy'; chown: string; chmod: string; from: string; link: boolean; parents: boolean; exclude: string[] })
  | (Base & { kind: 'onbuild'; expression: string })
  | (Base & { kind: 'workdir'; path: string })
  | (Base & ShellDependentCmdLine & { kind: 'run'; flagsUsed: string[] })
  | (Base & ShellDependentCmdLine & { kind: 'cmd' })
  | (Base & ShellDependentCmdLine & { kind: 'entrypoint' })
  | (Base & { kind: 'healthcheck'; health: HealthConfig })
  | (Base & { kind: 'expose'; ports: string[] })
  | (Base & { kind: 'user'; user: string })
  | (Base & { kind: 'volume'; volumes: string[] })
  | (Base & { kind: 'stopsignal'; signal: string })
  | (Base & { kind: 'arg'; args: Array<{ key: string; value: string | undefined }> })
  | (Base & { kind: 'shell'; shell: string[] });

export type ArgCommand = Extract<Command, { kind: 'arg' }>;

export interface Stage {
  /** Lower-cased `AS` name, or ''. */
  name: string;
  baseName: string;
  platform: string;
  /** The FROM line, for "Step i/N : FROM ...". */
  sourceCode: string;
  commands: Command[];
  line: number;
}

export interface ParsedDockerfile {
  stages: Stage[];
  metaArgs: ArgCommand[];
}

// ---- flags ------------------------------------------------------------------

type FlagType = 'bool' | 'string' | 'strings';

/** `--name[=value]` flags of one instruction (BuildKit's BFlags, dockerd 20.10's messages). */
class Flags {
  private readonly defs = new Map<string, FlagType>();
  private readonly values = new Map<string, string | string[]>();
  readonly used: string[] = [];

  constructor(private readonly args: readonly string[]) {}

  bool(name: string): this {
    this.defs.set(name, 'bool');
    return this;
  }
  string(name: string): this {
    this.defs.set(name, 'string');
    return this;
  }
  strings(name: string): this {
    this.defs.set(name, 'strings');
    return this;
  }

  parse(): this {
    for (const a of this.args) {
      if (a === '--') return this;
      if (!a.startsWith('--')) throw new Error(`Arg should start with -- : ${a}`);
      let name = a.slice(2);
      let value = '';
      const eq = name.indexOf('=');
      if (eq >= 0) {
        value = name.slice(eq + 1);
        name = name.slice(0, eq);
      }
      const type = this.defs.get(name);
      if (!type) throw new Error(`Unknown flag: ${name}`);
      if (this.used.includes(name) && type !== 'strings') throw new Error(`Duplicate flag specified: ${name}`);
      if (!this.used.includes(name)) this.used.push(name);
      switch (type) {
        case 'bool': {
          if (eq >= 0 && value === '') throw new Error(`Missing a value on flag: ${name}`);
          const lower = value.toLowerCase();
          if (lower !== '' && lower !== 'true' && lower !== 'false') throw new Error(`Expecting boolean value for flag ${name}, not: ${value}`);
          this.values.set(name, lower === '' ? 'true' : lower);
          break;
        }
        case 'string':
          if (eq < 0) throw new Error(`Missing a value on flag: ${name}`);
          this.values.set(name, value);
          break;
        case 'strings':
          if (eq < 0) throw new Error(`Missing a value on flag: ${name}`);
          this.values.set(name, [...((this.values.get(name) as string[] | undefined) ?? []), value]);
          break;
      }
    }
    return this;
  }

  str(name: string): string {
    const v = this.values.get(name);
    return typeof v === 'string' ? v : '';
  }
  list(name: string): string[] {
    const v = this.values.get(name);
    return Array.isArray(v) ? v : [];
  }
  isTrue(name: string): boolean {
    return this.values.get(name) === 'true';
  }
  /** A bool flag's value only when it was given. */
  optionalBool(name: string): boolean | undefined {
    return this.used.includes(name) ? this.isTrue(name) : undefined;
  }
}

// ---- helpers ----------------------------------------------------------------

const atLeastOne = (cmd: string) => new Error(`${cmd} requires at least one argument`);
const exactlyOne = (cmd: string) => new Error(`${cmd} requires exactly one argument`);

/** CMD, ENTRYPOINT, RUN, SHELL: exec form as is, shell form as one string. */
function jsonArgs(args: readonly string[], json: boolean): string[] {
  if (args.length === 0) return [];
  if (json) return [...args];
  return [args.join(' ')];
}

function base(node: Node): Base {
  return { keyword: node.value, code: node.original.trim(), line: node.startLine };
}

function inlineFiles(node: Node): InlineFile[] {
  return node.heredocs.map((h: Heredoc) => ({ name: h.name, data: h.content, chomp: h.chomp, expand: h.expand }));
}

function shellDependent(node: Node, emptyAsNull: boolean): ShellDependentCmdLine {
  const args = jsonArgs(node.args, node.json);
  return { cmdLine: emptyAsNull && args.length === 0 ? null : args, prependShell: !node.json, files: inlineFiles(node) };
}

function keyValues(args: readonly string[], cmd: string): KeyValue[] {
  if (args.length === 0) throw atLeastOne(cmd);
  if (args.length % 3 !== 0) throw new Error(`Bad input to ${cmd}, too many arguments`);
  const out: KeyValue[] = [];
  for (let i = 0; i < args.length; i += 3) {
    if (args[i]!.length === 0) throw new Error(`${cmd} names can not be blank`);
    out.push({ key: args[i]!, value: args[i + 1]!, ...(args[i + 2] === '' ? { noDelim: true } : {}) });
  }
  return out;
}

function sourcesAndDest(node: Node, cmd: string): SourcesAndDest {
  const args = node.args;
  if (args.length < 2) throw new Error(`${cmd} requires at least two arguments, but only one was provided. Destination could not be determined`);
  const dest = args[args.length - 1]!;
  if (parseHeredoc(dest)) throw new Error(`${cmd} cannot accept a heredoc as a destination`);
  const byName = new Map(node.heredocs.map((h) => [h.name, h]));
  const out: SourcesAndDest = { sourcePaths: [], sourceContents: [], dest };
  for (const src of args.slice(0, -1)) {
    const h = parseHeredoc(src);
    if (!h) {
      out.sourcePaths.push(src);
      continue;
    }
    let data = byName.get(h.name)?.content ?? '';
    if (h.chomp) data = chompHeredocContent(data);
    out.sourceContents.push({ path: h.name, data, expand: h.expand });
  }
  return out;
}

function optInterval(flags: Flags, name: string): number {
  const v = flags.str(name);
  if (v === '') return 0;
  const d = parseGoDuration(v);
  if (d === 0) return 0;
  if (d < 1e6) throw new Error(`Interval ${goQuote(name)} cannot be less than 1ms`);
  return d;
}

function parseHealthcheck(node: Node): Command {
  if (node.args.length === 0) throw atLeastOne('HEALTHCHECK');
  const type = node.args[0]!.toUpperCase();
  const rest = node.args.slice(1);
  if (type === 'NONE') {
    if (rest.length !== 0) throw new Error('HEALTHCHECK NONE takes no arguments');
    return { ...base(node), kind: 'healthcheck', health: { Test: ['NONE'] } };
  }
  const flags = new Flags(node.flags).string('interval').string('timeout').string('start-period').string('start-interval').string('retries').parse();
  if (type !== 'CMD') throw new Error(`Unknown type ${goQuote(type)} in HEALTHCHECK (try CMD)`);
  const cmd = jsonArgs(rest, node.json);
  if (cmd.length === 0) throw new Error('Missing command after HEALTHCHECK CMD');
  const health: HealthConfig = { Test: [node.json ? 'CMD' : 'CMD-SHELL', ...cmd] };
  health.Interval = optInterval(flags, 'interval');
  health.Timeout = optInterval(flags, 'timeout');
  health.StartPeriod = optInterval(flags, 'start-period');
  const startInterval = optInterval(flags, 'start-interval');
  if (startInterval) health.StartInterval = startInterval;
  const retries = flags.str('retries');
  if (retries !== '') {
    if (!/^[+-]?\d+$/.test(retries) || Math.abs(Number(retries)) > 2147483647) throw new Error(`strconv.ParseInt: parsing ${goQuote(retries)}: ${/^[+-]?\d+$/.test(retries) ? 'value out of range' : 'invalid syntax'}`);
    const n = Number(retries);
    if (n < 0) throw new Error(`--retries cannot be negative (${n})`);
    health.Retries = n;
  } else health.Retries = 0;
  return { ...base(node), kind: 'healthcheck', health };
}

function parseStage(node: Node): Stage {
  const args = node.args;
  let name = '';
  if (args.length === 3 && args[1]!.toLowerCase() === 'as') {
    name = args[2]!.toLowerCase();
    if (!/^[a-z][a-z0-9-_.]*$/.test(name)) throw new Error(`invalid name for build stage: ${goQuote(args[2]!)}, name can't start with a number or contain symbols`);
  } else if (args.length !== 1) throw new Error('FROM requires either one or three arguments');
  const flags = new Flags(node.flags).string('platform').parse();
  return { name, baseName: args[0]!, platform: flags.str('platform'), sourceCode: node.original.trim(), commands: [], line: node.startLine };
}

/** One node as an instruction or a stage (FROM). Throws plain Errors (the caller adds the line). */
export function parseInstruction(node: Node): Command | Stage {
  const kw = node.value.toLowerCase();
  const args = node.args;
  switch (kw) {
    case 'from':
      return parseStage(node);
    case 'env':
      new Flags(node.flags).parse();
      return { ...base(node), kind: 'env', env: keyValues(args, 'ENV') };
    case 'maintainer':
      if (args.length !== 1) throw exactlyOne('MAINTAINER');
      new Flags(node.flags).parse();
      return { ...base(node), kind: 'maintainer', maintainer: args[0]! };
    case 'label':
      new Flags(node.flags).parse();
      return { ...base(node), kind: 'label', labels: keyValues(args, 'LABEL'), noExpand: false };
    case 'add': {
      if (args.length < 2) throw new Error('ADD requires at least two arguments, but only one was provided. Destination could not be determined');
      const f = new Flags(node.flags).string('chown').string('chmod').bool('link').bool('keep-git-dir').string('checksum').bool('unpack').strings('exclude').parse();
      return {
        ...base(node),
        kind: 'add',
        ...sourcesAndDest(node, 'ADD'),
        chown: f.str('chown'),
        chmod: f.str('chmod'),
        link: f.isTrue('link'),
        keepGitDir: f.optionalBool('keep-git-dir'),
        checksum: f.str('checksum'),
        unpack: f.optionalBool('unpack'),
        exclude: f.list('exclude'),
      };
    }
    case 'copy': {
      if (args.length < 2) throw new Error('COPY requires at least two arguments, but only one was provided. Destination could not be determined');
      const f = new Flags(node.flags).string('chown').string('from').string('chmod').bool('link').strings('exclude').bool('parents').parse();
      return {
        ...base(node),
        kind: 'copy',
        ...sourcesAndDest(node, 'COPY'),
        from: f.str('from'),
        chown: f.str('chown'),
        chmod: f.str('chmod'),
        link: f.isTrue('link'),
        parents: f.isTrue('parents'),
        exclude: f.list('exclude'),
      };
    }
    case 'onbuild': {
      if (args.length === 0) throw atLeastOne('ONBUILD');
      new Flags(node.flags).parse();
      const trigger = args[0]!.trim().toUpperCase();
      if (trigger === 'ONBUILD') throw new Error("Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed");
      if (trigger === 'MAINTAINER' || trigger === 'FROM') throw new Error(`${trigger} isn't allowed as an ONBUILD trigger`);
      let expression = node.original.replace(/^\s*ONBUILD\s*/i, '');
      for (const h of node.heredocs) expression += `\n${h.content}${h.name}`;
      return { ...base(node), kind: 'onbuild', expression };
    }
    case 'workdir':
      if (args.length !== 1) throw exactlyOne('WORKDIR');
      new Flags(node.flags).parse();
      return { ...base(node), kind: 'workdir', path: args[0]! };
    case 'run': {
      // Accepted so the dispatcher can answer dockerd's "requires BuildKit" instead of "Unknown flag".
      const f = new Flags(node.flags).strings('mount').string('network').string('security').strings('device').parse();
      return { ...base(node), kind: 'run', ...shellDependent(node, false), flagsUsed: f.used };
    }
    case 'cmd':
      new Flags(node.flags).parse();
      return { ...base(node), kind: 'cmd', ...shellDependent(node, false) };
    case 'entrypoint':
      new Flags(node.flags).parse();
      return { ...base(node), kind: 'entrypoint', ...shellDependent(node, true) };
    case 'healthcheck':
      return parseHealthcheck(node);
    case 'expose':
      if (args.length === 0) throw atLeastOne('EXPOSE');
      new Flags(node.flags).parse();
      return { ...base(node), kind: 'expose', ports: [...args].sort() };
    case 'user':
      if (args.length !== 1) throw exactlyOne('USER');
      new Flags(node.flags).parse();
      return { ...base(node), kind: 'user', user: args[0]! };
    case 'volume': {
      if (args.length === 0) throw atLeastOne('VOLUME');
      new Flags(node.flags).parse();
      const volumes = args.map((v) => v.trim());
      if (volumes.some((v) => v === '')) throw new Error('VOLUME specified can not be an empty string');
      return { ...base(node), kind: 'volume', volumes };
    }
    case 'stopsignal':
      if (args.length !== 1) throw exactlyOne('STOPSIGNAL');
      return { ...base(node), kind: 'stopsignal', signal: args[0]! };
    case 'arg': {
      if (args.length === 0) throw atLeastOne('ARG');
      const out: Array<{ key: string; value: string | undefined }> = [];
      for (const a of args) {
        const eq = a.indexOf('=');
        if (eq < 0) {
          out.push({ key: a, value: undefined });
          continue;
        }
        if (eq === 0) throw new Error('ARG names can not be blank');
        out.push({ key: a.slice(0, eq), value: a.slice(eq + 1) });
      }
      return { ...base(node), kind: 'arg', args: out };
    }
    case 'shell': {
      new Flags(node.flags).parse();
      const shell = jsonArgs(args, node.json);
      if (shell.length === 0) throw atLeastOne('SHELL');
      if (!node.json) throw new Error('SHELL requires the arguments to be in JSON form');
      return { ...base(node), kind: 'shell', shell };
    }
    default:
      throw new Error(`unknown instruction: ${node.value.toUpperCase()}`);
  }
}

/** A trigger or a `--change` line: one instruction that must not be FROM. */
export function parseCommand(node: Node): Command {
  let parsed: Command | Stage;
  try {
    parsed = parseInstruction(node);
  } catch (err) {
    throw new InstructionError((err as Error).message, node.startLine);
  }
  if (!('kind' in parsed)) throw new InstructionError('*instructions.Stage is not a command type', node.startLine);
  return parsed;
}

/** The nodes of a Dockerfile as stages (plus the ARGs before the first FROM). */
export function parseStages(nodes: readonly Node[]): ParsedDockerfile {
  const stages: Stage[] = [];
  const metaArgs: ArgCommand[] = [];
  for (const node of nodes) {
    let parsed: Command | Stage;
    try {
      parsed = parseInstruction(node);
    } catch (err) {
      throw new InstructionError(`dockerfile parse error line ${node.startLine}: ${(err as Error).message}`, node.startLine);
    }
    if (!('kind' in parsed)) {
      stages.push(parsed);
      continue;
    }
    if (stages.length === 0) {
      if (parsed.kind === 'arg') {
        metaArgs.push(parsed);
        continue;
      }
      throw new InstructionError('no build stage in current context', node.startLine);
    }
    stages[stages.length - 1]!.commands.push(parsed);
  }
  return { stages, metaArgs };
}

/** The LABEL a `--label` option adds to the last stage (not expanded). */
export function labelCommand(key: string, value: string): Command {
  return { keyword: 'label', code: `LABEL ${key}=${value}`, line: 0, kind: 'label', labels: [{ key, value }], noExpand: true };
}
