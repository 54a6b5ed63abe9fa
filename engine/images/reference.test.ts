import { describe, expect, it } from 'vitest';
import { isFullImageId, isIdPrefix, parseReference, parseTaggedReference, validateDigest, validateTag } from './reference.js';

const hex64 = 'a'.repeat(64);
const digest = `sha256:${'0123456789abcdef'.repeat(4)}`;

describe('parseReference (distribution/reference ParseNormalizedNamed)', () => {
  it.each([
    ['busybox', 'docker.io/library/busybox', 'busybox'],
    ['busybox:1.36', 'docker.io/library/busybox:1.36', 'busybox:1.36'],
    ['library/busybox', 'docker.io/library/busybox', 'busybox'],
    ['docker.io/busybox', 'docker.io/library/busybox', 'busybox'],
    ['index.docker.io/library/busybox:x', 'docker.io/library/busybox:x', 'busybox:x'],
    ['foo/bar', 'docker.io/foo/bar', 'foo/bar'],
    ['docker.io/foo/bar/baz:1', 'docker.io/foo/bar/baz:1', 'foo/bar/baz:1'],
    ['docker.io/library/a/b', 'docker.io/library/a/b', 'library/a/b'],
    ['localhost/foo', 'localhost/foo', 'localhost/foo'],
    ['localhost:5000/a/b:c', 'localhost:5000/a/b:c', 'localhost:5000/a/b:c'],
    ['registry.example.com/x', 'registry.example.com/x', 'registry.example.com/x'],
    ['127.0.0.1:5000/x:y', '127.0.0.1:5000/x:y', '127.0.0.1:5000/x:y'],
    ['[::1]:5000/x', '[::1]:5000/x', '[::1]:5000/x'],
    ['a_b/c-d__e.f---g', 'docker.io/a_b/c-d__e.f---g', 'a_b/c-d__e.f---g'],
    [`busybox@${digest}`, `docker.io/library/busybox@${digest}`, `busybox@${digest}`],
    [`busybox:1@${digest}`, `docker.io/library/busybox:1@${digest}`, `busybox:1@${digest}`],
    ['Registry.Example.com/x', 'Registry.Example.com/x', 'Registry.Example.com/x'],
  ])('%s → %s', (input, full, familiar) => {
    const ref = parseReference(input);
    expect(ref.toString()).toBe(full);
    expect(ref.familiarString()).toBe(familiar);
  });

  it('splits domain, path, tag and digest', () => {
    const ref = parseReference(`localhost:5000/team/app:v2@${digest}`);
    expect(ref.domain).toBe('localhost:5000');
    expect(ref.path).toBe('team/app');
    expect(ref.tag).toBe('v2');
    expect(ref.digest).toBe(digest);
    expect(ref.name).toBe('localhost:5000/team/app');
    expect(ref.familiarName).toBe('localhost:5000/team/app');
  });

  it('adds the default tag only when neither tag nor digest is given', () => {
    expect(parseTaggedReference('busybox').toString()).toBe('docker.io/library/busybox:latest');
    expect(parseTaggedReference('busybox:1').toString()).toBe('docker.io/library/busybox:1');
    expect(parseTaggedReference(`busybox@${digest}`).toString()).toBe(`docker.io/library/busybox@${digest}`);
  });

  it.each([
    [hex64, `invalid repository name (${hex64}), cannot specify 64-byte hexadecimal strings`],
    ['Busybox', 'invalid reference format: repository name (library/Busybox) must be lowercase'],
    ['Foo:Tag', 'invalid reference format: repository name (library/Foo) must be lowercase'],
    ['localhost:5000/Foo', 'invalid reference format: repository name (Foo) must be lowercase'],
    ['foo/Bar:1', 'invalid reference format: repository name (foo/Bar) must be lowercase'],
    ['', 'invalid reference format'],
    ['foo:', 'invalid reference format'],
    ['foo:-tag', 'invalid reference format'],
    [':tag', 'invalid reference format'],
    ['foo//bar', 'invalid reference format'],
    ['foo/', 'invalid reference format'],
    ['-foo', 'invalid reference format'],
    ['foo..bar', 'invalid reference format'],
    ['foo@sha256:abc', 'invalid reference format'],
    [`foo:${'t'.repeat(129)}`, 'invalid reference format'],
    [`foo/${'a'.repeat(260)}`, 'repository name must not be more than 255 characters'],
    [`foo@md5:${'0'.repeat(32)}`, 'unsupported digest algorithm'],
    [`foo@sha256:${'0'.repeat(63)}`, 'invalid checksum digest length'],
  ])('rejects %j with %j', (input, message) => {
    expect(() => parseReference(input)).toThrow(message);
    try {
      parseReference(input);
    } catch (err) {
      expect((err as { status?: number }).status).toBe(400);
      expect((err as Error).message).toBe(message);
    }
  });
});

describe('tags, digests and IDs', () => {
  it('validates tags like Docker', () => {
    expect(() => validateTag('v1.2_3-rc')).not.toThrow();
    expect(() => validateTag('t'.repeat(128))).not.toThrow();
    expect(() => validateTag('t'.repeat(129))).toThrow('invalid tag format');
    expect(() => validateTag('.hidden')).toThrow('invalid tag format');
    expect(() => validateTag('a/b')).toThrow('invalid tag format');
  });

  it('validates digests with go-digest wording', () => {
    expect(() => validateDigest(digest)).not.toThrow();
    expect(() => validateDigest('sha256')).toThrow('invalid checksum digest format');
    expect(() => validateDigest('sha256:xyz')).toThrow('invalid checksum digest length');
    expect(() => validateDigest(`crc32:${'0'.repeat(8)}`)).toThrow('unsupported digest algorithm');
  });

  it('recognizes full IDs and ID prefixes', () => {
    expect(isFullImageId(hex64)).toBe(true);
    expect(isFullImageId(`sha256:${hex64}`)).toBe(true);
    expect(isFullImageId(hex64.slice(1))).toBe(false);
    expect(isIdPrefix('abc123')).toBe(true);
    expect(isIdPrefix('sha256:abc')).toBe(true);
    expect(isIdPrefix('busybox')).toBe(false);
  });
});
