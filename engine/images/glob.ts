/**
 * Go's path.Match, which `docker images --filter reference=...` uses:
 * `*` is any run of non-slash characters, `?` one non-slash character,
 * `[...]` a class (with `^` negation and ranges), `\` escapes.
 */
import { InvalidParameterError } from '../errdefs.js';

function badPattern(pattern: string): InvalidParameterError {
  return new InvalidParameterError(`syntax error in pattern: ${JSON.stringify(pattern)}`);
}

/** Translates a path.Match pattern to an anchored RegExp (throws on a malformed pattern). */
export function globToRegExp(pattern: string): RegExp {
  let re = '^';
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i]!;
    if (ch === '*') re += '[^/]*';
    else if (ch === '?') re += '[^/]';
    else if (ch === '\\') {
      if (i + 1 >= pattern.length) throw badPattern(pattern);
      re += escapeRe(pattern[++i]!);
    } else if (ch === '[') {
      let j = i + 1;
      let cls = '';
      if (pattern[j] === '^') {
        cls += '^';
        j++;
      }
      let first = true;
      for (;;) {
        if (j >= pattern.length) throw badPattern(pattern);
        let c = pattern[j]!;
        if (c === ']') {
          if (first) throw badPattern(pattern);
          break;
        }
        first = false;
        if (c === '-') throw badPattern(pattern);
        if (c === '\\') {
          if (++j >= pattern.length) throw badPattern(pattern);
          c = pattern[j]!;
        }
        let item = escapeClass(c);
        if (pattern[j + 1] === '-') {
          let k = j + 2;
          if (k >= pattern.length) throw badPattern(pattern);
          let hi = pattern[k]!;
          if (hi === '-' || hi === ']') throw badPattern(pattern);
          if (hi === '\\') {
            if (++k >= pattern.length) throw badPattern(pattern);
            hi = pattern[k]!;
          }
          if (hi < c) throw badPattern(pattern);
          item += '-' + escapeClass(hi);
          j = k;
        }
        cls += item;
        j++;
      }
      // A class never matches the separator, as in Go.
      re += cls.startsWith('^') ? `[${cls}/]` : `(?!/)[${cls}]`;
      i = j;
    } else re += escapeRe(ch);
  }
  return new RegExp(re + '$', 's');
}

function escapeRe(c: string): string {
  return c.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

function escapeClass(c: string): string {
  return c.replace(/[\]\\^-]/g, '\\$&');
}

export function globMatch(pattern: string, value: string): boolean {
  return globToRegExp(pattern).test(value);
}
