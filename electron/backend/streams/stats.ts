/**
 * Live resource usage from the engine's stats stream (one sample a second per
 * container, pushed by the engine; nothing is polled), reduced to the numbers
 * the charts and the containers table show, computed the way `docker stats`
 * computes them.
 */
import type { Readable } from 'node:stream';
import type Docker from 'dockerode';
import type { StatsSample } from '../../contract/models.js';
import type { StreamParamsOf } from '../../contract/api.js';
import type { StreamSink } from '../rpc/session.js';
import { readJsonLines } from './json-lines.js';

interface RawStats {
  read?: string;
  cpu_stats?: { cpu_usage?: { total_usage?: number; percpu_usage?: number[] }; system_cpu_usage?: number; online_cpus?: number };
  precpu_stats?: { cpu_usage?: { total_usage?: number }; system_cpu_usage?: number };
  memory_stats?: { usage?: number; limit?: number; stats?: Record<string, number> };
  networks?: Record<string, { rx_bytes?: number; tx_bytes?: number }>;
  blkio_stats?: { io_service_bytes_recursive?: Array<{ op?: string; value?: number }> | null };
  pids_stats?: { current?: number };
}

export function sampleFromStats(s: RawStats, now = Date.now()): StatsSample {
  const cpu = s.cpu_stats ?? {};
  const pre = s.precpu_stats ?? {};
  const online = cpu.online_cpus || cpu.cpu_usage?.percpu_usage?.length || 1;
  const cpuDelta = (cpu.cpu_usage?.total_usage ?? 0) - (pre.cpu_usage?.total_usage ?? 0);
  const sysDelta = (cpu.system_cpu_usage ?? 0) - (pre.system_cpu_usage ?? 0);
  const cpuPercent = sysDelta > 0 && cpuDelta > 0 ? (cpuDelta / sysDelta) * online * 100 : 0;
  const mem = s.memory_stats ?? {};
  // Like the docker CLI: page cache that can be dropped is not "used".
  const cache = mem.stats?.inactive_file ?? mem.stats?.total_inactive_file ?? 0;
  const memUsage = Math.max(0, (mem.usage ?? 0) - cache);
  let netRx = 0;
  let netTx = 0;
  for (const n of Object.values(s.networks ?? {})) {
    netRx += n.rx_bytes ?? 0;
    netTx += n.tx_bytes ?? 0;
  }
  let blkRead = 0;
  let blkWrite = 0;
  for (const e of s.blkio_stats?.io_service_bytes_recursive ?? []) {
    const op = (e.op ?? '').toLowerCase();
    if (op === 'read') blkRead += e.value ?? 0;
    else if (op === 'write') blkWrite += e.value ?? 0;
  }
  const read = s.read ? Date.parse(s.read) : NaN;
  return {
    time: Number.isFinite(read) && read > 0 ? read : now,
    cpuPercent: Number.isFinite(cpuPercent) ? cpuPercent : 0,
    onlineCpus: online,
    memUsage,
    memLimit: mem.limit ?? 0,
    netRx,
    netTx,
    blkRead,
    blkWrite,
    pids: s.pids_stats?.current ?? 0,
  };
}

export async function streamStats(docker: Docker, p: StreamParamsOf<'containers.stats'>, sink: StreamSink<'containers.stats'>): Promise<void> {
  const stream = (await docker.getContainer(p.id).stats({ stream: true, abortSignal: sink.signal } as { stream: true })) as unknown as Readable;
  await readJsonLines(stream, sink.signal, (v) => sink.emit(sampleFromStats(v as RawStats)));
}

export async function streamStatsSummary(docker: Docker, p: StreamParamsOf<'containers.statsSummary'>, sink: StreamSink<'containers.statsSummary'>): Promise<void> {
  await Promise.all(
    p.ids.map(async (id) => {
      try {
        const stream = (await docker.getContainer(id).stats({ stream: true, abortSignal: sink.signal } as { stream: true })) as unknown as Readable;
        await readJsonLines(stream, sink.signal, (v) => {
          const s = sampleFromStats(v as RawStats);
          sink.emit({ id, cpuPercent: s.cpuPercent, memUsage: s.memUsage, memLimit: s.memLimit });
        });
      } catch {
        // A container that stopped or vanished just has no numbers; the others keep streaming.
      }
    }),
  );
  // Stay open until the view closes it: it reopens with a new set of ids when rows change.
  if (!sink.signal.aborted) await new Promise((resolve) => sink.signal.addEventListener('abort', resolve, { once: true }));
}
