import { describe, expect, it } from 'vitest';
import { globMatch } from './glob.js';

describe("globMatch (Go's path.Match)", () => {
  it.each([
    ['busybox', 'busybox', true],
    ['busy*', 'busybox', true],
    ['*', 'foo/bar', false],
    ['*/*', 'foo/bar', true],
    ['foo/*:1.*', 'foo/app:1.2', true],
    ['foo/*:1.*', 'foo/app:2.0', false],
    ['b?sybox', 'busybox', true],
    ['b?sybox', 'b/sybox', false],
    ['[a-c]at', 'bat', true],
    ['[a-c]at', 'dat', false],
    ['[^a-c]at', 'dat', true],
    ['[^a-c]at', '/at', false],
    ['x\\*', 'x*', true],
    ['x\\*', 'xy', false],
    ['docker.io/library/*', 'docker.io/library/busybox', true],
    ['a.b', 'axb', false],
    ['*:latest', 'busybox:latest', true],
  ])('%s ~ %s = %s', (pattern, value, want) => {
    expect(globMatch(pattern, value)).toBe(want);
  });

  it.each(['[', '[]', '[a-]', '[-a]', 'x\\', '[z-a]'])('rejects the malformed pattern %j', (p) => {
    expect(() => globMatch(p, 'x')).toThrow('syntax error in pattern');
  });
});
