/**
 * Looking inside containers: `top` (host ps filtered to the container's
 * processes), `stats` (cgroup v1/v2 and /proc counters in Docker's JSON),
 * `diff` (the writable layer against the image) and `export` (a tar of the
 * root filesystem).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';
import type { Writable } from 'node:stream';
import { ConflictError, SystemError } from '../errdefs.js';
import { run } from '../system/command.js';
import { findOpaqueDirs } from '../system/fsops.js';
import type { LayerStore } from '../images/layers.js';
import type { Container } from './container.js';
import type { RootfsManager } from './rootfs.js';
import type { ContainerRuntime } from './runtime.js';
import { ConfinedRoot, walkConfined } from '../storage/confined.js';

const CGROUP_ROOT = '/sys/fs/cgroup';
const cgroupV2 = fs.existsSync(path.join(CGROUP_ROOT, 'cgroup.controllers'));

function readNum(file: string): number | undefined {
  try {
    const v = fs.readFileSync(file, 'utf8').trim();
    if (v === 'max') return undefined;
    const n = Number(v);
    return Number.isFinite(n) ? n : undefined;
  } catch {
    return undefined;
  }
}

function readKv(file: string): Record<string, number> {
  const out: Record<string, number> = {};
  try {
    for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
      const [k, v] = line.trim().split(/\s+/);
      if (k && v !== undefined) out[k] = Number(v);
    }
  } catch {
    /* missing controller */
  }
  return out;
}

/** Total host CPU time in nanoseconds (/proc/stat "cpu" line, 100 ticks/s). */
function systemCpuUsage(): number {
  const line = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0]!;
  const ticks = line.trim().split(/\s+/).slice(1, 8).map(Number).reduce((a, b) => a + b, 0);
  return ticks * 1e7;
}

interface CpuStats {
  cpu_usage: { total_usage: number; percpu_usage?: number[]; usage_in_kernelmode: number; usage_in_usermode: number };
  system_cpu_usage: number;
  online_cpus: number;
  throttling_data: { periods: number; throttled_periods: number; throttled_time: number };
}

export interface StatsJson {
  name: string;
  id: string;
  read: string;
  preread: string;
  pids_stats: { current?: number; limit?: number };
  blkio_stats: {
    io_service_bytes_recursive: Array<{ major: number; minor: number; op: string; value: number }> | null;
    io_serviced_recursive: null;
    io_queue_recursive: null;
    io_service_time_recursive: null;
    io_wait_time_recursive: null;
    io_merged_recursive: null;
    io_time_recursive: null;
    sectors_recursive: null;
  };
  num_procs: number;
  storage_stats: Record<string, never>;
  cpu_stats: CpuStats;
  precpu_stats: CpuStats | { cpu_usage: { total_usage: number; usage_in_kernelmode: number; usage_in_usermode: number }; throttling_data: { periods: number; throttled_periods: number; throttled_time: number } };
  memory_stats: { usage?: number; limit?: number; stats?: Record<string, number>; max_usage?: number };
  networks?: Record<string, Record<string, number>>;
}

export class ContainerIntrospection {
  constructor(
    private readonly runtime: ContainerRuntime,
    private readonly rootfs: RootfsManager,
    private readonly layers: LayerStore,
  ) {}

  private cgroupDir(controller: string, id: string): string {
    return cgroupV2 ? path.join(CGROUP_ROOT, 'berth', id) : path.join(CGROUP_ROOT, controller, 'berth', id);
  }

  async top(c: Container, psArgs: string): Promise<{ Titles: string[]; Processes: string[][] }> {
    if (!c.isRunning()) throw new ConflictError(`container ${c.id} is not running`);
    const pids = new Set((await this.runtime.pids(c)).map(String));
    const args = psArgs.trim().split(/\s+/).filter(Boolean);
    let stdout: string;
    try {
      ({ stdout } = await run('ps', args));
    } catch (err) {
      throw new SystemError(`ps: ${(err as Error).message}`);
    }
    const lines = stdout.split('\n').filter((l) => l.trim() !== '');
    const header = lines[0] ?? '';
    const titles = header.trim().split(/\s+/);
    const pidIndex = titles.indexOf('PID');
    if (pidIndex < 0) throw new SystemError(`Couldn't find PID field in ps output`);
    const processes: string[][] = [];
    for (const line of lines.slice(1)) {
      const fields = line.trim().split(/\s+/);
      if (!pids.has(fields[pidIndex]!)) continue;
      // The last column (the command) keeps its spaces.
      const head = fields.slice(0, titles.length - 1);
      let rest = line.trim();
      for (const f of head) rest = rest.slice(rest.indexOf(f) + f.length).trimStart();
      processes.push([...head, rest]);
    }
    return { Titles: titles, Processes: processes };
  }

  private cpuStats(id: string): CpuStats {
    const online = os.cpus().length;
    if (cgroupV2) {
      const s = readKv(path.join(this.cgroupDir('', id), 'cpu.stat'));
      return {
        cpu_usage: { total_usage: (s.usage_usec ?? 0) * 1000, usage_in_kernelmode: (s.system_usec ?? 0) * 1000, usage_in_usermode: (s.user_usec ?? 0) * 1000 },
        system_cpu_usage: systemCpuUsage(),
        online_cpus: online,
        throttling_data: { periods: s.nr_periods ?? 0, throttled_periods: s.nr_throttled ?? 0, throttled_time: (s.throttled_usec ?? 0) * 1000 },
      };
    }
    const dir = this.cgroupDir('cpuacct', id);
    const total = readNum(path.join(dir, 'cpuacct.usage')) ?? 0;
    let percpu: number[] | undefined;
    try {
      percpu = fs.readFileSync(path.join(dir, 'cpuacct.usage_percpu'), 'utf8').trim().split(/\s+/).map(Number);
    } catch {
      percpu = undefined;
    }
    const st = readKv(path.join(dir, 'cpuacct.stat'));
    const throttle = readKv(path.join(this.cgroupDir('cpu', id), 'cpu.stat'));
    return {
      cpu_usage: { total_usage: total, ...(percpu ? { percpu_usage: percpu } : {}), usage_in_kernelmode: (st.system ?? 0) * 1e7, usage_in_usermode: (st.user ?? 0) * 1e7 },
      system_cpu_usage: systemCpuUsage(),
      online_cpus: online,
      throttling_data: { periods: throttle.nr_periods ?? 0, throttled_periods: throttle.nr_throttled ?? 0, throttled_time: throttle.throttled_time ?? 0 },
    };
  }

  private memoryStats(id: string): StatsJson['memory_stats'] {
    if (cgroupV2) {
      const dir = this.cgroupDir('', id);
      const stats = readKv(path.join(dir, 'memory.stat'));
      const limit = readNum(path.join(dir, 'memory.max')) ?? os.totalmem();
      return { usage: readNum(path.join(dir, 'memory.current')) ?? 0, limit, stats };
    }
    const dir = this.cgroupDir('memory', id);
    const stats = readKv(path.join(dir, 'memory.stat'));
    let limit = readNum(path.join(dir, 'memory.limit_in_bytes')) ?? os.totalmem();
    if (limit > os.totalmem()) limit = os.totalmem();
    return {
      usage: readNum(path.join(dir, 'memory.usage_in_bytes')) ?? 0,
      max_usage: readNum(path.join(dir, 'memory.max_usage_in_bytes')) ?? 0,
      limit,
      stats,
    };
  }

  private blkioStats(id: string): StatsJson['blkio_stats']['io_service_bytes_recursive'] {
    const out: Array<{ major: number; minor: number; op: string; value: number }> = [];
    try {
      if (cgroupV2) {
        for (const line of fs.readFileSync(path.join(this.cgroupDir('', id), 'io.stat'), 'utf8').split('\n')) {
          const [dev, ...kvs] = line.trim().split(/\s+/);
          if (!dev) continue;
          const [major, minor] = dev.split(':').map(Number);
          const kv = Object.fromEntries(kvs.map((x) => x.split('=')).map(([k, v]) => [k, Number(v)]));
          out.push({ major: major!, minor: minor!, op: 'read', value: kv.rbytes ?? 0 }, { major: major!, minor: minor!, op: 'write', value: kv.wbytes ?? 0 });
        }
      } else {
        for (const line of fs.readFileSync(path.join(this.cgroupDir('blkio', id), 'blkio.throttle.io_service_bytes_recursive'), 'utf8').split('\n')) {
          const parts = line.trim().split(/\s+/);
          if (parts.length !== 3) continue;
          const [major, minor] = parts[0]!.split(':').map(Number);
          out.push({ major: major!, minor: minor!, op: parts[1]!.toLowerCase(), value: Number(parts[2]) });
        }
      }
    } catch {
      return null;
    }
    return out;
  }

  private networkStats(pid: number): Record<string, Record<string, number>> | undefined {
    if (pid <= 0) return undefined;
    try {
      const out: Record<string, Record<string, number>> = {};
      for (const line of fs.readFileSync(`/proc/${pid}/net/dev`, 'utf8').split('\n').slice(2)) {
        const [name, rest] = line.split(':');
        if (!rest) continue;
        const iface = name!.trim();
        if (iface === 'lo') continue;
        const v = rest.trim().split(/\s+/).map(Number);
        out[iface] = { rx_bytes: v[0]!, rx_packets: v[1]!, rx_errors: v[2]!, rx_dropped: v[3]!, tx_bytes: v[8]!, tx_packets: v[9]!, tx_errors: v[10]!, tx_dropped: v[11]! };
      }
      return out;
    } catch {
      return undefined;
    }
  }

  /** One stats sample; `prev` fills the precpu fields the CLI uses to compute CPU %. */
  async stats(c: Container, prev?: StatsJson): Promise<StatsJson> {
    const zeroCpu = { cpu_usage: { total_usage: 0, usage_in_kernelmode: 0, usage_in_usermode: 0 }, throttling_data: { periods: 0, throttled_periods: 0, throttled_time: 0 } };
    const running = c.isRunning();
    const id = c.id;
    const base: StatsJson = {
      name: `/${c.name}`,
      id,
      read: new Date().toISOString(),
      preread: prev?.read ?? '0001-01-01T00:00:00Z',
      pids_stats: {},
      blkio_stats: { io_service_bytes_recursive: null, io_serviced_recursive: null, io_queue_recursive: null, io_service_time_recursive: null, io_wait_time_recursive: null, io_merged_recursive: null, io_time_recursive: null, sectors_recursive: null },
      num_procs: 0,
      storage_stats: {},
      cpu_stats: { ...zeroCpu, system_cpu_usage: 0, online_cpus: 0 },
      precpu_stats: prev?.cpu_stats ?? zeroCpu,
      memory_stats: {},
    };
    if (!running) {
      base.read = '0001-01-01T00:00:00Z';
      return base;
    }
    base.cpu_stats = this.cpuStats(id);
    base.memory_stats = this.memoryStats(id);
    base.blkio_stats.io_service_bytes_recursive = this.blkioStats(id);
    const pidsDir = cgroupV2 ? this.cgroupDir('', id) : this.cgroupDir('pids', id);
    const current = readNum(path.join(pidsDir, 'pids.current'));
    const limit = readNum(path.join(pidsDir, 'pids.max'));
    base.pids_stats = { ...(current !== undefined ? { current } : {}), ...(limit !== undefined ? { limit } : {}) };
    const nets = this.networkStats(c.record.state.pid);
    if (nets) base.networks = nets;
    return base;
  }

  /**
   * `docker stats`: one sample (stream off: two a second apart unless one-shot, so the CLI can
   * compute CPU %), or one a second until `signal` aborts or the container is gone.
   */
  async streamStats(c: Container, o: { stream: boolean; oneShot: boolean; exists: () => boolean }, emit: (s: StatsJson) => void, signal: AbortSignal): Promise<void> {
    const pause = () => new Promise((r) => setTimeout(r, 1000));
    let prev = await this.stats(c);
    if (!o.stream) {
      if (!o.oneShot && c.isRunning()) {
        await pause();
        prev = await this.stats(c, prev);
      }
      emit(prev);
      return;
    }
    emit(prev);
    while (!signal.aborted) {
      await pause();
      if (signal.aborted) break;
      const next = await this.stats(c, prev);
      emit(next);
      prev = next;
      if (!c.isRunning() && !o.exists()) break;
    }
  }

  /** Kinds: 0 modified, 1 added, 2 deleted (moby's archive.ChangeType). */
  async changes(c: Container): Promise<Array<{ Path: string; Kind: 0 | 1 | 2 }> | null> {
    const upper = this.rootfs.upperDir(c.id);
    const top = c.record.topLayer ?? null;
    const lowers = top ? this.layers.chain(top).reverse().map((l) => this.layers.diffPath(l.chainID)) : [];
    const opaque = new Set(await findOpaqueDirs(upper));
    // The upper dir is the running container's to change while we walk it, and the layers are the
    // image's: both are read through storage/confined.ts, never following a link out.
    const below = lowers.flatMap((l) => {
      try {
        return [ConfinedRoot.open(l)];
      } catch {
        return [];
      }
    });
    const existsBelow = (rel: string) => below.some((l) => l.lstat(rel.split('/').filter(Boolean)) !== undefined);
    const out: Array<{ Path: string; Kind: 0 | 1 | 2 }> = [];
    try {
      await walkConfined(upper, (e) => {
        const r = `/${e.rel}`;
        if (e.stat.isCharacterDevice() && e.stat.rdev === 0) {
          out.push({ Path: r, Kind: 2 });
          return false;
        }
        // An opaque directory replaced whatever was below it: it counts as modified, its entries as added.
        out.push({ Path: r, Kind: existsBelow(r) || opaque.has(path.join(upper, e.rel)) ? 0 : 1 });
        return true;
      });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    } finally {
      for (const l of below) l.close();
    }
    return out.length > 0 ? out : null;
  }

  /**
   * Streams a tar of the container's filesystem (mounting it for the duration if stopped) to
   * the output `open` returns once the tar can begin; a failure after that tears the output.
   */
  async export(c: Container, open: () => Writable): Promise<void> {
    const wasMounted = this.rootfs.isMounted(c.id);
    const root = await this.rootfs.mount(c.id, c.record.topLayer ?? null);
    try {
      const res = open();
      const tar = spawn('tar', ['--numeric-owner', '--xattrs', '--xattrs-include=security.capability', '-C', root, '-cf', '-', '.'], { stdio: ['ignore', 'pipe', 'pipe'] });
      let stderr = '';
      tar.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      tar.stdout.pipe(res);
      res.once('close', () => tar.kill());
      const code = await new Promise<number | null>((resolve) => tar.once('close', resolve));
      if (code !== 0 && code !== 1 && !res.writableEnded) res.destroy(new Error(stderr));
    } finally {
      if (!wasMounted && !c.isRunning()) await this.rootfs.unmount(c.id).catch(() => undefined);
    }
  }
}
