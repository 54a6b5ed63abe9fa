import { describe, expect, it } from 'vitest';
import { normalizeCreate, parseCreateBody, parseSecurityOpts, validateRestartPolicy } from './create-request.js';
import { mergeEnv } from './env.js';

const defaults = { logDriver: 'json-file', logOpts: { 'max-size': '5m' } };

describe('container create requests', () => {
  it('reports JSON type errors like Go does', () => {
    expect(() => parseCreateBody({ Image: 'x', Env: 'A=1' })).toThrow('json: cannot unmarshal string into Go struct field ContainerConfigWrapper.Env of type []string');
    expect(() => parseCreateBody({ Image: 'x', HostConfig: { Memory: 'lots' } })).toThrow(/cannot unmarshal string into Go struct field ContainerConfigWrapper.HostConfig.Memory/);
    expect(() => parseCreateBody(undefined)).toThrow('config cannot be empty in order to create a container');
    expect(() => parseCreateBody([1])).toThrow(/cannot unmarshal array/);
  });

  it('fills Docker defaults and maps NetworkMode default to bridge', () => {
    const n = normalizeCreate(parseCreateBody({ Image: 'busybox', HostConfig: { NetworkMode: 'default' } }), defaults);
    expect(n.hostConfig.NetworkMode).toBe('bridge');
    expect(n.hostConfig.RestartPolicy).toEqual({ Name: 'no', MaximumRetryCount: 0 });
    expect(n.hostConfig.ShmSize).toBe(67108864);
    expect(n.hostConfig.LogConfig).toEqual({ Type: 'json-file', Config: { 'max-size': '5m' } });
    expect(n.config.Cmd).toBeNull();
    expect(n.config.Labels).toEqual({});
  });

  it('validates restart policies, resources, env and workdir with dockerd messages', () => {
    expect(() => validateRestartPolicy({ Name: 'always', MaximumRetryCount: 2 })).toThrow("invalid restart policy: maximum retry count can only be used with 'on-failure'");
    expect(() => validateRestartPolicy({ Name: 'on-failure', MaximumRetryCount: -1 })).toThrow('invalid restart policy: maximum retry count cannot be negative');
    expect(() => validateRestartPolicy({ Name: 'sometimes' as 'no', MaximumRetryCount: 0 })).toThrow(/unknown policy 'sometimes'/);
    const create = (hc: object, cfg: object = {}) => normalizeCreate(parseCreateBody({ Image: 'x', ...cfg, HostConfig: hc }), defaults);
    expect(() => create({ AutoRemove: true, RestartPolicy: { Name: 'always' } })).toThrow("can't create 'AutoRemove' container with restart policy");
    expect(() => create({ Memory: 1024 })).toThrow('Minimum memory limit allowed is 6MB');
    expect(() => create({ Memory: 64 << 20, MemorySwap: 32 << 20 })).toThrow('Minimum memoryswap limit should be larger than memory limit, see usage');
    expect(() => create({ NanoCpus: 1e9, CpuQuota: 50000 })).toThrow('Conflicting options: Nano CPUs and CPU Quota cannot both be set');
    expect(() => create({ CapAdd: ['FLY'] })).toThrow('invalid CapAdd: unknown capability: "CAP_FLY"');
    expect(() => create({}, { Env: ['=x'] })).toThrow('invalid environment variable: =x');
    expect(() => create({}, { WorkingDir: 'rel' })).toThrow("the working directory 'rel' is invalid, it needs to be an absolute path");
    expect(() => create({}, { StopSignal: 'SIGWHAT' })).toThrow('Invalid signal: SIGWHAT');
  });

  it('parses security options', () => {
    expect(parseSecurityOpts(['no-new-privileges'])).toEqual({ noNewPrivileges: true, seccomp: 'default' });
    expect(parseSecurityOpts(['no-new-privileges=false', 'seccomp=unconfined'])).toEqual({ noNewPrivileges: false, seccomp: 'unconfined' });
    expect(() => parseSecurityOpts(['nonsense'])).toThrow('invalid --security-opt 1: "nonsense"');
    expect(() => parseSecurityOpts(['foo=bar'])).toThrow('invalid --security-opt 2: "foo=bar"');
  });

  it('merges environment lists with later keys winning in place', () => {
    expect(mergeEnv(['PATH=/bin', 'A=1'], ['A=2', 'B=3'])).toEqual(['PATH=/bin', 'A=2', 'B=3']);
  });
});

describe('field names as Go decodes them', () => {
  it('matches Config and HostConfig keys case-insensitively, exact names winning', () => {
    const b = parseCreateBody({ image: 'busybox', HostConfig: { CPURealtimePeriod: 1000, cpurealtimeruntime: 500, Memory: 7e6, memory: 1 } });
    expect(b.Image).toBe('busybox');
    expect(b.HostConfig?.CpuRealtimePeriod).toBe(1000);
    expect(b.HostConfig?.CpuRealtimeRuntime).toBe(500);
    expect(b.HostConfig?.Memory).toBe(7e6);
  });
});
