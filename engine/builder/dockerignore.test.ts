import { describe, expect, it } from 'vitest';
import { PatternMatcher, readIgnoreFile } from './dockerignore.js';

const m = (patterns: string[]) => new PatternMatcher(patterns);

describe('.dockerignore file', () => {
  it('drops comments and blank lines, cleans patterns and leading slashes', () => {
    expect(readIgnoreFile('\ufeff# comment\n\n  node_modules  \n/build/\n!/keep/../keep.txt\r\n./a/./b\n#x\n')).toEqual(['node_modules', 'build', '!keep.txt', 'a/b']);
  });
});

describe('Docker pattern rules', () => {
  it('matches a path or any of its parents', () => {
    const p = m(['node_modules', 'build/out']);
    expect(p.matches('node_modules')).toBe(true);
    expect(p.matches('node_modules/x/y.js')).toBe(true);
    expect(p.matches('build/out/a')).toBe(true);
    expect(p.matches('build/other')).toBe(false);
    expect(p.matches('src/node_modules')).toBe(false);
  });

  it('* and ? stay inside one path component', () => {
    const p = m(['*.log', 'a?c']);
    expect(p.matches('x.log')).toBe(true);
    expect(p.matches('dir/x.log')).toBe(false);
    expect(p.matches('abc')).toBe(true);
    expect(p.matches('a/c')).toBe(false);
  });

  it('** crosses directories, at the start, middle and end', () => {
    expect(m(['**/*.go']).matches('a/b/c.go')).toBe(true);
    expect(m(['**/*.go']).matches('c.go')).toBe(true);
    expect(m(['**/foo']).matches('foo')).toBe(true);
    expect(m(['**/foo']).matches('x/y/foo')).toBe(true);
    expect(m(['**/foo']).matches('x/yfoo')).toBe(false);
    expect(m(['a/**/b']).matches('a/b')).toBe(true);
    expect(m(['a/**/b']).matches('a/x/y/b')).toBe(true);
    expect(m(['dist/**']).matches('dist/x/y')).toBe(true);
    expect(m(['**']).matches('anything/at/all')).toBe(true);
  });

  it('exceptions apply in order', () => {
    const p = m(['*.md', '!README.md']);
    expect(p.matches('CHANGES.md')).toBe(true);
    expect(p.matches('README.md')).toBe(false);
    const q = m(['!README.md', '*.md']);
    expect(q.matches('README.md')).toBe(true);
    const r = m(['docs', '!docs/keep.txt']);
    expect(r.matches('docs/other.txt')).toBe(true);
    expect(r.matches('docs/keep.txt')).toBe(false);
    expect(r.mayReinclude('docs')).toBe(true);
    expect(r.mayReinclude('other')).toBe(false);
  });

  it('character classes and escapes follow filepath.Match', () => {
    expect(m(['file[0-9].txt']).matches('file5.txt')).toBe(true);
    expect(m(['file[^0-9].txt']).matches('file5.txt')).toBe(false);
    expect(m(['file[^0-9].txt']).matches('filex.txt')).toBe(true);
    expect(m(['\\*literal']).matches('*literal')).toBe(true);
    expect(m(['\\*literal']).matches('xliteral')).toBe(false);
    expect(m(['a.b']).matches('axb')).toBe(false);
    expect(m(['(x)+']).matches('(x)+')).toBe(true);
  });

  it('never excludes the context root, refuses bad patterns', () => {
    expect(m(['*']).matches('.')).toBe(false);
    expect(() => m(['!'])).toThrow('illegal exclusion pattern: "!"');
    expect(() => m(['[a'])).toThrow('syntax error in pattern');
  });
});
