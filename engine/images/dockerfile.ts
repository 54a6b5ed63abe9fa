/**
 * Dockerfile syntax: instructions with line continuations, comments,
 * JSON (exec) and shell forms, and key=value lists. Used by `--change` on
 * import and commit (and by the builder).
 */
import { posix } from 'node:path';
import { InvalidParameterError } from '../errdefs.js';
import type { HealthConfig, ImageRunConfig } from './oci.js';
import { parseSignal } from '../system/signals.js';

export interface Instruction {
  /** Upper-case keyword (CMD, ENV...). */
  name: string;
  /** Text after the keyword, continuations joined. */
  args: string;
  /** Parsed JSON array when the exec form was used. */
  json: string[] | undefined;
  line: number;
  /** Flags like --from=x given before the arguments. */
  flags: Record<string, string>;
}

function parseJsonArray(s: string): string[] | undefined {
  const t = s.trim();
  if (!t.startsWith('[')) return undefined;
  try {
    const v = JSON.parse(t) as unknown;
    if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return v as string[];
  } catch {
    /* shell form */
  }
  return undefined;
}

export function parseDockerfile(text: string): Instruction[] {
  const lines = text.split(/\r?\n/);
  let escape = '\\';
  const out: Instruction[] = [];
  let i = 0;
  // Parser directives (# escape=`) appear before any instruction.
  for (; i < lines.length; i++) {
    const m = /^#\s*([a-zA-Z]+)\s*=\s*(\S+)\s*$/.exec(lines[i]!);
    if (!m) break;
    if (m[1]!.toLowerCase() === 'escape') escape = m[2]!;
  }
  while (i < lines.length) {
    const startLine = i + 1;
    let line = lines[i++]!;
    if (/^\s*#/.test(line) || line.trim() === '') continue;
    while (line.trimEnd().endsWith(escape) && i < lines.length) {
      line = line.trimEnd().slice(0, -escape.length);
      // Comment lines inside a continuation are dropped.
      let next = lines[i++]!;
      while (/^\s*#/.test(next) && i < lines.length) next = lines[i++]!;
      line += next;
    }
    const m = /^\s*(\S+)\s*(.*)$/s.exec(line);
    if (!m) continue;
    let rest = m[2]!;
    const flags: Record<string, string> = {};
    for (;;) {
      const f = /^--([a-zA-Z-]+)(?:=(\S*))?\s*(.*)$/s.exec(rest);
      if (!f) break;
      flags[f[1]!] = f[2] ?? 'true';
      rest = f[3]!;
    }
    out.push({ name: m[1]!.toUpperCase(), args: rest.trim(), json: parseJsonArray(rest), line: startLine, flags });
  }
  return out;
}

/** Splits words honouring quotes (for ENV/LABEL key=value lists). */
export function splitWords(s: string): string[] {
  const words: string[] = [];
  let cur = '';
  let quote: string | null = null;
  let inWord = false;
  for (let i = 0; i < s.length; i++) {
    const ch = s[i]!;
    if (quote) {
      if (ch === quote) quote = null;
      else if (ch === '\\' && quote === '"' && i + 1 < s.length) cur += s[++i];
      else cur += ch;
      continue;
    }
    if (ch === '"' || ch === "'") {
      quote = ch;
      inWord = true;
      continue;
    }
    if (ch === '\\' && i + 1 < s.length) {
      cur += s[++i];
      inWord = true;
      continue;
    }
    if (/\s/.test(ch)) {
      if (inWord) words.push(cur);
      cur = '';
      inWord = false;
      continue;
    }
    cur += ch;
    inWord = true;
  }
  if (quote) throw new InvalidParameterError(`unexpected end of statement while looking for matching ${quote}`);
  if (inWord) words.push(cur);
  return words;
}

/** ENV/LABEL arguments: "k=v k2=v2" or the legacy "k v" form. */
export function parseKeyValues(name: string, args: string): Array<[string, string]> {
  const words = splitWords(args);
  if (words.length === 0) throw new InvalidParameterError(`${name} requires at least one argument`);
  if (!words[0]!.includes('=')) {
    const m = /^(\S+)\s+(.*)$/s.exec(args.trim());
    if (!m) throw new InvalidParameterError(`${name} must have two arguments`);
    return [[m[1]!, m[2]!.trim()]];
  }
  return words.map((w) => {
    const eq = w.indexOf('=');
    if (eq <= 0) throw new InvalidParameterError(`${name} names can not be blank`);
    return [w.slice(0, eq), w.slice(eq + 1)];
  });
}

const commitCommands = new Set(['CMD', 'ENTRYPOINT', 'HEALTHCHECK', 'ENV', 'EXPOSE', 'LABEL', 'ONBUILD', 'STOPSIGNAL', 'USER', 'VOLUME', 'WORKDIR']);

/** Duration strings like "30s", "1m30s", "500ms" to nanoseconds. */
export function parseDuration(s: string): number {
  const re = /(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/g;
  let total = 0;
  let consumed = 0;
  for (const m of s.matchAll(re)) {
    const mult: Record<string, number> = { ns: 1, us: 1e3, µs: 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 };
    total += Number(m[1]) * mult[m[2]!]!;
    consumed += m[0].length;
  }
  if (consumed !== s.length || s.length === 0) throw new InvalidParameterError(`time: invalid duration "${s}"`);
  return Math.round(total);
}

/** Applies one config-changing instruction (CMD, ENV, ...) to a run config. */
export function applyInstruction(cfg: ImageRunConfig, ins: Instruction, shell: string[] = ['/bin/sh', '-c']): void {
  const cmdForm = () => ins.json ?? [...shell, ins.args];
  switch (ins.name) {
    case 'CMD':
      cfg.Cmd = cmdForm();
      break;
    case 'ENTRYPOINT':
      cfg.Entrypoint = ins.json ?? (ins.args === '' ? null : [...shell, ins.args]);
      cfg.Cmd = null;
      break;
    case 'ENV': {
      const env = [...(cfg.Env ?? [])];
      for (const [k, v] of parseKeyValues('ENV', ins.args)) {
        const at = env.findIndex((e) => e.split('=', 1)[0] === k);
        if (at >= 0) env[at] = `${k}=${v}`;
        else env.push(`${k}=${v}`);
      }
      cfg.Env = env;
      break;
    }
    case 'LABEL': {
      const labels = { ...(cfg.Labels ?? {}) };
      for (const [k, v] of parseKeyValues('LABEL', ins.args)) labels[k] = v;
      cfg.Labels = labels;
      break;
    }
    case 'EXPOSE': {
      const ports = { ...(cfg.ExposedPorts ?? {}) };
      for (const p of splitWords(ins.args)) {
        const m = /^(\d+)(?:-(\d+))?(?:\/(tcp|udp|sctp))?$/i.exec(p);
        if (!m) throw new InvalidParameterError(`invalid containerPort: ${p}`);
        const lo = Number(m[1]);
        const hi = Number(m[2] ?? m[1]);
        for (let n = lo; n <= hi; n++) ports[`${n}/${(m[3] ?? 'tcp').toLowerCase()}`] = {};
      }
      cfg.ExposedPorts = ports;
      break;
    }
    case 'USER':
      if (ins.args === '') throw new InvalidParameterError('USER requires exactly one argument');
      cfg.User = ins.args;
      break;
    case 'WORKDIR': {
      if (ins.args === '') throw new InvalidParameterError('WORKDIR requires exactly one argument');
      // moby's normalizeWorkdir: an absolute path is kept as given, a relative one is joined (and cleaned).
      cfg.WorkingDir = ins.args.startsWith('/') ? ins.args : posix.join('/', cfg.WorkingDir || '/', ins.args).replace(/(.)\/$/, '$1');
      break;
    }
    case 'VOLUME': {
      const vols = { ...(cfg.Volumes ?? {}) };
      for (const v of ins.json ?? splitWords(ins.args)) {
        if (v.trim() === '') throw new InvalidParameterError('VOLUME specified can not be an empty string');
        vols[v] = {};
      }
      cfg.Volumes = vols;
      break;
    }
    case 'STOPSIGNAL':
      parseSignal(ins.args);
      cfg.StopSignal = ins.args;
      break;
    case 'ONBUILD': {
      const inner = /^\s*(\S+)/.exec(ins.args)?.[1]?.toUpperCase();
      if (!inner) throw new InvalidParameterError('ONBUILD requires at least one argument');
      if (inner === 'ONBUILD') throw new InvalidParameterError("Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed");
      if (inner === 'FROM' || inner === 'MAINTAINER') throw new InvalidParameterError(`${inner} isn't allowed as an ONBUILD trigger`);
      cfg.OnBuild = [...(cfg.OnBuild ?? []), ins.args];
      break;
    }
    case 'HEALTHCHECK': {
      const h: HealthConfig = {};
      const f = ins.flags;
      const rest = ins.args;
      const kind = /^\s*(\S+)/.exec(rest)?.[1]?.toUpperCase();
      if (kind === 'NONE') {
        cfg.Healthcheck = { Test: ['NONE'] };
        break;
      }
      if (kind !== 'CMD') throw new InvalidParameterError('Unknown type "' + (kind ?? '') + '" in HEALTHCHECK (try CMD)');
      const after = rest.replace(/^\s*\S+\s*/, '');
      const json = parseJsonArray(after);
      h.Test = json ? ['CMD', ...json] : ['CMD-SHELL', after];
      if (f.interval) h.Interval = parseDuration(f.interval);
      if (f.timeout) h.Timeout = parseDuration(f.timeout);
      if (f['start-period']) h.StartPeriod = parseDuration(f['start-period']);
      if (f['start-interval']) h.StartInterval = parseDuration(f['start-interval']);
      if (f.retries) h.Retries = Number(f.retries);
      cfg.Healthcheck = h;
      break;
    }
    default:
      throw new InvalidParameterError(`unknown instruction: ${ins.name}`);
  }
}

/** Instructions whose arguments get $VAR substitution (moby's replaceEnvAllowed, minus build-only ones). */
const expandEnvIn = new Set(['ENV', 'EXPOSE', 'LABEL', 'STOPSIGNAL', 'USER', 'VOLUME', 'WORKDIR']);

/**
 * Substitutes $VAR, ${VAR}, ${VAR:-default} and ${VAR:+alt} from env the way
 * Dockerfile words do: not inside single quotes, not after an escape. The
 * substituted text is escaped so that it stays one literal word.
 */
export function expandEnv(text: string, env: readonly string[] | null | undefined, escape = '\\'): string {
  const vars = new Map<string, string>();
  for (const e of env ?? []) {
    const eq = e.indexOf('=');
    if (eq > 0) vars.set(e.slice(0, eq), e.slice(eq + 1));
  }
  const literal = (v: string, inDouble: boolean) => (inDouble ? v.replace(/["\\$]/g, (c) => escape + c) : v.replace(/[\s"'\\$]/g, (c) => escape + c));
  let out = '';
  let single = false;
  let double = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (single) {
      out += ch;
      if (ch === "'") single = false;
      continue;
    }
    if (ch === escape && i + 1 < text.length) {
      out += ch + text[++i];
      continue;
    }
    if (ch === "'" && !double) single = true;
    if (ch === '"') double = !double;
    if (ch !== '$') {
      out += ch;
      continue;
    }
    const rest = text.slice(i + 1);
    const braced = /^\{([A-Za-z_][A-Za-z0-9_]*)(?:(:[-+])([^}]*))?\}/.exec(rest);
    const plain = /^[A-Za-z_][A-Za-z0-9_]*/.exec(rest);
    if (braced) {
      const [all, name, op, word] = braced;
      const v = vars.get(name!);
      let value = v ?? '';
      if (op === ':-') value = v ? v : expandEnv(word ?? '', env, escape);
      else if (op === ':+') value = v ? expandEnv(word ?? '', env, escape) : '';
      out += op ? value : literal(value, double);
      i += all.length;
    } else if (plain) {
      out += literal(vars.get(plain[0]) ?? '', double);
      i += plain[0].length;
    } else if (rest.startsWith('{')) {
      throw new InvalidParameterError(`failed to process "${text}": missing '}' or invalid variable name`);
    } else out += ch;
  }
  return out;
}

/** Applies `--change` lines (import, commit) to a config. */
export function applyChanges(cfg: ImageRunConfig, changes: readonly string[]): ImageRunConfig {
  const out: ImageRunConfig = structuredClone(cfg);
  let cmdSet = false;
  for (const parsed of parseDockerfile(changes.join('\n'))) {
    if (!commitCommands.has(parsed.name)) throw new InvalidParameterError(`${parsed.name.toLowerCase()} is not a valid change command`);
    const ins = expandEnvIn.has(parsed.name) && !parsed.json ? { ...parsed, args: expandEnv(parsed.args, out.Env) } : parsed;
    const cmdBefore = out.Cmd;
    applyInstruction(out, ins, out.Shell && out.Shell.length > 0 ? out.Shell : undefined);
    // An ENTRYPOINT resets CMD unless a CMD came earlier in the same set (moby's cmdSet).
    if (ins.name === 'ENTRYPOINT' && cmdSet) out.Cmd = cmdBefore ?? null;
    if (ins.name === 'CMD') cmdSet = true;
  }
  return out;
}
