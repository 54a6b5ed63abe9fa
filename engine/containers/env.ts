/** Environment and command-line helpers shared by create, start and exec. */

export const DEFAULT_PATH = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** "KEY=VAL" lists merged so later keys win, keeping first positions (moby's ReplaceOrAppendEnvValues). */
export function mergeEnv(base: readonly string[], overrides: readonly string[]): string[] {
  const out = [...base];
  const index = new Map<string, number>();
  out.forEach((e, i) => index.set(e.split('=', 1)[0]!, i));
  for (const e of overrides) {
    const k = e.split('=', 1)[0]!;
    const at = index.get(k);
    if (at !== undefined) out[at] = e;
    else {
      index.set(k, out.length);
      out.push(e);
    }
  }
  return out;
}

/** Shell-style quoting for the Command column of `docker ps`. */
function quoteArg(a: string): string {
  return /[\s'"\\$`]/.test(a) || a === '' ? `'${a.replace(/'/g, "'\\''")}'` : a;
}

export function commandString(c: { path: string; args: string[] }): string {
  return [c.path, ...c.args].map((a, i) => (i === 0 ? a : quoteArg(a))).join(' ');
}
