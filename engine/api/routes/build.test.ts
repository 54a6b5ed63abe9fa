import { describe, expect, it } from 'vitest';
import type { IncomingMessage } from 'node:http';
import { buildRequest, registryConfigHeader } from './build.js';

const ctx = (query: string, headers: Record<string, string> = {}, version = '1.51') => ({ query: new URLSearchParams(query), version, req: { headers } as unknown as IncomingMessage });

describe('POST /build query decoding (dockerd newImageBuildOptions)', () => {
  it("takes what the CLI sends, empty values included ('cpuperiod=0&cgroupparent=&cachefrom=[]')", () => {
    const { req, buildId } = buildRequest(
      ctx('t=a:1&t=b&dockerfile=&q=0&nocache=1&rm=&forcerm=0&pull=&cpuperiod=0&cpuquota=x&cgroupparent=&cachefrom=%5B%5D&buildargs=%7B%22A%22%3A%22x%22%2C%22B%22%3Anull%7D&labels=%7B%22l%22%3A%22v%22%7D&shmsize=&memory=64&networkmode=none&extrahosts=h%3A1.2.3.4&target=app&buildid=abc'),
      false,
    );
    expect(buildId).toBe('abc');
    expect(req.dockerfile).toBe('Dockerfile');
    expect(req.quiet).toBe(false);
    const o = req.options;
    expect(o.tags).toEqual(['a:1', 'b']);
    expect([o.noCache, o.pull, o.remove, o.forceRemove]).toEqual([true, false, true, false]);
    expect([...o.buildArgs]).toEqual([
      ['A', 'x'],
      ['B', null],
    ]);
    expect(o.labels).toEqual({ l: 'v' });
    expect(o.cacheFrom).toEqual([]);
    expect(o.target).toBe('app');
    // Integers that do not parse are 0, as httputils.Int64ValueOrZero has it.
    expect([o.host.CpuPeriod, o.host.CpuQuota, o.host.Memory, o.host.ShmSize]).toEqual([0, 0, 64, 0]);
    expect(o.host.NetworkMode).toBe('none');
    expect(o.host.ExtraHosts).toEqual(['h:1.2.3.4']);
  });

  it('rm defaults to true, forcerm implies it, rm=0 turns it off', () => {
    expect(buildRequest(ctx(''), false).req.options.remove).toBe(true);
    expect(buildRequest(ctx('rm=0'), false).req.options.remove).toBe(false);
    expect(buildRequest(ctx('rm=0&forcerm=1'), false).req.options.remove).toBe(true);
  });

  it("refuses with dockerd's words what it cannot do", () => {
    expect(() => buildRequest(ctx('buildargs=%5B1%5D'), false)).toThrow(/^error reading build args: json: cannot unmarshal array/);
    expect(() => buildRequest(ctx('labels=%7Bx'), false)).toThrow(/^error reading labels: /);
    expect(() => buildRequest(ctx('shmsize=abc'), false)).toThrow('strconv.ParseInt: parsing "abc": invalid syntax');
    expect(() => buildRequest(ctx('isolation=hyperv'), false)).toThrow('Unsupported isolation: "hyperv"');
    expect(() => buildRequest(ctx('version=3'), false)).toThrow('invalid version "3"');
    expect(() => buildRequest(ctx('version=2'), false)).toThrow(/BuildKit/);
    expect(() => buildRequest(ctx('squash=1'), false)).toThrow('squash is only supported with experimental mode');
  });

  it('reads X-Registry-Config and ignores what is malformed', () => {
    const cfg = Buffer.from(JSON.stringify({ '127.0.0.1:5000': { username: 'u', password: 'p' } })).toString('base64url');
    expect(registryConfigHeader(cfg)['127.0.0.1:5000']).toMatchObject({ username: 'u', password: 'p' });
    expect(registryConfigHeader('not base64 json')).toEqual({});
    expect(registryConfigHeader(undefined)).toEqual({});
    expect(buildRequest(ctx('', { 'x-registry-config': cfg }), false).req.options.auth['127.0.0.1:5000']).toMatchObject({ username: 'u' });
  });
});
