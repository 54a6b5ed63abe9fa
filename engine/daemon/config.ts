/**
 * berthd configuration: command-line flags merged with a daemon.json-style
 * file that uses dockerd's key names, validated with dockerd's messages.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import { isLogLevel, type LogLevel } from './log.js';

const ulimitSchema = z.object({ Name: z.string(), Hard: z.number().int(), Soft: z.number().int() });
const poolSchema = z.object({ base: z.string(), size: z.number().int().min(1).max(32) });

/** Keys accepted in the config file (dockerd's names). */
export const fileSchema = z
  .object({
    'data-root': z.string(),
    'exec-root': z.string(),
    hosts: z.array(z.string()),
    'log-level': z.string(),
    debug: z.boolean(),
    'log-driver': z.string(),
    'log-opts': z.record(z.string(), z.string()),
    'registry-mirrors': z.array(z.string()),
    'insecure-registries': z.array(z.string()),
    'default-address-pools': z.array(poolSchema),
    'default-ulimits': z.record(z.string(), ulimitSchema),
    labels: z.array(z.string()),
    bip: z.string(),
    bridge: z.string(),
    iptables: z.boolean(),
    'ip-forward': z.boolean(),
    'userland-proxy': z.boolean(),
    dns: z.array(z.string()),
    'dns-search': z.array(z.string()),
    'dns-opts': z.array(z.string()),
    'max-concurrent-downloads': z.number().int().positive(),
    'max-concurrent-uploads': z.number().int().positive(),
    'max-download-attempts': z.number().int().positive(),
    'live-restore': z.boolean(),
    'storage-driver': z.string(),
    'default-runtime': z.string(),
    runtimes: z.record(z.string(), z.object({ path: z.string(), runtimeArgs: z.array(z.string()).optional() })),
    'monitor-path': z.string(),
    'init-path': z.string(),
    'shutdown-timeout': z.number().int(),
    features: z.record(z.string(), z.boolean()),
    experimental: z.boolean(),
    group: z.string(),
    tls: z.boolean(),
    tlsverify: z.boolean(),
    tlscacert: z.string(),
    tlscert: z.string(),
    tlskey: z.string(),
    /** Berth's VM: the host folders shared into the guest; bind mounts must come from one of them (volumes/shared-paths.ts). */
    'shared-host-paths': z.array(z.string().startsWith('/')),
  })
  .partial()
  .strict();

export type DaemonFileConfig = z.infer<typeof fileSchema>;

export interface AddressPool {
  base: string;
  size: number;
}

export interface Ulimit {
  Name: string;
  Hard: number;
  Soft: number;
}

export interface DaemonConfig {
  dataRoot: string;
  execRoot: string;
  hosts: string[];
  logLevel: LogLevel;
  logDriver: string;
  logOpts: Record<string, string>;
  registryMirrors: string[];
  insecureRegistries: string[];
  defaultAddressPools: AddressPool[];
  defaultUlimits: Record<string, Ulimit>;
  labels: string[];
  bip: string | undefined;
  bridge: string;
  iptables: boolean;
  ipForward: boolean;
  dns: string[];
  dnsSearch: string[];
  dnsOpts: string[];
  maxConcurrentDownloads: number;
  maxConcurrentUploads: number;
  maxDownloadAttempts: number;
  /** OCI runtimes by name; runc is always there (containers/runtimes.ts). */
  runtimes: Record<string, { path: string; runtimeArgs: string[] }>;
  defaultRuntime: string;
  monitorPath: string;
  initPath: string;
  shutdownTimeout: number;
  experimental: boolean;
  /** Feature switches (dockerd's "features" map); Berth reads "cgroup-favordynmods". */
  features: Record<string, boolean>;
  /** Group of the unix sockets (-G/--group); undefined: `berth` if it exists, else root. */
  socketGroup: string | undefined;
  /** TLS for tcp:// listeners (--tls, --tlsverify and their files); undefined: plain HTTP. */
  tls: TlsConfig | undefined;
  /** --tls=false or --tlsverify=false given: dockerd's way to say "plain TCP on purpose". */
  tlsExplicitlyOff: boolean;
  configFile: string | undefined;
  /** Berth's VM only: bind-mount sources must be inside one of these (the shared host folders); undefined: any path. */
  sharedHostPaths: string[] | undefined;
}

export interface TlsConfig {
  /** Mutual TLS: clients need a certificate signed by cacert. */
  verify: boolean;
  cacert: string;
  cert: string;
  key: string;
}

export const defaults: DaemonConfig = {
  dataRoot: '/var/lib/berth',
  execRoot: '/var/run/berth',
  hosts: ['unix:///var/run/berth/docker.sock'],
  logLevel: 'info',
  logDriver: 'json-file',
  logOpts: {},
  registryMirrors: [],
  insecureRegistries: [],
  defaultAddressPools: [
    { base: '172.17.0.0/16', size: 16 },
    { base: '172.18.0.0/16', size: 16 },
    { base: '172.19.0.0/16', size: 16 },
    { base: '172.20.0.0/14', size: 16 },
    { base: '172.24.0.0/14', size: 16 },
    { base: '172.28.0.0/14', size: 16 },
    { base: '192.168.0.0/16', size: 20 },
  ],
  defaultUlimits: {},
  labels: [],
  bip: undefined,
  bridge: 'berth0',
  iptables: true,
  ipForward: true,
  dns: [],
  dnsSearch: [],
  dnsOpts: [],
  maxConcurrentDownloads: 3,
  maxConcurrentUploads: 5,
  maxDownloadAttempts: 5,
  runtimes: { runc: { path: 'runc', runtimeArgs: [] } },
  defaultRuntime: 'runc',
  monitorPath: 'conmon',
  initPath: 'tini-static',
  shutdownTimeout: 15,
  experimental: false,
  features: {},
  socketGroup: undefined,
  tls: undefined,
  tlsExplicitlyOff: false,
  configFile: undefined,
  sharedHostPaths: undefined,
};

export const supportedLogDrivers = ['json-file', 'local', 'k8s-file', 'none'] as const;

export class ConfigError extends Error {}

/** Parses and validates config file text. Errors use dockerd's wording. */
export function parseConfigFile(text: string, file: string): DaemonFileConfig {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new ConfigError(`unable to configure the Docker daemon with file ${file}: ${(err as Error).message}`);
  }
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new ConfigError(`unable to configure the Docker daemon with file ${file}: the configuration must be a JSON object`);
  }
  const known = new Set(Object.keys(fileSchema.shape));
  const unknown = Object.keys(raw).filter((k) => !known.has(k));
  if (unknown.length > 0) {
    throw new ConfigError(`the following directives don't match any configuration option: ${unknown.join(', ')}`);
  }
  const parsed = fileSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new ConfigError(`invalid value for "${issue.path.join('.')}" in ${file}: ${issue.message}`);
  }
  return parsed.data;
}

export function readConfigFile(file: string, required: boolean): DaemonFileConfig {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' && !required) return {};
    throw new ConfigError(`unable to configure the Docker daemon with file ${file}: ${(err as Error).message}`);
  }
  if (text.trim() === '') return {};
  return parseConfigFile(text, file);
}

/** Flag values given on the command line, in config-file key names. */
export type FlagConfig = Partial<Record<'data-root' | 'exec-root' | 'log-level' | 'bip' | 'bridge' | 'group' | 'tlscacert' | 'tlscert' | 'tlskey', string>> & {
  hosts?: string[];
  debug?: boolean;
  tls?: boolean;
  tlsverify?: boolean;
  'insecure-registries'?: string[];
  'registry-mirrors'?: string[];
};

export function mergeConfig(flags: FlagConfig, file: DaemonFileConfig, configFile: string | undefined): DaemonConfig {
  const conflicts: string[] = [];
  for (const [k, v] of Object.entries(flags)) {
    if (v === undefined) continue;
    const fv = (file as Record<string, unknown>)[k];
    if (fv !== undefined) conflicts.push(`${k}: (from flag: ${JSON.stringify(v)}, from file: ${JSON.stringify(fv)})`);
  }
  if (conflicts.length > 0) {
    throw new ConfigError(`the following directives are specified both as a flag and in the configuration file: ${conflicts.join(', ')}`);
  }
  const m = { ...file, ...Object.fromEntries(Object.entries(flags).filter(([, v]) => v !== undefined)) } as DaemonFileConfig;
  const level = m.debug ? 'debug' : (m['log-level'] ?? defaults.logLevel);
  if (!isLogLevel(level)) throw new ConfigError(`unable to parse logging level: ${level}`);
  const driver = m['log-driver'] ?? defaults.logDriver;
  if (!(supportedLogDrivers as readonly string[]).includes(driver)) {
    throw new ConfigError(`failed to initialize logging driver: logger: no log driver named '${driver}' is registered`);
  }
  // dockerd's rules: runc is built in and cannot be redefined; the default must be one of them.
  const runtimes: DaemonConfig['runtimes'] = { ...defaults.runtimes };
  for (const [name, rt] of Object.entries(m.runtimes ?? {})) {
    if (name === 'runc') throw new ConfigError(`runtime name 'runc' is reserved`);
    if (!/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/.test(name)) throw new ConfigError(`invalid runtime name: ${name}`);
    if (rt.path === '') throw new ConfigError(`runtime ${name}: path is required`);
    runtimes[name] = { path: rt.path, runtimeArgs: rt.runtimeArgs ?? [] };
  }
  const runtimeName = m['default-runtime'] ?? 'runc';
  if (!runtimes[runtimeName]) throw new ConfigError(`default runtime ${runtimeName} does not exist`);
  for (const [name, u] of Object.entries(m['default-ulimits'] ?? {})) {
    if (u.Soft > u.Hard) throw new ConfigError(`ulimit soft limit must be less than or equal to hard limit: ${name}: ${u.Soft} > ${u.Hard}`);
  }
  validateLogOpts(m['log-opts'] ?? {});
  return {
    dataRoot: m['data-root'] ?? defaults.dataRoot,
    execRoot: m['exec-root'] ?? defaults.execRoot,
    hosts: m.hosts && m.hosts.length > 0 ? m.hosts : defaults.hosts,
    logLevel: level,
    logDriver: driver,
    // Only what daemon.json sets is merged into each container's HostConfig.LogConfig (as dockerd
    // does); without it the config stays `{}` there, as on a dockerd without log-opts, and the logs
    // are still capped by berthd's built-in default (20m × 5, containers/log-rotation.ts).
    logOpts: m['log-opts'] ?? {},
    registryMirrors: (m['registry-mirrors'] ?? []).map(normalizeMirror),
    insecureRegistries: m['insecure-registries'] ?? [],
    defaultAddressPools: m['default-address-pools'] ?? defaults.defaultAddressPools,
    defaultUlimits: m['default-ulimits'] ?? {},
    labels: m.labels ?? [],
    bip: m.bip,
    bridge: m.bridge ?? defaults.bridge,
    iptables: m.iptables ?? true,
    ipForward: m['ip-forward'] ?? true,
    dns: m.dns ?? [],
    dnsSearch: m['dns-search'] ?? [],
    dnsOpts: m['dns-opts'] ?? [],
    maxConcurrentDownloads: m['max-concurrent-downloads'] ?? defaults.maxConcurrentDownloads,
    maxConcurrentUploads: m['max-concurrent-uploads'] ?? defaults.maxConcurrentUploads,
    maxDownloadAttempts: m['max-download-attempts'] ?? defaults.maxDownloadAttempts,
    runtimes,
    defaultRuntime: runtimeName,
    monitorPath: m['monitor-path'] ?? defaults.monitorPath,
    initPath: m['init-path'] ?? defaults.initPath,
    shutdownTimeout: m['shutdown-timeout'] ?? defaults.shutdownTimeout,
    experimental: m.experimental ?? false,
    features: m.features ?? {},
    socketGroup: m.group,
    tls: tlsConfig(m),
    tlsExplicitlyOff: m.tls === false || m.tlsverify === false,
    configFile,
    sharedHostPaths: m['shared-host-paths'],
  };
}

/** dockerd's TLS rules: --tlsverify implies --tls; the files default to $DOCKER_CERT_PATH (or ~/.docker)/{ca,cert,key}.pem. */
function tlsConfig(m: DaemonFileConfig): TlsConfig | undefined {
  const verify = m.tlsverify === true;
  if (!verify && m.tls !== true) return undefined;
  const dir = process.env.DOCKER_CERT_PATH || path.join(os.homedir(), '.docker');
  return {
    verify,
    cacert: m.tlscacert ?? path.join(dir, 'ca.pem'),
    cert: m.tlscert ?? path.join(dir, 'cert.pem'),
    key: m.tlskey ?? path.join(dir, 'key.pem'),
  };
}

function normalizeMirror(mirror: string): string {
  let url: URL;
  try {
    url = new URL(mirror);
  } catch {
    throw new ConfigError(`invalid mirror: "${mirror}" is not a valid URI`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new ConfigError(`invalid mirror: unsupported scheme "${url.protocol.replace(':', '')}" in "${mirror}"`);
  }
  if (url.pathname !== '/' && url.pathname !== '') throw new ConfigError(`invalid mirror: path, query, or fragment at end of the URI "${mirror}"`);
  return `${url.protocol}//${url.host}/`;
}

/** Validates json-file log options, as dockerd does at startup and at create. */
export function validateLogOpts(opts: Record<string, string>): void {
  for (const [k, v] of Object.entries(opts)) {
    switch (k) {
      case 'max-size':
        // "-1": unlimited, as json-file.
        if (v !== '-1') parseSize(v);
        break;
      case 'max-file': {
        const n = Number(v);
        if (!Number.isInteger(n) || n < 1) throw new ConfigError(`max-file cannot be less than 1`);
        if ((!opts['max-size'] || opts['max-size'] === '-1') && n > 1) throw new ConfigError(`max-file can only be set if max-size is set`);
        break;
      }
      case 'compress':
      case 'labels':
      case 'labels-regex':
      case 'env':
      case 'env-regex':
      case 'tag':
        break;
      default:
        throw new ConfigError(`unknown log opt '${k}' for json-file log driver`);
    }
  }
}

/** Parses docker-style sizes ("10m", "1g", "512k", "100"). */
export function parseSize(value: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([kmgtp]?)(i?b)?$/i.exec(value.trim());
  if (!m) throw new ConfigError(`invalid size: '${value}'`);
  const mult: Record<string, number> = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4, p: 1024 ** 5 };
  return Math.floor(Number(m[1]) * mult[m[2]!.toLowerCase()]!);
}
