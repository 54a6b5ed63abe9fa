import { describe, expect, it } from 'vitest';
import { ConfigError, mergeConfig, parseConfigFile, parseSize, validateLogOpts } from './config.js';

describe('daemon config', () => {
  it('accepts dockerd key names and fills defaults', () => {
    const file = parseConfigFile(JSON.stringify({ 'data-root': '/d', 'registry-mirrors': ['https://m.example'], 'insecure-registries': ['r:5000'], 'log-opts': { 'max-size': '10m' } }), 'daemon.json');
    const c = mergeConfig({}, file, 'daemon.json');
    expect(c.dataRoot).toBe('/d');
    expect(c.registryMirrors).toEqual(['https://m.example/']);
    expect(c.insecureRegistries).toEqual(['r:5000']);
    expect(c.hosts).toEqual(['unix:///var/run/berth/docker.sock']);
    expect(c.logDriver).toBe('json-file');
  });

  it("rejects unknown keys with dockerd's message", () => {
    expect(() => parseConfigFile('{"colour":"blue","size":1}', 'f')).toThrow("the following directives don't match any configuration option: colour, size");
  });

  it('rejects wrong types, bad JSON and flag/file conflicts', () => {
    expect(() => parseConfigFile('{"hosts":"unix:///x"}', 'f')).toThrow(/invalid value for "hosts"/);
    expect(() => parseConfigFile('{', 'f')).toThrow(/unable to configure the Docker daemon with file f/);
    expect(() => mergeConfig({ 'data-root': '/a' }, { 'data-root': '/b' }, 'f')).toThrow(ConfigError);
    expect(() => mergeConfig({}, { 'log-level': 'loud' }, 'f')).toThrow('unable to parse logging level: loud');
    expect(() => mergeConfig({}, { 'registry-mirrors': ['ftp://x'] }, 'f')).toThrow(/unsupported scheme/);
    expect(() => mergeConfig({}, { 'log-driver': 'syslog' }, 'f')).toThrow(/no log driver named 'syslog'/);
  });

  it('debug wins over log-level; sizes parse like docker', () => {
    expect(mergeConfig({ debug: true }, {}, undefined).logLevel).toBe('debug');
    expect(parseSize('10m')).toBe(10 * 1024 * 1024);
    expect(parseSize('1.5k')).toBe(1536);
    expect(parseSize('100')).toBe(100);
    expect(() => parseSize('ten')).toThrow(/invalid size/);
    expect(() => validateLogOpts({ 'max-file': '3' })).toThrow('max-file can only be set if max-size is set');
    expect(() => validateLogOpts({ 'max-size': '1m', bogus: '1' })).toThrow("unknown log opt 'bogus' for json-file log driver");
  });

  it('runtimes: runc is built in and reserved, others are added by name, the default must exist', () => {
    const c = mergeConfig({}, { runtimes: { alt: { path: '/usr/sbin/runc', runtimeArgs: ['--debug'] } }, 'default-runtime': 'alt' }, 'f');
    expect(c.runtimes).toEqual({ runc: { path: 'runc', runtimeArgs: [] }, alt: { path: '/usr/sbin/runc', runtimeArgs: ['--debug'] } });
    expect(c.defaultRuntime).toBe('alt');
    expect(mergeConfig({}, {}, undefined).defaultRuntime).toBe('runc');
    expect(() => mergeConfig({}, { runtimes: { runc: { path: '/x' } } }, 'f')).toThrow("runtime name 'runc' is reserved");
    expect(() => mergeConfig({}, { 'default-runtime': 'crun' }, 'f')).toThrow('default runtime crun does not exist');
    expect(() => mergeConfig({}, { runtimes: { 'bad name': { path: '/x' } } }, 'f')).toThrow('invalid runtime name: bad name');
  });
});
