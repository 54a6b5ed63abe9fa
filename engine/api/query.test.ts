import { describe, expect, it } from 'vitest';
import { boolParam } from './query.js';
import { Filters, labelMatches, parseTimestamp, parseTimestampNanos } from './filters.js';

describe('query parsing', () => {
  it('reads booleans the way the Docker API does', () => {
    const q = new URLSearchParams('a=1&b=0&c=false&d=no&e=none&f=&g=true&h=yes');
    expect(['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'].map((k) => boolParam(q, k))).toEqual([true, false, false, false, false, false, true, true]);
    expect(boolParam(q, 'missing', true)).toBe(true);
  });

  it('accepts both filter encodings and validates keys', () => {
    const cli = Filters.parse('{"label":{"a=b":true,"c":true},"status":{"exited":true}}');
    const dockerode = Filters.parse('{"label":["a=b","c"],"status":["exited"]}');
    for (const f of [cli, dockerode]) {
      expect(f.get('label')).toEqual(['a=b', 'c']);
      expect(f.matchLabels('label', { a: 'b', c: '' })).toBe(true);
      expect(f.matchLabels('label', { a: 'x', c: '' })).toBe(false);
    }
    expect(() => cli.validate(['label'])).toThrow("invalid filter 'status'");
    expect(() => Filters.parse('{nope')).toThrow(/invalid filter/);
    expect(labelMatches('a!=b', { a: 'c' })).toBe(true);
    expect(labelMatches('a!=b', { a: 'b' })).toBe(false);
  });

  it('parses since/until timestamps, durations and fractions', () => {
    expect(parseTimestamp('1700000000')).toBe(1_700_000_000_000);
    expect(parseTimestamp('1700000000.5')).toBe(1_700_000_000_500);
    expect(parseTimestamp('2023-11-14T22:13:20Z')).toBe(1_700_000_000_000);
    expect(parseTimestamp('10m', 1_000_000)).toBe(1_000_000 - 600_000);
    expect(parseTimestampNanos('1700000000.000000001')).toBe(1_700_000_000_000_000_001n);
    expect(() => parseTimestamp('yesterday')).toThrow(/failed to parse value as time or duration/);
  });
});
