/**
 * Parsing and validation of a container's mounts as dockerd does it, with
 * its messages: `-v` (HostConfig.Binds), `--mount` (HostConfig.Mounts),
 * anonymous volumes (Config.Volumes: `-v /path` and image VOLUME) and
 * `--volumes-from`. Pure: nothing here creates volumes or touches the host.
 */
import fs from 'node:fs';
import path from 'node:path';
import { InvalidParameterError } from '../errdefs.js';
import type { MountPoint, MountSpec } from '../api/types.js';

const RW_MODES = ['rw', 'ro'];
const LABEL_MODES = ['z', 'Z'];
const PROPAGATION = ['private', 'rprivate', 'slave', 'rslave', 'shared', 'rshared'];
const COPY_MODES = ['nocopy'];
const CONSISTENCY = ['consistent', 'cached', 'delegated'];

/** A mount as parsed, before volumes exist. */
export interface PlannedMount {
  type: 'bind' | 'volume' | 'tmpfs';
  /** Volume name; '' for an anonymous volume. */
  name: string;
  source: string;
  destination: string;
  mode: string;
  rw: boolean;
  propagation: string;
  /** Options for a volume created by --mount (labels, driver options). */
  volumeLabels?: Record<string, string>;
  volumeDriverOpts?: Record<string, string>;
  driver?: string;
  /** Binds (-v) create a missing host directory; --mount refuses it. */
  createSource: boolean;
}

export function validMountMode(mode: string): boolean {
  if (mode === '') return true;
  const counts = { rw: 0, label: 0, prop: 0, copy: 0, cons: 0 };
  for (const o of mode.split(',')) {
    if (RW_MODES.includes(o)) counts.rw++;
    else if (LABEL_MODES.includes(o)) counts.label++;
    else if (PROPAGATION.includes(o)) counts.prop++;
    else if (COPY_MODES.includes(o)) counts.copy++;
    else if (CONSISTENCY.includes(o)) counts.cons++;
    else return false;
  }
  return Object.values(counts).every((n) => n <= 1);
}

function readWrite(mode: string): boolean {
  return !mode.split(',').includes('ro');
}

function propagationOf(mode: string): string | undefined {
  return mode.split(',').find((o) => PROPAGATION.includes(o));
}

class MountConfigError extends InvalidParameterError {}

function mountConfigError(type: string, msg: string): MountConfigError {
  return new MountConfigError(`invalid mount config for type "${type}": ${msg}`);
}

function cleanPath(p: string): string {
  return path.posix.normalize(p).replace(/(.)\/$/, '$1');
}

function validateTarget(type: string, target: string): void {
  if (target === '') throw mountConfigError(type, 'field Target must not be empty');
  if (cleanPath(target) === '/') throw mountConfigError(type, "invalid specification: destination can't be '/'");
  if (!target.startsWith('/')) throw mountConfigError(type, `invalid mount path: '${target}' mount path must be absolute`);
}

/** One `-v` entry (moby's linuxParser.ParseMountRaw). */
export function parseBind(raw: string): PlannedMount {
  const invalid = () => new InvalidParameterError(`invalid volume specification: '${raw}'`);
  const arr = splitN(raw, ':', 4);
  if (arr[0] === '') throw invalid();
  let source = '';
  let target: string;
  let mode = '';
  switch (arr.length) {
    case 1:
      target = arr[0]!;
      break;
    case 2:
      if (validMountMode(arr[1]!)) throw invalid();
      source = arr[0]!;
      target = arr[1]!;
      break;
    case 3:
      source = arr[0]!;
      target = arr[1]!;
      mode = arr[2]!;
      break;
    default:
      throw invalid();
  }
  if (!validMountMode(mode)) throw new InvalidParameterError(`invalid mode: ${mode}`);
  const type = source.startsWith('/') ? 'bind' : 'volume';
  try {
    validateTarget(type, target);
  } catch (err) {
    throw new InvalidParameterError(`invalid volume specification: '${raw}': ${(err as Error).message}`);
  }
  const isBind = type === 'bind';
  return {
    type,
    name: isBind ? '' : source,
    source: isBind ? cleanPath(source) : '',
    destination: cleanPath(target),
    mode,
    rw: readWrite(mode),
    propagation: isBind ? (propagationOf(mode) ?? 'rprivate') : '',
    createSource: true,
  };
}

/** One `--mount` entry (moby's ParseMountSpec, bind sources must exist). */
export function parseMountSpec(m: MountSpec): PlannedMount {
  const type = m.Type;
  const extra = (f: string) => mountConfigError(type, `field ${f} must not be specified`);
  if (type !== 'bind' && m.BindOptions) throw extra('BindOptions');
  if (type !== 'volume' && m.VolumeOptions) throw extra('VolumeOptions');
  if (type !== 'tmpfs' && m.TmpfsOptions) throw extra('TmpfsOptions');
  validateTarget(type, m.Target ?? '');
  const destination = cleanPath(m.Target);
  const rw = !m.ReadOnly;
  switch (type) {
    case 'bind': {
      const src = m.Source ?? '';
      if (src === '') throw mountConfigError(type, 'field Source must not be empty');
      const prop = m.BindOptions?.Propagation;
      if (prop && !PROPAGATION.includes(prop)) throw mountConfigError(type, `invalid propagation mode: ${prop}`);
      if (!src.startsWith('/')) throw mountConfigError(type, `invalid mount path: '${src}' mount path must be absolute`);
      if (!fs.existsSync(src) && !m.BindOptions?.CreateMountpoint) throw mountConfigError(type, `bind source path does not exist: ${src}`);
      return { type, name: '', source: cleanPath(src), destination, mode: '', rw, propagation: prop || 'rprivate', createSource: !!m.BindOptions?.CreateMountpoint };
    }
    case 'volume': {
      const sub = m.VolumeOptions?.Subpath;
      if (sub) {
        if (!m.Source) throw mountConfigError(type, 'must not set Subpath when using anonymous volumes');
        if (sub.startsWith('/') || cleanPath(sub).split('/').includes('..')) throw mountConfigError(type, 'subpath must be a relative path within the volume');
      }
      const driver = m.VolumeOptions?.DriverConfig?.Name;
      return {
        type,
        name: m.Source ?? '',
        source: '',
        destination,
        mode: '',
        rw,
        propagation: '',
        ...(m.VolumeOptions?.Labels ? { volumeLabels: m.VolumeOptions.Labels } : {}),
        ...(m.VolumeOptions?.DriverConfig?.Options ? { volumeDriverOpts: m.VolumeOptions.DriverConfig.Options } : {}),
        ...(driver ? { driver } : {}),
        createSource: false,
      };
    }
    case 'tmpfs':
      if (m.Source) throw extra('Source');
      tmpfsOptions(m);
      return { type, name: '', source: '', destination, mode: '', rw, propagation: '', createSource: false };
    default:
      throw mountConfigError(type, 'mount type unknown');
  }
}

/** mount(8) options of a --mount type=tmpfs (moby's ConvertTmpfsOptions, plus the safe defaults). */
export function tmpfsOptions(m: MountSpec): string[] {
  const out = ['nosuid', 'nodev'];
  const o = m.TmpfsOptions;
  let exec = false;
  for (const opt of o?.Options ?? []) {
    if (opt.length < 1 || opt.length > 2) throw mountConfigError('tmpfs', 'invalid option array length');
    if (opt[0] !== 'exec' && opt[0] !== 'noexec') throw mountConfigError('tmpfs', `invalid option: ${opt[0]}`);
    exec = opt[0] === 'exec';
  }
  out.push(exec ? 'exec' : 'noexec');
  if (m.ReadOnly) out.push('ro');
  if (o?.Mode) out.push(`mode=${o.Mode.toString(8)}`);
  if (o?.SizeBytes) {
    if (o.SizeBytes < 0) throw mountConfigError('tmpfs', 'invalid tmpfs size');
    out.push(`size=${o.SizeBytes}`);
  }
  return out;
}

/** "container[:ro|rw]" of --volumes-from. */
export function parseVolumesFrom(spec: string): { container: string; mode: string } {
  if (spec === '') throw new InvalidParameterError('volumes-from specification cannot be an empty string');
  const i = spec.indexOf(':');
  const container = i < 0 ? spec : spec.slice(0, i);
  const mode = i < 0 ? 'rw' : spec.slice(i + 1);
  if (mode === '') return { container, mode: 'rw' };
  if (!validMountMode(mode) || propagationOf(mode) || mode.split(',').includes('nocopy')) throw new InvalidParameterError(`invalid mode: ${mode}`);
  return { container, mode };
}

/** The MountPoint that inspect and ps show. */
export function toMountPoint(p: PlannedMount, source: string): MountPoint {
  if (p.type === 'volume') {
    return { Type: 'volume', Name: p.name, Source: source, Destination: p.destination, Driver: 'local', Mode: p.mode || 'z', RW: p.rw, Propagation: '' };
  }
  if (p.type === 'tmpfs') return { Type: 'tmpfs', Source: '', Destination: p.destination, Mode: '', RW: p.rw, Propagation: '' };
  return { Type: 'bind', Source: source, Destination: p.destination, Mode: p.mode, RW: p.rw, Propagation: p.propagation };
}

/** Go's strings.SplitN. */
function splitN(s: string, sep: string, n: number): string[] {
  const out: string[] = [];
  let rest = s;
  while (out.length < n - 1) {
    const i = rest.indexOf(sep);
    if (i < 0) break;
    out.push(rest.slice(0, i));
    rest = rest.slice(i + 1);
  }
  out.push(rest);
  return out;
}
