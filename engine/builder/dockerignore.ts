/**
 * `.dockerignore`: the file format (moby/patternmatcher's ignorefile) and
 * Docker's pattern rules (patternmatcher): Go filepath.Match syntax plus `**`,
 * `!` exceptions evaluated in order, and a path matching when it or one of
 * its parent directories matches. The docker CLI applies these before it
 * sends the context; berthd applies them again for raw API clients — but the
 * Dockerfile is always read first, so ignoring it never breaks a build.
 */
import { posix } from 'node:path';

/** Go's filepath.Clean for slash paths. */
export function cleanPath(p: string): string {
  return posix.normalize(p).replace(/(.)\/$/, '$1') || '.';
}

/** Reads .dockerignore content into patterns (comments, blank lines, leading `/` dropped). */
export function readIgnoreFile(content: string | Buffer): string[] {
  let text = typeof content === 'string' ? content : content.toString('utf8');
  if (text.startsWith('\ufeff')) text = text.slice(1);
  const out: string[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.replace(/\r$/, '');
    if (line.startsWith('#')) continue;
    let pattern = line.trim();
    if (pattern === '') continue;
    const invert = pattern.startsWith('!');
    if (invert) pattern = pattern.slice(1).trim();
    if (pattern.length > 0) {
      pattern = cleanPath(pattern);
      if (pattern.length > 1 && pattern.startsWith('/')) pattern = pattern.slice(1);
    }
    out.push(invert ? '!' + pattern : pattern);
  }
  return out;
}

type MatchType = 'exact' | 'prefix' | 'suffix' | 'regexp';

class Pattern {
  readonly type: MatchType;
  readonly re: RegExp | undefined;
  readonly dirs: string[];

  constructor(
    readonly cleaned: string,
    readonly exclusion: boolean,
  ) {
    this.dirs = cleaned.split('/');
    const [type, re] = compile(cleaned);
    this.type = type;
    this.re = re;
  }

  match(path: string): boolean {
    switch (this.type) {
      case 'exact':
        return path === this.cleaned;
      case 'prefix':
        return path.startsWith(this.cleaned.slice(0, -2));
      case 'suffix': {
        const suffix = this.cleaned.slice(2);
        if (path.endsWith(suffix)) return true;
        return suffix.startsWith('/') && path === suffix.slice(1);
      }
      case 'regexp':
        return this.re!.test(path);
    }
  }
}

const regexSpecial = new Set(['.', '+', '(', ')', '|', '{', '}', '$']);
const escapeLiteral = (c: string) => (/[\\^$.*+?()[\]{}|/-]/.test(c) ? '\\' + c : c);

/** patternmatcher's compile: a fast exact/prefix/suffix match where the pattern allows, else a regexp. */
function compile(pattern: string): [MatchType, RegExp | undefined] {
  let re = '^';
  let type: MatchType = 'exact';
  const cps = Array.from(pattern);
  let pos = 0;
  for (let token = 0; pos < cps.length; token++) {
    const ch = cps[pos++]!;
    if (ch === '*') {
      if (cps[pos] === '*') {
        pos++;
        // `**/` is `**`.
        if (cps[pos] === '/') pos++;
        if (pos >= cps.length) {
          if (type === 'exact') type = 'prefix';
          else {
            re += '.*';
            type = 'regexp';
          }
        } else {
          // Any number of directories, even none.
          re += '(.*/)?';
          type = 'regexp';
        }
        if (token === 0) type = 'suffix';
      } else {
        re += '[^/]*';
        type = 'regexp';
      }
    } else if (ch === '?') {
      re += '[^/]';
      type = 'regexp';
    } else if (regexSpecial.has(ch)) re += '\\' + ch;
    else if (ch === '\\') {
      if (pos < cps.length) {
        re += escapeLiteral(cps[pos++]!);
        type = 'regexp';
      } else re += '\\\\';
    } else re += ch;
    if (ch === '[' || ch === ']') type = 'regexp';
  }
  if (type !== 'regexp') return [type, undefined];
  // Unicode mode matches `?` against whole characters but refuses a lone `]`, which Go takes literally.
  for (const flags of ['su', 's']) {
    try {
      return ['regexp', new RegExp(re + '$', flags)];
    } catch {
      /* next */
    }
  }
  throw new Error('syntax error in pattern');
}

/** Go's filepath.Match syntax check (only its error matters here). */
function checkPatternSyntax(p: string): void {
  for (let i = 0; i < p.length; i++) {
    const c = p[i];
    if (c === '\\') {
      if (i + 1 >= p.length) throw new Error('syntax error in pattern');
      i++;
    } else if (c === '[') {
      let j = i + 1;
      if (p[j] === '^') j++;
      let first = true;
      for (;;) {
        if (j >= p.length) throw new Error('syntax error in pattern');
        if (p[j] === ']' && !first) break;
        if (p[j] === '\\') j++;
        else if (p[j] === '-' && first) throw new Error('syntax error in pattern');
        first = false;
        j++;
      }
      i = j;
    }
  }
}

export class PatternMatcher {
  private readonly patterns: Pattern[] = [];
  readonly hasExclusions: boolean;

  constructor(patterns: readonly string[]) {
    let exclusions = false;
    for (let p of patterns) {
      p = p.trim();
      if (p === '') continue;
      p = cleanPath(p);
      let exclusion = false;
      if (p.startsWith('!')) {
        if (p.length === 1) throw new Error('illegal exclusion pattern: "!"');
        exclusion = true;
        p = p.slice(1);
        exclusions = true;
      }
      checkPatternSyntax(p);
      this.patterns.push(new Pattern(p, exclusion));
    }
    this.hasExclusions = exclusions;
  }

  get empty(): boolean {
    return this.patterns.length === 0;
  }

  /**
   * True when the slash path (relative to the context) is excluded: it or a
   * parent matches an ignore pattern and no later `!` pattern takes it back.
   */
  matches(file: string): boolean {
    file = cleanPath(file);
    if (file === '.') return false;
    const parent = posix.dirname(file);
    const parentDirs = parent === '.' ? [] : parent.split('/');
    let matched = false;
    for (const p of this.patterns) {
      if (p.exclusion !== matched) continue;
      let match = p.match(file);
      if (!match) {
        for (let i = 0; i < parentDirs.length; i++) {
          if (p.match(parentDirs.slice(0, i + 1).join('/'))) {
            match = true;
            break;
          }
        }
      }
      if (match) matched = !p.exclusion;
    }
    return matched;
  }

  /** Whether an excluded directory may still contain re-included (`!`) paths. */
  mayReinclude(dir: string): boolean {
    const slash = cleanPath(dir) + '/';
    return this.patterns.some((p) => p.exclusion && (p.cleaned + '/').startsWith(slash));
  }
}
