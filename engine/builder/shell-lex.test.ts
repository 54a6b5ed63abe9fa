import { describe, expect, it } from 'vitest';
import { ShellLex, envFromList, shellPatternToRegExp } from './shell-lex.js';

const env = envFromList(['PWD=/home', 'SHELL=bash', 'KOREAN=한국어', 'EMPTY=', 'PATHS=/a/b/c.tar.gz', 'X=aXbXc', 'SPACED=a b  c', 'N1=one']);
const word = (w: string, e = env, esc = '\\') => new ShellLex(esc).processWord(w, e);
const words = (w: string, e = env) => new ShellLex('\\').processWords(w, e);

describe('shell lexer: quotes and escapes', () => {
  it('removes quotes and keeps what they protect', () => {
    expect(word('hello')).toBe('hello');
    expect(word('"hello world"')).toBe('hello world');
    expect(word("'hello $PWD'")).toBe('hello $PWD');
    expect(word('"a \'b\' c"')).toBe("a 'b' c");
    expect(word("'a \"b\" c'")).toBe('a "b" c');
    expect(word('he"ll"o')).toBe('hello');
  });

  it('escapes outside quotes take the next character literally', () => {
    expect(word('\\$PWD')).toBe('$PWD');
    expect(word('a\\ b')).toBe('a b');
    expect(word('\\"x\\"')).toBe('"x"');
    expect(word('trailing\\')).toBe('trailing');
  });

  it('inside double quotes only \\" \\$ and \\\\ are escapes', () => {
    expect(word('"\\$PWD"')).toBe('$PWD');
    expect(word('"a\\"b"')).toBe('a"b');
    expect(word('"a\\\\b"')).toBe('a\\b');
    expect(word('"a\\nb"')).toBe('a\\nb');
  });

  it('honours a backtick escape token', () => {
    expect(word('`$PWD', env, '`')).toBe('$PWD');
    expect(word('c:\\windows', env, '`')).toBe('c:\\windows');
  });

  it('reports unterminated quotes as BuildKit does', () => {
    expect(() => word('"abc')).toThrow('failed to process "\\"abc": unexpected end of statement while looking for matching double-quote');
    expect(() => word("'abc")).toThrow('unexpected end of statement while looking for matching single-quote');
  });
});

describe('shell lexer: substitution', () => {
  it('expands $v and ${v}, unset as empty', () => {
    expect(word('$PWD')).toBe('/home');
    expect(word('${PWD}/x')).toBe('/home/x');
    expect(word('$PWD$SHELL')).toBe('/homebash');
    expect(word('x$NOPE-y')).toBe('x-y');
    expect(word('${KOREAN}')).toBe('한국어');
    expect(word('$')).toBe('$');
    expect(word('a$ b')).toBe('a$ b');
    expect(word('"$PWD and ${SHELL}"')).toBe('/home and bash');
  });

  it('reads digits and special parameters as names', () => {
    expect(word('$1x', envFromList(['1=one']))).toBe('onex');
    expect(word('$@x')).toBe('x');
    expect(word('$$')).toBe('');
  });

  it(':- and - differ on empty values', () => {
    expect(word('${EMPTY:-def}')).toBe('def');
    expect(word('${EMPTY-def}')).toBe('');
    expect(word('${NOPE-def}')).toBe('def');
    expect(word('${NOPE:-$PWD}')).toBe('/home');
    expect(word('${PWD:-x}')).toBe('/home');
  });

  it(':+ and + differ on empty values', () => {
    expect(word('${EMPTY:+alt}')).toBe('');
    expect(word('${EMPTY+alt}')).toBe('alt');
    expect(word('${NOPE+alt}')).toBe('');
    expect(word('${PWD:+alt}')).toBe('alt');
  });

  it(':? and ? fail with the message or a default one', () => {
    expect(() => word('${NOPE?}')).toThrow('NOPE: is not allowed to be unset');
    expect(() => word('${NOPE:?custom}')).toThrow('NOPE: custom');
    expect(() => word('${EMPTY:?}')).toThrow('EMPTY: is not allowed to be empty');
    expect(word('${EMPTY?}')).toBe('');
    expect(word('${PWD:?x}')).toBe('/home');
  });

  it('# ## % %% trim the shortest and longest prefix and suffix', () => {
    expect(word('${PATHS#*/}')).toBe('a/b/c.tar.gz');
    expect(word('${PATHS##*/}')).toBe('c.tar.gz');
    expect(word('${PATHS%.*}')).toBe('/a/b/c.tar');
    expect(word('${PATHS%%.*}')).toBe('/a/b/c');
    expect(word('${PATHS#nomatch}')).toBe('/a/b/c.tar.gz');
    expect(word('${PATHS%?z}')).toBe('/a/b/c.tar.');
    expect(word('${NOPE#x}')).toBe('');
  });

  it('/ and // replace the first and every match', () => {
    expect(word('${X/X/-}')).toBe('a-bXc');
    expect(word('${X//X/-}')).toBe('a-b-c');
    expect(word('${X//?/.}')).toBe('.....');
    expect(word('${PATHS/.tar/}')).toBe('/a/b/c.gz');
    expect(word('${NOPE/a/b}')).toBe('');
  });

  it('refuses bad substitutions with BuildKit’s messages', () => {
    expect(() => word('${}')).toThrow('syntax error: bad substitution');
    expect(() => word('${:x}')).toThrow('syntax error: bad substitution');
    expect(() => word('${PWD')).toThrow("syntax error: missing '}'");
    expect(() => word('${PWD:#x}')).toThrow('unsupported modifier (:#) in substitution');
    expect(() => word('${PWD:x}')).toThrow('unsupported modifier (:x) in substitution');
    expect(() => word('${PWD^}')).toThrow('unsupported modifier (^) in substitution');
    expect(() => word('${PWD/x')).toThrow("syntax error: missing '/' in ${}");
    expect(() => word('${PWD:-x')).toThrow("syntax error: missing '}'");
  });

  it('keeps unset references when asked to (heredoc and meta-arg passes)', () => {
    const lex = new ShellLex('\\', { skipUnsetEnv: true });
    expect(lex.processWord('$NOPE ${NOPE} ${NOPE:-x} ${NOPE/a/b} $PWD', env)).toBe('$NOPE ${NOPE} ${NOPE:-x} ${NOPE/a/b} /home');
  });

  it('records which variables a word used', () => {
    const r = new ShellLex('\\').process('$PWD ${NOPE:-x}', env);
    expect([...r.matched]).toEqual(['PWD']);
    expect([...r.unmatched]).toEqual(['NOPE']);
  });
});

describe('shell lexer: words', () => {
  it('splits after substitution, keeping quoted spaces', () => {
    expect(words('$SPACED')).toEqual(['a', 'b', 'c']);
    expect(words('"$SPACED"')).toEqual(['a b  c']);
    expect(words('80 443/tcp')).toEqual(['80', '443/tcp']);
    expect(words('  x  ')).toEqual(['x']);
    expect(words('a\\ b c')).toEqual(['a b', 'c']);
  });

  it('keeps << and the following spaces in one word (heredoc detection)', () => {
    const lex = new ShellLex('\\', { rawQuotes: true, rawEscapes: true, skipUnsetEnv: true });
    expect(lex.processWords('RUN cat << "EOF" > $OUT', env)).toEqual(['RUN', 'cat', '<< "EOF"', '>', '$OUT']);
  });
});

describe('shell patterns', () => {
  it('translates * ? and escapes', () => {
    expect(shellPatternToRegExp('a*b?', true, true).source).toBe('^a.*b.');
    expect(shellPatternToRegExp('a*', false, false).source).toBe('a.*?');
    expect(shellPatternToRegExp('\\*.x', true, true).source).toBe('^\\*\\.x');
    expect(() => shellPatternToRegExp('\\a', true, true)).toThrow("invalid escape '\\a'");
  });
});
