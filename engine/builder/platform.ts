/**
 * Platform specifiers (`--platform`, `FROM --platform`) as containerd's
 * platforms.Parse reads them: `os[/arch[/variant]]` or a bare architecture,
 * with the usual aliases normalized (x86_64 → amd64, aarch64 → arm64, ...).
 */
import { hostPlatform, type Platform } from '../images/oci.js';

const arches: Record<string, [string, string?]> = {
  amd64: ['amd64'],
  x86_64: ['amd64'],
  'x86-64': ['amd64'],
  i386: ['386'],
  '386': ['386'],
  aarch64: ['arm64'],
  arm64: ['arm64'],
  armhf: ['arm', 'v7'],
  armel: ['arm', 'v6'],
  arm: ['arm'],
  ppc64le: ['ppc64le'],
  s390x: ['s390x'],
  riscv64: ['riscv64'],
  mips64le: ['mips64le'],
  loong64: ['loong64'],
};
const oses = new Set(['linux', 'windows', 'darwin', 'freebsd', 'netbsd', 'openbsd', 'solaris', 'illumos', 'aix', 'plan9', 'android', 'ios', 'js', 'wasip1']);

export class PlatformError extends Error {}

export function parsePlatform(spec: string): Platform {
  const s = spec.trim().toLowerCase();
  const bad = () => new PlatformError(`${JSON.stringify(spec)}: unknown operating system or architecture: invalid argument`);
  if (s === '' || !/^[a-z0-9_./-]+$/.test(s)) throw new PlatformError(`${JSON.stringify(spec)}: invalid platform specifier`);
  const parts = s.split('/');
  const host = hostPlatform();
  const withArch = (os: string, archSpec: string, variant?: string): Platform => {
    const a = arches[archSpec];
    if (!a) throw bad();
    const v = variant ?? a[1];
    const p: Platform = { os, architecture: a[0] };
    if (a[0] === 'arm64' && (v === undefined || v === 'v8' || v === '8')) return p;
    if (v) p.variant = v.startsWith('v') ? v : `v${v}`;
    return p;
  };
  if (parts.length === 1) {
    if (oses.has(s)) return s === host.os ? { ...host } : { os: s, architecture: host.architecture };
    return withArch(host.os, s);
  }
  if (parts.length === 2 || parts.length === 3) {
    if (!oses.has(parts[0]!)) throw bad();
    return withArch(parts[0]!, parts[1]!, parts[2]);
  }
  throw new PlatformError(`${JSON.stringify(spec)}: cannot parse platform specifier`);
}

export function formatPlatform(p: Platform): string {
  return [p.os, p.architecture, p.variant].filter(Boolean).join('/');
}
