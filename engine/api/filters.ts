/**
 * Docker API filters and timestamps, decoded: `filters` in both of the JSON forms clients
 * send ({"k":{"v":true}} from the CLI, {"k":["v"]} from dockerode), label matching, and
 * since/until values. Shared by the routes and the domain (moby's api/types/filters).
 */
import { InvalidParameterError } from '../errdefs.js';

export class Filters {
  constructor(private readonly map: Map<string, string[]> = new Map()) {}

  static parse(raw: string | null): Filters {
    if (raw === null || raw.trim() === '') return new Filters();
    let obj: unknown;
    try {
      obj = JSON.parse(raw);
    } catch {
      throw new InvalidParameterError(`invalid filter: ${raw}`);
    }
    const map = new Map<string, string[]>();
    if (obj === null) return new Filters();
    if (typeof obj !== 'object' || Array.isArray(obj)) throw new InvalidParameterError(`invalid filter: ${raw}`);
    for (const [k, v] of Object.entries(obj as Record<string, unknown>)) {
      if (Array.isArray(v)) map.set(k, v.map(String));
      else if (v && typeof v === 'object') map.set(k, Object.entries(v as Record<string, unknown>).filter(([, on]) => on === true).map(([s]) => s));
      else throw new InvalidParameterError(`invalid filter: ${raw}`);
    }
    return new Filters(map);
  }

  /** Rejects keys a route does not understand, with dockerd's wording. */
  validate(allowed: readonly string[]): this {
    for (const k of this.map.keys()) {
      if (!allowed.includes(k)) throw new InvalidParameterError(`invalid filter '${k}'`);
    }
    return this;
  }

  /** A copy with `key` set to `values` (routes that add a filter for old API versions). */
  with(key: string, values: string[]): Filters {
    return new Filters(new Map([...this.map, [key, values]]));
  }

  has(key: string): boolean {
    return (this.map.get(key)?.length ?? 0) > 0;
  }

  get(key: string): string[] {
    return this.map.get(key) ?? [];
  }

  keys(): string[] {
    return [...this.map.keys()];
  }

  /** True when no value is given for key, or when any given value satisfies pred. */
  matchAny(key: string, pred: (v: string) => boolean): boolean {
    const vals = this.get(key);
    return vals.length === 0 || vals.some(pred);
  }

  /** Bool filters like dangling=true/false/1/0. */
  bool(key: string): boolean | undefined {
    const vals = this.get(key);
    if (vals.length === 0) return undefined;
    const v = vals[vals.length - 1]!.toLowerCase();
    if (v === 'true' || v === '1') return true;
    if (v === 'false' || v === '0') return false;
    throw new InvalidParameterError(`invalid filter '${key}=${vals[vals.length - 1]}'`);
  }

  /** label filters: every given "k", "k=v" (or "k!=v") must match. */
  matchLabels(key: string, labels: Record<string, string> | null | undefined): boolean {
    return this.get(key).every((f) => labelMatches(f, labels ?? {}));
  }

  /** `label!` filters (prune): true when none of them matches. */
  noneOfLabels(key: string, labels: Record<string, string> | null | undefined): boolean {
    return !this.get(key).some((f) => labelMatches(f, labels ?? {}));
  }
}

/** One label filter: "k" (present), "k=v" (equal) or "k!=v" (not equal). */
export function labelMatches(spec: string, labels: Record<string, string>): boolean {
  const eq = spec.indexOf('=');
  if (eq < 0) return spec in labels;
  const k = spec.slice(0, eq);
  const neg = k.endsWith('!');
  const name = neg ? k.slice(0, -1) : k;
  const match = labels[name] === spec.slice(eq + 1);
  return neg ? !match : match;
}

/** Parses docker's since/until values: unix seconds with optional fraction, RFC3339, or durations like "10m". */
export function parseTimestamp(value: string, now = Date.now()): number {
  const v = value.trim();
  if (/^-?\d+(\.\d+)?$/.test(v)) return Math.round(Number(v) * 1000);
  const dur = /^(\d+(?:\.\d+)?)(ns|us|ms|s|m|h)$/.exec(v);
  if (dur) {
    const mult: Record<string, number> = { ns: 1e-6, us: 1e-3, ms: 1, s: 1000, m: 60000, h: 3600000 };
    return now - Number(dur[1]) * mult[dur[2]!]!;
  }
  const t = Date.parse(v);
  if (Number.isNaN(t)) throw new InvalidParameterError(`failed to parse value as time or duration: "${value}"`);
  return t;
}

/** Like parseTimestamp but keeps nanosecond precision (as a bigint) for log filtering. */
export function parseTimestampNanos(value: string): bigint {
  const v = value.trim();
  const m = /^(-?\d+)(?:\.(\d{1,9}))?$/.exec(v);
  if (m) return BigInt(m[1]!) * 1_000_000_000n + BigInt((m[2] ?? '').padEnd(9, '0') || '0');
  return BigInt(parseTimestamp(v)) * 1_000_000n;
}
