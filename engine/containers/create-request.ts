/**
 * Turns a `POST /containers/create` body into validated Config, HostConfig
 * and NetworkingConfig with Docker's defaults filled in, rejecting bad input
 * with dockerd's messages. Nothing here touches the system.
 */
import fs from 'node:fs';
import os from 'node:os';
import { z } from 'zod';
import { InvalidParameterError } from '../errdefs.js';
import type { ContainerConfig, HostConfig, NetworkingConfig, RestartPolicy } from '../api/types.js';
import { normalizeCapability, allCapabilities } from '../security/capabilities.js';
import { defaultMaskedPaths, defaultReadonlyPaths } from '../security/paths.js';
import { parseSignal } from '../system/signals.js';

const strList = z.array(z.string()).nullish();
const strMap = z.record(z.string(), z.string()).nullish();
const num = z.number().nullish();
const bool = z.boolean().nullish();

const healthSchema = z
  .object({ Test: strList, Interval: num, Timeout: num, StartPeriod: num, StartInterval: num, Retries: num })
  .passthrough()
  .nullish();

const configSchema = z
  .object({
    Hostname: z.string().nullish(),
    Domainname: z.string().nullish(),
    User: z.string().nullish(),
    AttachStdin: bool,
    AttachStdout: bool,
    AttachStderr: bool,
    ExposedPorts: z.record(z.string(), z.unknown()).nullish(),
    Tty: bool,
    OpenStdin: bool,
    StdinOnce: bool,
    Env: strList,
    Cmd: z.union([z.array(z.string()), z.string()]).nullish(),
    Healthcheck: healthSchema,
    ArgsEscaped: bool,
    Image: z.string().nullish(),
    Volumes: z.record(z.string(), z.unknown()).nullish(),
    WorkingDir: z.string().nullish(),
    Entrypoint: z.union([z.array(z.string()), z.string()]).nullish(),
    NetworkDisabled: bool,
    MacAddress: z.string().nullish(),
    OnBuild: strList,
    Labels: strMap,
    StopSignal: z.string().nullish(),
    StopTimeout: num,
    Shell: strList,
  })
  .passthrough();

const ulimitSchema = z.object({ Name: z.string(), Soft: z.number(), Hard: z.number() });
const mountSchema = z
  .object({
    Type: z.string(),
    Source: z.string().nullish(),
    Target: z.string(),
    ReadOnly: bool,
    Consistency: z.string().nullish(),
    BindOptions: z.object({}).passthrough().nullish(),
    VolumeOptions: z.object({}).passthrough().nullish(),
    TmpfsOptions: z.object({ SizeBytes: num, Mode: num }).passthrough().nullish(),
  })
  .passthrough();

const hostConfigSchema = z
  .object({
    Binds: strList,
    ContainerIDFile: z.string().nullish(),
    LogConfig: z.object({ Type: z.string().nullish(), Config: strMap }).nullish(),
    NetworkMode: z.string().nullish(),
    PortBindings: z.record(z.string(), z.array(z.object({ HostIp: z.string().nullish(), HostPort: z.string().nullish() })).nullish()).nullish(),
    RestartPolicy: z.object({ Name: z.string().nullish(), MaximumRetryCount: num }).nullish(),
    AutoRemove: bool,
    VolumeDriver: z.string().nullish(),
    VolumesFrom: strList,
    ConsoleSize: z.array(z.number()).nullish(),
    Annotations: strMap,
    CapAdd: strList,
    CapDrop: strList,
    CgroupnsMode: z.string().nullish(),
    Dns: strList,
    DnsOptions: strList,
    DnsSearch: strList,
    ExtraHosts: strList,
    GroupAdd: strList,
    IpcMode: z.string().nullish(),
    Cgroup: z.string().nullish(),
    Links: strList,
    OomScoreAdj: num,
    PidMode: z.string().nullish(),
    Privileged: bool,
    PublishAllPorts: bool,
    ReadonlyRootfs: bool,
    SecurityOpt: strList,
    StorageOpt: strMap,
    Tmpfs: strMap,
    UTSMode: z.string().nullish(),
    UsernsMode: z.string().nullish(),
    ShmSize: num,
    Sysctls: strMap,
    Runtime: z.string().nullish(),
    Isolation: z.string().nullish(),
    CpuShares: num,
    Memory: num,
    NanoCpus: num,
    CgroupParent: z.string().nullish(),
    BlkioWeight: num,
    CpuPeriod: num,
    CpuQuota: num,
    CpuRealtimePeriod: num,
    CpuRealtimeRuntime: num,
    CpusetCpus: z.string().nullish(),
    CpusetMems: z.string().nullish(),
    Devices: z.array(z.object({ PathOnHost: z.string(), PathInContainer: z.string().nullish(), CgroupPermissions: z.string().nullish() })).nullish(),
    DeviceCgroupRules: strList,
    MemoryReservation: num,
    MemorySwap: num,
    MemorySwappiness: num,
    OomKillDisable: bool,
    PidsLimit: num,
    Ulimits: z.array(ulimitSchema).nullish(),
    Mounts: z.array(mountSchema).nullish(),
    MaskedPaths: strList,
    ReadonlyPaths: strList,
    Init: bool,
  })
  .passthrough();

const networkingSchema = z
  .object({
    EndpointsConfig: z
      .record(
        z.string(),
        z
          .object({
            IPAMConfig: z.object({ IPv4Address: z.string().nullish(), IPv6Address: z.string().nullish() }).passthrough().nullish(),
            Links: strList,
            Aliases: strList,
            MacAddress: z.string().nullish(),
            DriverOpts: strMap,
          })
          .passthrough()
          .nullish(),
      )
      .nullish(),
  })
  .passthrough();

const bodySchema = configSchema.extend({ HostConfig: hostConfigSchema.nullish(), NetworkingConfig: networkingSchema.nullish() }).passthrough();

export type CreateBody = z.infer<typeof bodySchema>;

const goTypes: Record<string, string> = { string: 'string', number: 'int64', boolean: 'bool', array: '[]string', object: 'map[string]string', record: 'map[string]string' };

function jsonTypeOf(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  return typeof v === 'object' ? 'object' : typeof v;
}

/** Validates JSON types, reporting the first problem like Go's encoding/json does. */
/**
 * Field names as Go's encoding/json matches them: case-insensitively (docker-py sends
 * `CPURealtimePeriod` for HostConfig.CpuRealtimePeriod). An exact match wins.
 */
function goCase(obj: Record<string, unknown>, known: readonly string[]): Record<string, unknown> {
  const byLower = new Map(known.map((k) => [k.toLowerCase(), k]));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(obj)) {
    const canon = byLower.get(k.toLowerCase());
    if (canon && canon !== k && !(canon in obj)) out[canon] = v;
    else out[k] = v;
  }
  return out;
}

export function parseCreateBody(raw: unknown, struct = 'ContainerConfigWrapper'): CreateBody {
  if (raw === undefined || raw === null) throw new InvalidParameterError('config cannot be empty in order to create a container');
  if (typeof raw !== 'object' || Array.isArray(raw)) throw new InvalidParameterError(`json: cannot unmarshal ${jsonTypeOf(raw)} into Go value of type ${struct}`);
  const top = goCase(raw as Record<string, unknown>, Object.keys(bodySchema.shape));
  const hc = top.HostConfig;
  if (hc && typeof hc === 'object' && !Array.isArray(hc)) top.HostConfig = goCase(hc as Record<string, unknown>, Object.keys(hostConfigSchema.shape));
  const r = bodySchema.safeParse(top);
  if (!r.success) {
    const issue = r.error.issues[0]!;
    let value: unknown = raw;
    for (const p of issue.path) value = (value as Record<string | number, unknown> | undefined)?.[p as string];
    const expected = 'expected' in issue ? String(issue.expected) : 'value';
    const field = issue.path.filter((p) => typeof p === 'string').join('.');
    throw new InvalidParameterError(`json: cannot unmarshal ${jsonTypeOf(value)} into Go struct field ${struct}.${field} of type ${goTypes[expected] ?? expected}`);
  }
  return r.data;
}

function toList(v: string | string[] | null | undefined): string[] | null {
  if (v === null || v === undefined) return null;
  return typeof v === 'string' ? [v] : v;
}

/** Validates "KEY=value" entries (an empty key is an error, as in Docker). */
export function validateEnv(env: readonly string[]): void {
  for (const e of env) {
    const key = e.split('=', 1)[0]!;
    if (key === '') throw new InvalidParameterError(`invalid environment variable: ${e}`);
  }
}

export function validateRestartPolicy(p: RestartPolicy): void {
  switch (p.Name) {
    case 'always':
    case 'unless-stopped':
    case 'no':
      if (p.MaximumRetryCount !== 0) {
        let msg = "invalid restart policy: maximum retry count can only be used with 'on-failure'";
        if (p.MaximumRetryCount < 0) msg += ' and cannot be negative';
        throw new InvalidParameterError(msg);
      }
      return;
    case 'on-failure':
      if (p.MaximumRetryCount < 0) throw new InvalidParameterError('invalid restart policy: maximum retry count cannot be negative');
      return;
    case '':
      return;
    default:
      throw new InvalidParameterError(`invalid restart policy: unknown policy '${p.Name as string}'; use one of 'no', 'always', 'on-failure', or 'unless-stopped'`);
  }
}

export interface SecurityOptions {
  noNewPrivileges: boolean;
  seccomp: 'default' | 'unconfined' | object;
}

export function parseSecurityOpts(opts: readonly string[] | null | undefined): SecurityOptions {
  const out: SecurityOptions = { noNewPrivileges: false, seccomp: 'default' };
  for (const opt of opts ?? []) {
    if (opt === 'no-new-privileges') {
      out.noNewPrivileges = true;
      continue;
    }
    if (opt === 'disable') continue;
    const sep = opt.includes('=') ? '=' : opt.includes(':') ? ':' : '';
    if (!sep) throw new InvalidParameterError(`invalid --security-opt 1: "${opt}"`);
    const k = opt.slice(0, opt.indexOf(sep));
    const v = opt.slice(opt.indexOf(sep) + 1);
    switch (k) {
      case 'label':
      case 'apparmor':
        break;
      case 'seccomp':
        if (v === 'unconfined') out.seccomp = 'unconfined';
        else if (v === 'builtin' || v === '') out.seccomp = 'default';
        else {
          try {
            out.seccomp = JSON.parse(v) as object;
          } catch {
            throw new InvalidParameterError(`Decoding seccomp profile failed: invalid character in ${JSON.stringify(v.slice(0, 40))}`);
          }
        }
        break;
      case 'no-new-privileges': {
        const b = v.toLowerCase();
        if (!['1', 't', 'true', '0', 'f', 'false'].includes(b)) throw new InvalidParameterError(`invalid --security-opt 2: "${opt}"`);
        out.noNewPrivileges = b === '1' || b === 't' || b === 'true';
        break;
      }
      default:
        throw new InvalidParameterError(`invalid --security-opt 2: "${opt}"`);
    }
  }
  return out;
}

const MIN_MEMORY = 6 * 1024 * 1024;

/** Resource checks shared by create and `docker update`. */
export interface DeviceCgroupRule {
  type: 'a' | 'b' | 'c';
  major?: number;
  minor?: number;
  access: string;
}

/** `--device-cgroup-rule 'c 7:128 rwm'` (moby's format: type, major:minor with * for any, access). */
export function parseDeviceCgroupRule(rule: string): DeviceCgroupRule {
  const m = /^([acb]) ([0-9]+|\*):([0-9]+|\*) ([rwm]{1,3})$/.exec(rule);
  if (!m) throw new InvalidParameterError(`invalid device cgroup format '${rule}'`);
  return { type: m[1] as DeviceCgroupRule['type'], ...(m[2] !== '*' ? { major: Number(m[2]) } : {}), ...(m[3] !== '*' ? { minor: Number(m[3]) } : {}), access: m[4]! };
}

export function validateResources(hc: Partial<HostConfig>): void {
  const memory = hc.Memory ?? 0;
  if (memory > 0 && memory < MIN_MEMORY) throw new InvalidParameterError('Minimum memory limit allowed is 6MB');
  const swap = hc.MemorySwap ?? 0;
  if (memory > 0 && swap > 0 && swap < memory) throw new InvalidParameterError('Minimum memoryswap limit should be larger than memory limit, see usage');
  if (memory === 0 && swap > 0) throw new InvalidParameterError('You should always set the Memory limit when using Memoryswap limit, see usage');
  const swappiness = hc.MemorySwappiness;
  if (swappiness !== null && swappiness !== undefined && swappiness !== -1 && (swappiness < 0 || swappiness > 100)) {
    throw new InvalidParameterError(`Invalid value: ${swappiness}, valid memory swappiness range is 0-100`);
  }
  const reservation = hc.MemoryReservation ?? 0;
  if (reservation > 0 && reservation < MIN_MEMORY) throw new InvalidParameterError('Minimum memory reservation allowed is 6MB');
  if (memory > 0 && reservation > 0 && memory < reservation) throw new InvalidParameterError('Minimum memory limit can not be less than memory reservation limit, see usage');
  const nano = hc.NanoCpus ?? 0;
  if (nano > 0 && (hc.CpuPeriod ?? 0) > 0) throw new InvalidParameterError('Conflicting options: Nano CPUs and CPU Period cannot both be set');
  if (nano > 0 && (hc.CpuQuota ?? 0) > 0) throw new InvalidParameterError('Conflicting options: Nano CPUs and CPU Quota cannot both be set');
  const ncpu = os.cpus().length;
  if (nano < 0 || nano > ncpu * 1e9) throw new InvalidParameterError(`range of CPUs is from 0.01 to ${ncpu}.00, as there are only ${ncpu} CPUs available`);
  if ((hc.CpuShares ?? 0) < 0) throw new InvalidParameterError(`invalid CPU shares (${hc.CpuShares}): value must be a positive integer`);
  const period = hc.CpuPeriod ?? 0;
  if (period !== 0 && (period < 1000 || period > 1000000)) throw new InvalidParameterError('CPU cfs period can not be less than 1ms (i.e. 1000) or larger than 1s (i.e. 1000000)');
  const quota = hc.CpuQuota ?? 0;
  if (quota > 0 && quota < 1000) throw new InvalidParameterError('CPU cfs quota can not be less than 1ms (i.e. 1000)');
  const rtPeriod = hc.CpuRealtimePeriod ?? 0;
  const rtRuntime = hc.CpuRealtimeRuntime ?? 0;
  if (rtPeriod > 0 || rtRuntime > 0) {
    if (rtPeriod > 0 && rtRuntime > rtPeriod) throw new InvalidParameterError('cpu-rt-runtime cannot be higher than cpu-rt-period');
    // cgroup v2 and kernels without CONFIG_RT_GROUP_SCHED have no real-time budget per cgroup.
    if (!fs.existsSync('/sys/fs/cgroup/cpu/cpu.rt_runtime_us')) {
      throw new InvalidParameterError(`Your kernel does not support cgroup cpu real-time ${rtPeriod > 0 ? 'period' : 'runtime'}`);
    }
  }
  for (const rule of hc.DeviceCgroupRules ?? []) parseDeviceCgroupRule(rule);
  const weight = hc.BlkioWeight ?? 0;
  if (weight > 0 && (weight < 10 || weight > 1000)) throw new InvalidParameterError('Range of blkio weight is from 10 to 1000');
  if (hc.CpusetCpus && !/^(\d+(-\d+)?)(,\d+(-\d+)?)*$/.test(hc.CpusetCpus)) throw new InvalidParameterError(`Invalid value ${hc.CpusetCpus} for cpuset cpus`);
  if (hc.CpusetCpus) {
    for (const part of hc.CpusetCpus.split(',')) {
      for (const n of part.split('-').map(Number)) {
        if (n >= ncpu) throw new InvalidParameterError(`Requested CPUs are not available - requested ${hc.CpusetCpus}, available: 0-${ncpu - 1}`);
      }
    }
  }
}

export interface NormalizedCreate {
  config: ContainerConfig;
  hostConfig: HostConfig;
  networkingConfig: NetworkingConfig;
  security: SecurityOptions;
}

export function defaultHostConfig(): HostConfig {
  return {
    Binds: null,
    ContainerIDFile: '',
    LogConfig: { Type: 'json-file', Config: {} },
    NetworkMode: 'bridge',
    PortBindings: {},
    RestartPolicy: { Name: 'no', MaximumRetryCount: 0 },
    AutoRemove: false,
    VolumeDriver: '',
    VolumesFrom: null,
    ConsoleSize: [0, 0],
    CapAdd: null,
    CapDrop: null,
    CgroupnsMode: 'host',
    Dns: [],
    DnsOptions: [],
    DnsSearch: [],
    ExtraHosts: null,
    GroupAdd: null,
    IpcMode: 'private',
    Cgroup: '',
    Links: null,
    OomScoreAdj: 0,
    PidMode: '',
    Privileged: false,
    PublishAllPorts: false,
    ReadonlyRootfs: false,
    SecurityOpt: null,
    UTSMode: '',
    UsernsMode: '',
    ShmSize: 67108864,
    Runtime: 'runc',
    Isolation: '',
    CpuShares: 0,
    Memory: 0,
    NanoCpus: 0,
    CgroupParent: '',
    BlkioWeight: 0,
    BlkioWeightDevice: [],
    BlkioDeviceReadBps: [],
    BlkioDeviceWriteBps: [],
    BlkioDeviceReadIOps: [],
    BlkioDeviceWriteIOps: [],
    CpuPeriod: 0,
    CpuQuota: 0,
    CpuRealtimePeriod: 0,
    CpuRealtimeRuntime: 0,
    CpusetCpus: '',
    CpusetMems: '',
    Devices: [],
    DeviceCgroupRules: null,
    DeviceRequests: null,
    MemoryReservation: 0,
    MemorySwap: 0,
    MemorySwappiness: null,
    OomKillDisable: null,
    PidsLimit: null,
    Ulimits: [],
    CpuCount: 0,
    CpuPercent: 0,
    IOMaximumIOps: 0,
    IOMaximumBandwidth: 0,
    MaskedPaths: defaultMaskedPaths,
    ReadonlyPaths: defaultReadonlyPaths,
  };
}

function validNamespaceMode(mode: string, allowContainer: boolean): boolean {
  return mode === '' || mode === 'host' || mode === 'private' || mode === 'shareable' || (allowContainer && mode.startsWith('container:') && mode.length > 10);
}

/** Normalizes and validates a create body (image defaults are merged later). */
export function normalizeCreate(body: CreateBody, defaults: { logDriver: string; logOpts: Record<string, string> }): NormalizedCreate {
  const hcIn = body.HostConfig ?? {};
  const hc = defaultHostConfig();
  for (const [k, v] of Object.entries(hcIn)) {
    if (v !== undefined && v !== null) (hc as unknown as Record<string, unknown>)[k] = v;
  }
  // Go's zero values: explicit nulls keep defaults, but lists that were null stay null.
  for (const k of ['Binds', 'VolumesFrom', 'CapAdd', 'CapDrop', 'ExtraHosts', 'GroupAdd', 'Links', 'SecurityOpt'] as const) {
    if (hcIn[k] === null) (hc as unknown as Record<string, unknown>)[k] = null;
  }
  hc.RestartPolicy = { Name: (hcIn.RestartPolicy?.Name ?? '') as RestartPolicy['Name'], MaximumRetryCount: hcIn.RestartPolicy?.MaximumRetryCount ?? 0 };
  if (hc.RestartPolicy.Name === '') hc.RestartPolicy.Name = 'no';
  validateRestartPolicy(hc.RestartPolicy);
  if (hc.AutoRemove && hc.RestartPolicy.Name !== 'no') throw new InvalidParameterError("can't create 'AutoRemove' container with restart policy");
  // The daemon's log-opts apply when the container asks for no options with the default driver (moby's mergeAndVerifyLogConfig).
  const logType = hcIn.LogConfig?.Type || defaults.logDriver;
  const logOpts = hcIn.LogConfig?.Config ?? {};
  hc.LogConfig = { Type: logType, Config: Object.keys(logOpts).length === 0 && logType === defaults.logDriver ? { ...defaults.logOpts } : logOpts };
  if (!['json-file', 'local', 'k8s-file', 'none'].includes(logType)) throw new InvalidParameterError(`logger: no log driver named '${logType}' is registered`);
  const mode = hcIn.NetworkMode || 'default';
  hc.NetworkMode = mode === 'default' ? 'bridge' : mode;
  if (hcIn.ConsoleSize) {
    const [h = 0, w = 0] = hcIn.ConsoleSize;
    hc.ConsoleSize = [h, w];
  }
  for (const [list, label] of [
    [hc.CapAdd, 'CapAdd'],
    [hc.CapDrop, 'CapDrop'],
  ] as const) {
    for (const c of list ?? []) {
      const n = normalizeCapability(c);
      if (n !== 'ALL' && !(allCapabilities as readonly string[]).includes(n)) throw new InvalidParameterError(`invalid ${label}: unknown capability: "${n}"`);
    }
  }
  validateResources(hc);
  if (hc.OomScoreAdj < -1000 || hc.OomScoreAdj > 1000) throw new InvalidParameterError(`Invalid value ${hc.OomScoreAdj}, range for oom score adj is [-1000, 1000]`);
  if (hc.ShmSize < 0) throw new InvalidParameterError('SHM size can not be less than 0');
  if (!validNamespaceMode(hc.IpcMode, true) && hc.IpcMode !== 'none') throw new InvalidParameterError(`invalid IPC mode: ${hc.IpcMode}`);
  if (!['', 'host'].includes(hc.PidMode) && !hc.PidMode.startsWith('container:')) throw new InvalidParameterError(`invalid PID mode: ${hc.PidMode}`);
  if (!['', 'host'].includes(hc.UTSMode)) throw new InvalidParameterError(`invalid UTS mode: ${hc.UTSMode}`);
  if (hc.PidsLimit !== null && hc.PidsLimit <= 0) hc.PidsLimit = null;
  for (const u of hc.Ulimits ?? []) {
    if (u.Soft > u.Hard) throw new InvalidParameterError(`ulimit soft limit must be less than or equal to hard limit: ${u.Soft} > ${u.Hard}`);
  }
  for (const k of Object.keys(hc.Annotations ?? {})) {
    if (k === '') throw new InvalidParameterError('invalid Annotations: the empty string is not permitted as an annotation key');
  }
  for (const p of Object.keys(hc.Tmpfs ?? {})) {
    if (!p.startsWith('/')) throw new InvalidParameterError(`invalid mount config for type "tmpfs": invalid mount path: '${p}' mount path must be absolute`);
  }
  const security = parseSecurityOpts(hc.SecurityOpt);

  const env = body.Env ?? [];
  validateEnv(env);
  const workingDir = body.WorkingDir ?? '';
  if (workingDir !== '' && !workingDir.startsWith('/')) throw new InvalidParameterError(`the working directory '${workingDir}' is invalid, it needs to be an absolute path`);
  const hostname = body.Hostname ?? '';
  if (hostname.length > 255) throw new InvalidParameterError(`hostname "${hostname}" is too long (maximum 255 bytes)`);
  if (body.StopSignal) parseSignal(body.StopSignal);
  const hcheck = body.Healthcheck;
  if (hcheck) {
    const min = 1_000_000;
    const check = (v: number | null | undefined, name: string) => {
      if (v && v !== 0 && v < min) throw new InvalidParameterError(`${name} in Healthcheck cannot be less than 1ms`);
    };
    check(hcheck.Interval, 'Interval');
    check(hcheck.Timeout, 'Timeout');
    check(hcheck.StartPeriod, 'StartPeriod');
    check(hcheck.StartInterval, 'StartInterval');
    if ((hcheck.Retries ?? 0) < 0) throw new InvalidParameterError('Retries in Healthcheck cannot be negative');
  }
  const config: ContainerConfig = {
    Hostname: hostname,
    Domainname: body.Domainname ?? '',
    User: body.User ?? '',
    AttachStdin: body.AttachStdin ?? false,
    AttachStdout: body.AttachStdout ?? false,
    AttachStderr: body.AttachStderr ?? false,
    Tty: body.Tty ?? false,
    OpenStdin: body.OpenStdin ?? false,
    StdinOnce: body.StdinOnce ?? false,
    Env: [...env],
    Cmd: toList(body.Cmd),
    Image: body.Image ?? '',
    Volumes: (body.Volumes as Record<string, object> | null | undefined) ?? null,
    WorkingDir: workingDir,
    Entrypoint: toList(body.Entrypoint),
    OnBuild: body.OnBuild ?? null,
    Labels: body.Labels ?? {},
  };
  if (body.ExposedPorts) config.ExposedPorts = body.ExposedPorts as Record<string, object>;
  if (body.StopSignal) config.StopSignal = body.StopSignal;
  if (body.StopTimeout !== undefined && body.StopTimeout !== null) config.StopTimeout = body.StopTimeout;
  if (hcheck) config.Healthcheck = hcheck as ContainerConfig['Healthcheck'];
  if (body.NetworkDisabled) config.NetworkDisabled = true;
  if (body.MacAddress) config.MacAddress = body.MacAddress;
  const networkingConfig: NetworkingConfig = { EndpointsConfig: (body.NetworkingConfig?.EndpointsConfig ?? {}) as NetworkingConfig['EndpointsConfig'] };
  return { config, hostConfig: hc, networkingConfig, security };
}
