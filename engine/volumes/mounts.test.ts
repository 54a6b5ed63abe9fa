import { describe, expect, it } from 'vitest';
import { parseBind, parseMountSpec, parseVolumesFrom, tmpfsOptions, toMountPoint, validMountMode } from './mounts.js';
import { validateVolumeName } from './store.js';

describe('-v specifications', () => {
  it('parses binds, named and anonymous volumes with modes', () => {
    expect(parseBind('/src:/dst:ro,z')).toMatchObject({ type: 'bind', source: '/src', destination: '/dst', mode: 'ro,z', rw: false, propagation: 'rprivate' });
    expect(parseBind('/src/:/dst/:rshared')).toMatchObject({ type: 'bind', source: '/src', destination: '/dst', propagation: 'rshared', rw: true });
    expect(parseBind('data:/var/lib/data')).toMatchObject({ type: 'volume', name: 'data', destination: '/var/lib/data', mode: '', rw: true });
    expect(parseBind('/anon')).toMatchObject({ type: 'volume', name: '', destination: '/anon' });
  });

  it("rejects bad specs with dockerd's messages", () => {
    expect(() => parseBind('/a:rw')).toThrow("invalid volume specification: '/a:rw'");
    expect(() => parseBind('/a:/b:/c:/d')).toThrow("invalid volume specification: '/a:/b:/c:/d'");
    expect(() => parseBind('/a:/b:bogus')).toThrow('invalid mode: bogus');
    expect(() => parseBind('/a:/b:ro,rw')).toThrow('invalid mode: ro,rw');
    expect(() => parseBind('/a:b')).toThrow(`invalid volume specification: '/a:b': invalid mount config for type "bind": invalid mount path: 'b' mount path must be absolute`);
    expect(() => parseBind('v:/')).toThrow("invalid specification: destination can't be '/'");
    expect(validMountMode('ro,Z,nocopy,rslave,cached')).toBe(true);
  });
});

describe('--mount specifications', () => {
  it('validates per type', () => {
    expect(() => parseMountSpec({ Type: 'bind', Source: '/no/such/dir', Target: '/x' })).toThrow('invalid mount config for type "bind": bind source path does not exist: /no/such/dir');
    expect(() => parseMountSpec({ Type: 'bind', Source: '', Target: '/x' })).toThrow('field Source must not be empty');
    expect(() => parseMountSpec({ Type: 'tmpfs', Source: 'x', Target: '/x' })).toThrow('field Source must not be specified');
    expect(() => parseMountSpec({ Type: 'volume', Target: '/x', BindOptions: {} })).toThrow('field BindOptions must not be specified');
    expect(() => parseMountSpec({ Type: 'volume', Target: '/x', VolumeOptions: { Subpath: 'a' } })).toThrow('must not set Subpath when using anonymous volumes');
    expect(() => parseMountSpec({ Type: 'volume', Source: 'v', Target: '/x', VolumeOptions: { Subpath: '../a' } })).toThrow('subpath must be a relative path within the volume');
    expect(() => parseMountSpec({ Type: 'npipe', Target: '/x' })).toThrow('mount type unknown');
    expect(parseMountSpec({ Type: 'bind', Source: '/tmp', Target: '/t', ReadOnly: true })).toMatchObject({ type: 'bind', rw: false, propagation: 'rprivate' });
  });

  it('renders tmpfs options and mount points as inspect shows them', () => {
    expect(tmpfsOptions({ Type: 'tmpfs', Target: '/t', TmpfsOptions: { SizeBytes: 1024, Mode: 0o1777, Options: [['exec']] } })).toEqual(['nosuid', 'nodev', 'exec', 'mode=1777', 'size=1024']);
    expect(toMountPoint(parseBind('v1:/d'), '/var/lib/berth/volumes/v1/_data')).toEqual({ Type: 'volume', Name: 'v1', Source: '/var/lib/berth/volumes/v1/_data', Destination: '/d', Driver: 'local', Mode: 'z', RW: true, Propagation: '' });
    expect(toMountPoint(parseBind('/h:/d:ro'), '/h')).toEqual({ Type: 'bind', Source: '/h', Destination: '/d', Mode: 'ro', RW: false, Propagation: 'rprivate' });
  });

  it('parses --volumes-from and validates volume names', () => {
    expect(parseVolumesFrom('c1')).toEqual({ container: 'c1', mode: 'rw' });
    expect(parseVolumesFrom('c1:ro')).toEqual({ container: 'c1', mode: 'ro' });
    expect(() => parseVolumesFrom('c1:rshared')).toThrow('invalid mode: rshared');
    expect(() => validateVolumeName('a')).toThrow('volume name is too short');
    expect(() => validateVolumeName('a/b')).toThrow('includes invalid characters for a local volume name');
    expect(() => validateVolumeName('ok-name_1.2')).not.toThrow();
  });
});
