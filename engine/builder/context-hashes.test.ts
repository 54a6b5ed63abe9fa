import { describe, expect, it } from 'vitest';
import { hashSelection, selects } from './context-hashes.js';

const sel = (df: string) => hashSelection(Buffer.from(df));

describe('which context files COPY and ADD will hash', () => {
  it('nothing when no step reads the context', () => {
    expect(sel('FROM busybox\nRUN true\n')).toBe('none');
    expect(sel('FROM a AS b\nFROM busybox\nCOPY --from=b /x /y\nADD https://example.com/f /f\n')).toBe('none');
  });

  it('the sources named, cleaned', () => {
    expect(sel('FROM busybox\nCOPY ./src/ /app/\nADD ["pkg/a.tar", "b", "/opt/"]\n')).toEqual({ prefixes: ['src', 'pkg/a.tar', 'b'] });
    // `..` stops at the context root, as the copy resolves it.
    expect(sel('FROM x\nCOPY a/../../c /c\n')).toEqual({ prefixes: ['c'] });
  });

  it('everything for the root, wildcards, variables or what does not parse', () => {
    for (const df of ['FROM x\nCOPY . /app\n', 'FROM x\nCOPY *.json /app/\n', 'FROM x\nARG D\nCOPY $D /app\n', 'FROM x\nCOPY onlyone\n']) {
      expect(sel(df)).toBe('all');
    }
  });

  it('selects entries at or below a prefix', () => {
    const s = { prefixes: ['src'] };
    expect(['src', 'src/a', 'src2', 'sr', 'x/src'].map((p) => selects(s, p))).toEqual([true, true, false, false, false]);
    expect(selects('all', 'x')).toBe(true);
    expect(selects('none', 'x')).toBe(false);
  });
});
