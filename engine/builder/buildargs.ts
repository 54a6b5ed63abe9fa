/**
 * Build arguments (moby's builder/dockerfile/buildargs.go): values from
 * `--build-arg`, ARG declarations with defaults per stage, meta-ARGs (before
 * the first FROM, visible to FROM lines and as defaults of redeclared ARGs),
 * the proxy variables that are allowed without a declaration and kept out of
 * history, and the "were not consumed" warning.
 */

/** Proxy variables: usable without ARG, never recorded in history unless declared. */
export const BUILTIN_ARGS = new Set(['HTTP_PROXY', 'http_proxy', 'HTTPS_PROXY', 'https_proxy', 'FTP_PROXY', 'ftp_proxy', 'NO_PROXY', 'no_proxy']);

export class BuildArgs {
  /** Declared in the current stage (name → default, undefined when none). */
  private allowed = new Map<string, string | undefined>();
  private readonly meta = new Map<string, string | undefined>();
  private readonly referenced = new Set<string>();

  /** From the request: a null value means `--build-arg NAME` with NAME unset on the client. */
  constructor(private readonly fromOptions: ReadonlyMap<string, string | null>) {}

  clone(): BuildArgs {
    const b = new BuildArgs(this.fromOptions);
    for (const [k, v] of this.allowed) b.allowed.set(k, v);
    for (const [k, v] of this.meta) b.meta.set(k, v);
    for (const k of this.referenced) b.referenced.add(k);
    return b;
  }

  /** A new stage starts with no declared ARGs (meta-ARGs stay). */
  resetAllowed(): void {
    this.allowed = new Map();
  }

  mergeReferenced(other: BuildArgs): void {
    for (const k of other.referenced) this.referenced.add(k);
  }

  addArg(key: string, value: string | undefined): void {
    this.allowed.set(key, value);
    this.referenced.add(key);
  }

  addMetaArg(key: string, value: string | undefined): void {
    this.meta.set(key, value);
  }

  isReferencedOrNotBuiltin(key: string): boolean {
    return this.allowed.has(key) || !BUILTIN_ARGS.has(key);
  }

  private value(key: string, source: Map<string, string | undefined>): string | undefined {
    const override = this.fromOptions.get(key);
    if (override !== undefined && override !== null) return override;
    const dflt = source.get(key);
    if (dflt === undefined) {
      const m = this.meta.get(key);
      return m ?? undefined;
    }
    return dflt;
  }

  private allFrom(source: Map<string, string | undefined>): Map<string, string> {
    const out = new Map<string, string>();
    const keys = new Set([...source.keys(), ...BUILTIN_ARGS]);
    for (const k of keys) {
      // A proxy variable counts without a declaration when the client (or a meta-ARG) gave it a value.
      const v = this.value(k, source);
      if (v !== undefined) out.set(k, v);
    }
    return out;
  }

  /** Declared ARGs (and given proxy variables) with their values. */
  allAllowed(): Map<string, string> {
    return this.allFrom(this.allowed);
  }

  /** Meta-ARGs with their values (for FROM lines). */
  allMeta(): Map<string, string> {
    return this.allFrom(this.meta);
  }

  /** `K=V` for allowed args that no ENV of the stage overrides. */
  filterAllowed(env: readonly string[] | null | undefined): string[] {
    const envKeys = new Set((env ?? []).map((e) => e.split('=', 1)[0]!));
    const out: string[] = [];
    for (const [k, v] of this.allAllowed()) if (!envKeys.has(k)) out.push(`${k}=${v}`);
    return out;
  }

  /** The build args given but never declared, for the "[Warning] ... were not consumed" line. */
  unused(): string[] {
    const out: string[] = [];
    for (const k of this.fromOptions.keys()) if (!BUILTIN_ARGS.has(k) && !this.referenced.has(k)) out.push(k);
    return out.sort();
  }
}
