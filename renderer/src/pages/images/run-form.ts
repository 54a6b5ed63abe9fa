/**
 * The Run dialog's form as data: to the contract's RunSpec (with the errors
 * a user can act on), from an image's EXPOSE, and as the equivalent
 * `docker run` command line (for "Copy as docker run").
 */
import type { RunSpec } from '../../../../electron/contract/models.js';
import { splitCommand } from '../../lib/format.js';

export interface PortRow {
  host: string;
  container: string;
  random: boolean;
  protocol: 'tcp' | 'udp';
  /** Host address to bind ("127.0.0.1"); empty for every address. */
  hostIp?: string;
}
export interface VolumeRow {
  source: string;
  target: string;
  readOnly: boolean;
}
export interface EnvRow {
  key: string;
  value: string;
}

export interface RunForm {
  image: string;
  name: string;
  ports: PortRow[];
  volumes: VolumeRow[];
  env: EnvRow[];
  command: string;
  restart: 'no' | 'always' | 'unless-stopped' | 'on-failure';
  interactive: boolean;
  autoRemove: boolean;
  /** --network; empty for the default bridge. */
  network?: string;
  /** --memory as typed ("512m", "1g"). */
  memory?: string;
  /** --cpus as typed ("1.5"). */
  cpus?: string;
}

export const emptyForm = (image: string): RunForm => ({
  image,
  name: '',
  ports: [{ host: '', container: '', random: false, protocol: 'tcp' }],
  volumes: [],
  env: [],
  command: '',
  restart: 'no',
  interactive: false,
  autoRemove: false,
  network: '',
  memory: '',
  cpus: '',
});

/** docker's RAMInBytes: "512m", "1g", "1024k", "2GB", plain bytes. */
export function parseMemory(s: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([bkmgt]?)b?\s*$/i.exec(s);
  if (!m) throw new Error(`memory: "${s}" is not a size (use e.g. 512m or 1g)`);
  const mult = { '': 1, b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 }[m[2]!.toLowerCase() as 'k'];
  return Math.round(Number(m[1]) * mult);
}

const IPV4 = /^(25[0-5]|2[0-4]\d|1?\d?\d)(\.(25[0-5]|2[0-4]\d|1?\d?\d)){3}$/;

/** Turns the form into the contract's RunSpec; throws with a field-specific message on bad input. */
export function formToSpec(f: RunForm): RunSpec {
  const ports = f.ports
    .filter((p) => p.container.trim() || p.host.trim())
    .map((p, i) => {
      const containerPort = Number(p.container);
      if (!Number.isInteger(containerPort) || containerPort < 1 || containerPort > 65535) throw new Error(`port ${i + 1}: the container port must be a number from 1 to 65535`);
      const hostIp = p.hostIp?.trim();
      if (hostIp && !IPV4.test(hostIp) && !/^[0-9a-f:]+$/i.test(hostIp)) throw new Error(`port ${i + 1}: "${hostIp}" is not an IP address (leave it empty for every address)`);
      const ip = hostIp ? { hostIp } : {};
      if (p.random || !p.host.trim()) return { containerPort, protocol: p.protocol, ...ip };
      const hostPort = Number(p.host);
      if (!Number.isInteger(hostPort) || hostPort < 1 || hostPort > 65535) throw new Error(`port ${i + 1}: the host port must be a number from 1 to 65535 (or tick "random")`);
      return { containerPort, hostPort, protocol: p.protocol, ...ip };
    });
  const volumes = f.volumes
    .filter((v) => v.source.trim() || v.target.trim())
    .map((v, i) => {
      if (!v.source.trim()) throw new Error(`volume ${i + 1}: give a volume name or a host folder`);
      if (!v.target.startsWith('/')) throw new Error(`volume ${i + 1}: the container path must be absolute`);
      return { source: v.source.trim(), target: v.target.trim(), readOnly: v.readOnly };
    });
  const env = f.env.filter((e) => e.key.trim()).map((e) => ({ key: e.key.trim(), value: e.value }));
  const spec: RunSpec = { image: f.image.trim(), ports, volumes, env, cmd: splitCommand(f.command), restart: f.restart, interactive: f.interactive, autoRemove: f.autoRemove };
  if (f.name.trim()) spec.name = f.name.trim();
  if (f.network?.trim()) spec.network = f.network.trim();
  if (f.memory?.trim()) spec.memory = parseMemory(f.memory);
  if (f.cpus?.trim()) {
    const cpus = Number(f.cpus);
    if (!Number.isFinite(cpus) || cpus <= 0) throw new Error(`CPUs: "${f.cpus}" is not a positive number (e.g. 0.5 or 2)`);
    spec.cpus = cpus;
  }
  return spec;
}

/** Port rows for an image's EXPOSE ("80/tcp", "53/udp"), host port random. */
export function portsFromExpose(exposed: Record<string, unknown> | null | undefined): PortRow[] {
  return Object.keys(exposed ?? {})
    .map((k) => {
      const [port, proto] = k.split('/');
      return { host: '', container: port ?? '', random: true, protocol: proto === 'udp' ? ('udp' as const) : ('tcp' as const) };
    })
    .filter((p) => /^\d+$/.test(p.container))
    .sort((a, b) => Number(a.container) - Number(b.container));
}

/** POSIX shell quoting: bare when safe, else single quotes. */
export function shellQuote(s: string): string {
  if (s !== '' && /^[\w@%+=:,./-]+$/.test(s)) return s;
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

function formatMemory(bytes: number): string {
  for (const [u, m] of [
    ['g', 1024 ** 3],
    ['m', 1024 ** 2],
    ['k', 1024],
  ] as const)
    if (bytes % m === 0) return `${bytes / m}${u}`;
  return String(bytes);
}

/** The `docker run` that creates the same container. */
export function dockerRunCommand(spec: RunSpec): string {
  const args: string[] = ['docker', 'run', spec.interactive ? '-dit' : '-d'];
  if (spec.name) args.push('--name', spec.name);
  if (spec.autoRemove) args.push('--rm');
  for (const p of spec.ports) {
    const host = p.hostPort ? String(p.hostPort) : '';
    const ip = p.hostIp ? (p.hostIp.includes(':') ? `[${p.hostIp}]` : p.hostIp) : '';
    const proto = p.protocol && p.protocol !== 'tcp' ? `/${p.protocol}` : '';
    args.push('-p', ip ? `${ip}:${host}:${p.containerPort}${proto}` : host ? `${host}:${p.containerPort}${proto}` : `${p.containerPort}${proto}`);
  }
  for (const v of spec.volumes) args.push('-v', `${v.source}:${v.target}${v.readOnly ? ':ro' : ''}`);
  for (const e of spec.env) args.push('-e', `${e.key}=${e.value}`);
  if (spec.network) args.push('--network', spec.network);
  if (spec.memory !== undefined) args.push('--memory', formatMemory(spec.memory));
  if (spec.cpus !== undefined) args.push('--cpus', String(spec.cpus));
  if (spec.restart && spec.restart !== 'no') args.push('--restart', spec.restart);
  args.push(spec.image, ...spec.cmd);
  return args.map(shellQuote).join(' ');
}
