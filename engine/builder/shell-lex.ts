/**
 * Dockerfile word processing: quotes, escapes and variable substitution with
 * every modifier of BuildKit's shell lexer —
 * `$v ${v} ${v:-w} ${v-w} ${v:+w} ${v+w} ${v:?m} ${v?m} ${v#p} ${v##p}
 * ${v%p} ${v%%p} ${v/p/r} ${v//p/r}` — and the word splitting that EXPOSE
 * and the heredoc parser use. Behaviour (and error texts) follow
 * BuildKit's frontend/dockerfile/shell lexer.
 */
import { goQuote } from './go-format.js';

/** Variables visible to a word. */
export interface EnvLookup {
  get(name: string): string | undefined;
}

/** "K=V" entries (later ones win, as BuildKit's EnvsFromSlice). */
export function envFromList(list: readonly string[]): EnvLookup {
  const m = new Map<string, string>();
  for (const e of list) {
    const eq = e.indexOf('=');
    if (eq < 0) m.set(e, '');
    else m.set(e.slice(0, eq), e.slice(eq + 1));
  }
  return { get: (k) => m.get(k) };
}

export const emptyEnv: EnvLookup = { get: () => undefined };

export interface LexOptions {
  /** Keep quote characters in the result. */
  rawQuotes?: boolean;
  /** Keep escape characters in the result. */
  rawEscapes?: boolean;
  /** Treat quotes as ordinary characters. */
  skipProcessQuotes?: boolean;
  /** Leave references to unset variables as written. */
  skipUnsetEnv?: boolean;
}

export class ShellLexError extends Error {}

export interface ProcessResult {
  result: string;
  words: string[];
  matched: Set<string>;
  unmatched: Set<string>;
}

const EOF = -1;

/** unicode.IsSpace */
export function isGoSpace(cp: number): boolean {
  switch (cp) {
    case 0x09:
    case 0x0a:
    case 0x0b:
    case 0x0c:
    case 0x0d:
    case 0x20:
    case 0x85:
    case 0xa0:
      return true;
  }
  if (cp < 0x100) return false;
  return /\p{White_Space}/u.test(String.fromCodePoint(cp));
}

const isLetter = (cp: number) => /\p{L}/u.test(String.fromCodePoint(cp));
const isDigit = (cp: number) => (cp >= 0x30 && cp <= 0x39) || (cp > 0x7f && /\p{Nd}/u.test(String.fromCodePoint(cp)));

/** POSIX special parameters ($@ $* $# $? $- $$ $! $0). */
function isSpecialParam(cp: number): boolean {
  return '@*#?-$!0'.includes(String.fromCodePoint(cp));
}

/** Code-point scanner over a word (Go's text/scanner Peek/Next). */
class Scanner {
  private readonly cps: number[];
  private pos = 0;
  constructor(s: string) {
    this.cps = Array.from(s, (c) => c.codePointAt(0)!);
  }
  peek(): number {
    return this.pos < this.cps.length ? this.cps[this.pos]! : EOF;
  }
  next(): number {
    return this.pos < this.cps.length ? this.cps[this.pos++]! : EOF;
  }
}

const chr = (cp: number) => (cp === EOF ? '\ufffd' : String.fromCodePoint(cp));

class Words {
  private buf = '';
  private inWord = false;
  readonly words: string[] = [];
  addChar(cp: number): void {
    if (isGoSpace(cp)) {
      if (this.inWord && this.buf.length > 0) {
        this.words.push(this.buf);
        this.buf = '';
        this.inWord = false;
      }
    } else this.addRawChar(cp);
  }
  addRawChar(cp: number): void {
    this.buf += String.fromCodePoint(cp);
    this.inWord = true;
  }
  addString(s: string): void {
    for (const c of s) this.addChar(c.codePointAt(0)!);
  }
  addRawString(s: string): void {
    this.buf += s;
    this.inWord = true;
  }
  get(): string[] {
    if (this.buf.length > 0) {
      this.words.push(this.buf);
      this.buf = '';
      this.inWord = false;
    }
    return this.words;
  }
}


export class ShellLex {
  readonly escapeToken: number;

  constructor(
    escapeToken = '\\',
    readonly opts: LexOptions = {},
  ) {
    this.escapeToken = escapeToken.codePointAt(0)!;
  }

  /** One word: quotes removed, variables substituted, spaces kept. */
  processWord(word: string, env: EnvLookup): string {
    return this.process(word, env).result;
  }

  /** Substitutes, then splits into words on unquoted whitespace (EXPOSE $PORTS). */
  processWords(word: string, env: EnvLookup): string[] {
    return this.process(word, env).words;
  }

  process(word: string, env: EnvLookup): ProcessResult {
    const w = new WordProcessor(this, new Scanner(word), env);
    try {
      const [result, words] = w.processStopOn(EOF, !!this.opts.rawEscapes);
      return { result, words, matched: w.matched, unmatched: w.unmatched };
    } catch (err) {
      if (err instanceof ShellLexError) throw new ShellLexError(`failed to process ${goQuote(word)}: ${err.message}`);
      throw err;
    }
  }
}

class WordProcessor {
  readonly matched = new Set<string>();
  readonly unmatched = new Set<string>();
  private rawEscapes: boolean;

  constructor(
    private readonly lex: ShellLex,
    private readonly sc: Scanner,
    private readonly env: EnvLookup,
  ) {
    this.rawEscapes = !!lex.opts.rawEscapes;
  }

  private getEnv(name: string): string | undefined {
    const v = this.env.get(name);
    if (v !== undefined) this.matched.add(name);
    else this.unmatched.add(name);
    return v;
  }

  processStopOn(stopChar: number, rawEscapes: boolean): [string, string[]] {
    let result = '';
    const words = new Words();
    const saved = this.rawEscapes;
    this.rawEscapes = rawEscapes;
    try {
      const sc = this.sc;
      const esc = this.lex.escapeToken;
      const quotes = !this.lex.opts.skipProcessQuotes;
      while (sc.peek() !== EOF) {
        const ch = sc.peek();
        if (stopChar !== EOF && ch === stopChar) {
          sc.next();
          return [result, words.get()];
        }
        let special: (() => string) | undefined;
        if (ch === 0x24) special = () => this.processDollar();
        else if (ch === 0x3c) special = () => this.processPossibleHeredoc();
        else if (quotes && ch === 0x27) special = () => this.processSingleQuote();
        else if (quotes && ch === 0x22) special = () => this.processDoubleQuote();
        if (special) {
          const tmp = special();
          result += tmp;
          if (ch === 0x24) words.addString(tmp);
          else words.addRawString(tmp);
          continue;
        }
        let c = sc.next();
        if (c === esc) {
          if (this.rawEscapes) {
            words.addRawChar(c);
            result += String.fromCodePoint(c);
          }
          c = sc.next();
          if (c === EOF) break;
          words.addRawChar(c);
        } else words.addChar(c);
        result += String.fromCodePoint(c);
      }
      if (stopChar !== EOF) throw new ShellLexError(`unexpected end of statement while looking for matching ${chr(stopChar)}`);
      return [result, words.get()];
    } finally {
      this.rawEscapes = saved;
    }
  }

  private processSingleQuote(): string {
    const sc = this.sc;
    const raw = !!this.lex.opts.rawQuotes;
    let result = '';
    const open = sc.next();
    if (raw) result += String.fromCodePoint(open);
    for (;;) {
      const c = sc.next();
      if (c === EOF) throw new ShellLexError('unexpected end of statement while looking for matching single-quote');
      if (c === 0x27) {
        if (raw) result += "'";
        return result;
      }
      result += String.fromCodePoint(c);
    }
  }

  private processDoubleQuote(): string {
    const sc = this.sc;
    const raw = !!this.lex.opts.rawQuotes;
    const esc = this.lex.escapeToken;
    let result = '';
    const open = sc.next();
    if (raw) result += String.fromCodePoint(open);
    for (;;) {
      const p = sc.peek();
      if (p === EOF) throw new ShellLexError('unexpected end of statement while looking for matching double-quote');
      if (p === 0x22) {
        sc.next();
        if (raw) result += '"';
        return result;
      }
      if (p === 0x24) {
        result += this.processDollar();
        continue;
      }
      let c = sc.next();
      if (c === esc) {
        if (this.rawEscapes) result += String.fromCodePoint(c);
        const n = sc.peek();
        if (n === EOF) continue;
        if (n === 0x22 || n === 0x24 || n === esc) c = sc.next();
      }
      result += String.fromCodePoint(c);
    }
  }

  private processDollar(): string {
    const sc = this.sc;
    const skipUnset = !!this.lex.opts.skipUnsetEnv;
    sc.next();
    if (sc.peek() !== 0x7b) {
      const name = this.processName();
      if (name === '') return '$';
      const v = this.getEnv(name);
      if (v === undefined && skipUnset) return '$' + name;
      return v ?? '';
    }
    sc.next();
    const first = sc.peek();
    if (first === EOF) throw new ShellLexError("syntax error: missing '}'");
    if (first === 0x7b || first === 0x7d || first === 0x3a) throw new ShellLexError('syntax error: bad substitution');
    const name = this.processName();
    let ch = sc.next();
    // BuildKit reports "unsupported modifier (\ufffd)" here; the missing brace is the real problem.
    if (ch === EOF) throw new ShellLexError("syntax error: missing '}'");
    let chs = chr(ch);
    let nullIsUnset = false;
    switch (ch) {
      case 0x7d: {
        const v = this.getEnv(name);
        if (v === undefined && skipUnset) return `\${${name}}`;
        return v ?? '';
      }
      case 0x3a:
      case 0x2b:
      case 0x2d:
      case 0x3f:
      case 0x23:
      case 0x25: {
        if (ch === 0x3a) {
          nullIsUnset = true;
          ch = sc.next();
          chs += chr(ch);
        }
        const trimOp = ch === 0x23 || ch === 0x25;
        if (nullIsUnset && trimOp) throw new ShellLexError(`unsupported modifier (${chs}) in substitution`);
        let word: string;
        try {
          [word] = this.processStopOn(0x7d, trimOp);
        } catch (err) {
          if (err instanceof ShellLexError && sc.peek() === EOF) throw new ShellLexError("syntax error: missing '}'");
          throw err;
        }
        const value = this.getEnv(name);
        const set = value !== undefined;
        if (skipUnset && !set) return `\${${name}${chs}${word}}`;
        if (!(ch === 0x2b || ch === 0x2d || ch === 0x3f || trimOp)) throw new ShellLexError(`unsupported modifier (${chs}) in substitution`);
        const empty = !set || (nullIsUnset && value === '');
        switch (ch) {
          case 0x2d:
            return empty ? word : value!;
          case 0x2b:
            return empty ? '' : word;
          case 0x3f:
            if (!set) throw new ShellLexError(`${name}: ${word !== '' ? word : 'is not allowed to be unset'}`);
            if (nullIsUnset && value === '') throw new ShellLexError(`${name}: ${word !== '' ? word : 'is not allowed to be empty'}`);
            return value!;
          default: {
            let greedy = false;
            if (word.length > 0 && word.codePointAt(0) === ch) {
              greedy = true;
              word = word.slice(1);
            }
            return ch === 0x25 ? trimSuffix(word, value ?? '', greedy) : trimPrefix(word, value ?? '', greedy);
          }
        }
      }
      case 0x2f: {
        const all = sc.peek() === 0x2f;
        if (all) sc.next();
        let pattern: string;
        let replacement: string;
        try {
          [pattern] = this.processStopOn(0x2f, true);
        } catch (err) {
          if (err instanceof ShellLexError && sc.peek() === EOF) throw new ShellLexError("syntax error: missing '/' in ${}");
          throw err;
        }
        try {
          [replacement] = this.processStopOn(0x7d, true);
        } catch (err) {
          if (err instanceof ShellLexError && sc.peek() === EOF) throw new ShellLexError("syntax error: missing '}'");
          throw err;
        }
        const value = this.getEnv(name);
        if (skipUnset && value === undefined) return `\${${name}/${pattern}/${replacement}}`;
        const re = shellPatternToRegExp(pattern, true, false, all);
        const v = value ?? '';
        if (all) return v.replace(re, () => replacement);
        const m = re.exec(v);
        if (!m) return v;
        return v.slice(0, m.index) + replacement + v.slice(m.index + m[0].length);
      }
      default:
        throw new ShellLexError(`unsupported modifier (${chs}) in substitution`);
    }
  }

  private processName(): string {
    const sc = this.sc;
    let name = '';
    while (sc.peek() !== EOF) {
      const ch = sc.peek();
      if (name.length === 0 && isDigit(ch)) {
        while (sc.peek() !== EOF && isDigit(sc.peek())) name += String.fromCodePoint(sc.next());
        return name;
      }
      if (name.length === 0 && isSpecialParam(ch)) return String.fromCodePoint(sc.next());
      if (!isLetter(ch) && !isDigit(ch) && ch !== 0x5f) break;
      name += String.fromCodePoint(sc.next());
    }
    return name;
  }

  private processPossibleHeredoc(): string {
    const sc = this.sc;
    sc.next();
    if (sc.peek() !== 0x3c) return '<';
    sc.next();
    let space = '';
    for (let c = sc.peek(); c === 0x09 || c === 0x0d || c === 0x20; c = sc.peek()) space += String.fromCodePoint(sc.next());
    return '<<' + space;
  }
}

/**
 * A shell wildcard pattern (`?` one character, `*` any run; no bracket
 * expressions) as a RegExp: greedy or shortest, optionally anchored.
 */
export function shellPatternToRegExp(pattern: string, greedy: boolean, anchored: boolean, global = false): RegExp {
  const cps = Array.from(pattern);
  let out = anchored ? '^' : '';
  const star = greedy ? '.*' : '.*?';
  for (let i = 0; i < cps.length; i++) {
    const tok = cps[i]!;
    if (tok === '*') {
      out += star;
      continue;
    }
    if (tok === '?') {
      out += '.';
      continue;
    }
    if (tok === '\\') {
      const next = cps[i + 1];
      // `}` and `/` are escaped for ${}, but the escape is not part of the pattern.
      if (next === '}' || next === '/') continue;
      i++;
      if (next !== '*' && next !== '?' && next !== '\\') throw new ShellLexError(`invalid pattern (${pattern}) in substitution: invalid escape '\\${next ?? ''}'`);
      out += '\\' + next;
      continue;
    }
    out += /[[\]{}.+()|^$]/.test(tok) ? '\\' + tok : tok;
  }
  return new RegExp(out, global ? 'gu' : 'u');
}

function trimPrefix(pattern: string, value: string, greedy: boolean): string {
  const m = shellPatternToRegExp(pattern, greedy, true).exec(value);
  return m ? value.slice(m[0].length) : value;
}

/** Reverses a pattern keeping escapes before the character they escape (a\*c → c\*a). */
function reversePattern(pattern: string): string {
  const p = Array.from(pattern);
  const out: string[] = new Array<string>(p.length);
  const last = p.length - 1;
  for (let i = 0; i <= last; ) {
    const at = last - i;
    if (p[i] === '\\' && i !== last) {
      out[at - 1] = p[i]!;
      out[at] = p[i + 1]!;
      i += 2;
    } else {
      out[at] = p[i]!;
      i++;
    }
  }
  return out.join('');
}

const reverse = (s: string) => Array.from(s).reverse().join('');

function trimSuffix(pattern: string, value: string, greedy: boolean): string {
  return reverse(trimPrefix(reversePattern(pattern), reverse(value), greedy));
}
