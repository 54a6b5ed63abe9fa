/**
 * Legacy container links (`--link name:alias` on the default bridge): the
 * parsed link, and the environment variables Docker injects for it
 * (ALIAS_PORT, ALIAS_PORT_80_TCP{,_ADDR,_PORT,_PROTO}, ranges, ALIAS_NAME,
 * ALIAS_ENV_x).
 */
import { InvalidParameterError } from '../errdefs.js';

export interface LinkSpec {
  /** Container name or ID as given. */
  target: string;
  alias: string;
}

/** Parses "name:alias", "name", or the stored "/name:/parent/alias" form. */
export function parseLink(spec: string): LinkSpec {
  const parts = spec.split(':');
  if (parts.length > 2 || parts[0] === '') throw new InvalidParameterError(`invalid link format: ${spec}`);
  const target = parts[0]!.replace(/^\//, '');
  let alias = parts[1] ?? target;
  if (alias.includes('/')) alias = alias.slice(alias.lastIndexOf('/') + 1);
  if (alias === '') throw new InvalidParameterError(`invalid link format: ${spec}`);
  return { target, alias };
}

interface Port {
  num: number;
  proto: string;
}

function sortPorts(ports: Port[]): Port[] {
  return [...ports].sort((a, b) => {
    if (a.proto === b.proto) return a.num - b.num;
    if (a.proto === 'tcp') return -1;
    if (b.proto === 'tcp') return 1;
    return a.proto < b.proto ? -1 : 1;
  });
}

/** moby's links.ToEnv: `name` is the full link name ("/parent/alias"). */
export function linkEnv(name: string, childIp: string, childEnv: readonly string[], exposed: Record<string, object> | undefined): string[] {
  const base = name.slice(name.lastIndexOf('/') + 1);
  const alias = base.toUpperCase().replace(/-/g, '_');
  const ports = sortPorts(
    Object.keys(exposed ?? {}).map((k) => {
      const [n = '0', proto = 'tcp'] = k.split('/');
      return { num: Number(n), proto };
    }),
  );
  const env: string[] = [];
  let start: Port | undefined;
  let end: Port | undefined;
  ports.forEach((p, i) => {
    if (i === 0) {
      start = end = p;
      env.push(`${alias}_PORT=${p.proto}://${childIp}:${p.num}`);
    }
    const prefix = `${alias}_PORT_${p.num}_${p.proto.toUpperCase()}`;
    env.push(`${prefix}=${p.proto}://${childIp}:${p.num}`, `${prefix}_ADDR=${childIp}`, `${prefix}_PORT=${p.num}`, `${prefix}_PROTO=${p.proto}`);
    if (end && p.num === end.num + 1 && p.proto === end.proto) {
      end = p;
      if (i < ports.length - 1) return;
    }
    if (start && end && end !== start) {
      const rp = `${alias}_PORT_${start.num}_${start.proto.toUpperCase()}`;
      env.push(`${rp}_START=${start.proto}://${childIp}:${start.num}`, `${rp}_PORT_START=${start.num}`, `${rp}_END=${end.proto}://${childIp}:${end.num}`, `${rp}_PORT_END=${end.num}`);
    }
    start = end = p;
  });
  env.push(`${alias}_NAME=${name}`);
  for (const v of childEnv) {
    const eq = v.indexOf('=');
    if (eq < 0) continue;
    const k = v.slice(0, eq);
    if (k === 'HOME' || k === 'PATH') continue;
    env.push(`${alias}_ENV_${k}=${v.slice(eq + 1)}`);
  }
  return env;
}
