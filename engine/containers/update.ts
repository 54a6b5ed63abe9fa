/**
 * `docker update`: new resource limits and restart policy, applied to a running container's
 * cgroups through the runtime and kept in its HostConfig; returns dockerd's warnings.
 */
import fs from 'node:fs';
import { InvalidParameterError } from '../errdefs.js';
import type { HostConfig } from '../api/types.js';
import type { Container } from './container.js';
import { validateResources } from './create-request.js';
import type { Lifecycle } from './lifecycle.js';

/** What `POST /containers/{id}/update` may change. */
export type UpdateConfig = Partial<Pick<HostConfig, Exclude<(typeof resourceFields)[number], 'KernelMemory'> | 'RestartPolicy'>> & { KernelMemory?: number };

const resourceFields = ['CpuShares', 'Memory', 'NanoCpus', 'CpuPeriod', 'CpuQuota', 'CpusetCpus', 'CpusetMems', 'MemoryReservation', 'MemorySwap', 'PidsLimit', 'BlkioWeight', 'KernelMemory'] as const;

/** The OCI LinuxResources that take a running container from `hc` to `next`. */
export function resourceChanges(hc: HostConfig, next: HostConfig): Record<string, unknown> {
  const res: Record<string, unknown> = {};
  if (next.Memory !== hc.Memory || next.MemorySwap !== hc.MemorySwap || next.MemoryReservation !== hc.MemoryReservation) {
    res.memory = { limit: next.Memory > 0 ? next.Memory : -1, swap: next.MemorySwap !== 0 ? next.MemorySwap : next.Memory > 0 ? next.Memory * 2 : -1, reservation: next.MemoryReservation || undefined };
  }
  const cpu: Record<string, unknown> = {};
  if (next.CpuShares !== hc.CpuShares) cpu.shares = next.CpuShares;
  if (next.NanoCpus !== hc.NanoCpus) {
    cpu.period = 100000;
    cpu.quota = next.NanoCpus > 0 ? Math.round((next.NanoCpus * 100000) / 1e9) : -1;
  }
  if (next.CpuPeriod !== hc.CpuPeriod && next.CpuPeriod > 0) cpu.period = next.CpuPeriod;
  if (next.CpuQuota !== hc.CpuQuota) cpu.quota = next.CpuQuota === 0 ? -1 : next.CpuQuota;
  if (next.CpusetCpus !== hc.CpusetCpus) cpu.cpus = next.CpusetCpus;
  if (next.CpusetMems !== hc.CpusetMems) cpu.mems = next.CpusetMems;
  if (Object.keys(cpu).length > 0) res.cpu = cpu;
  if (next.PidsLimit !== hc.PidsLimit) res.pids = { limit: next.PidsLimit && next.PidsLimit > 0 ? next.PidsLimit : -1 };
  if (next.BlkioWeight !== hc.BlkioWeight) res.blockIO = { weight: next.BlkioWeight };
  return res;
}

/** Whether the host's memory cgroup can limit swap (cgroup v1 memsw, or cgroup v2). */
function swapLimitSupported(): boolean {
  return fs.existsSync('/sys/fs/cgroup/memory/memory.memsw.limit_in_bytes') || fs.existsSync('/sys/fs/cgroup/cgroup.controllers');
}

/** dockerd's warnings for an update (verifyPlatformContainerResources). */
export function updateWarnings(body: UpdateConfig, next: HostConfig, swapSupported = swapLimitSupported()): string[] {
  const warnings: string[] = [];
  if (body.KernelMemory) warnings.push('Specifying a kernel memory limit is deprecated and will be removed in a future release.');
  if (next.Memory > 0 && next.MemorySwap !== -1 && !swapSupported) warnings.push('Your kernel does not support swap limit capabilities or the cgroup is not mounted. Memory limited without swap.');
  return warnings;
}

export async function updateContainer(lc: Lifecycle, c: Container, body: UpdateConfig): Promise<string[]> {
  const hc = c.record.hostConfig;
  const next: HostConfig = { ...hc };
  for (const f of resourceFields) {
    const v = (body as Record<string, unknown>)[f];
    if (v !== undefined && v !== null) (next as unknown as Record<string, unknown>)[f] = v;
  }
  if (body.RestartPolicy && body.RestartPolicy.Name !== undefined) {
    if (hc.AutoRemove && body.RestartPolicy.Name !== 'no' && body.RestartPolicy.Name !== '') {
      throw new InvalidParameterError('Restart policy cannot be updated because AutoRemove is enabled for the container');
    }
    next.RestartPolicy = { Name: body.RestartPolicy.Name || 'no', MaximumRetryCount: body.RestartPolicy.MaximumRetryCount ?? 0 };
  }
  validateResources(next);
  if (next.Memory > 0 && hc.Memory === 0 && next.MemorySwap === 0 && c.isRunning()) next.MemorySwap = next.Memory * 2;
  if (hc.Memory > 0 && next.Memory > 0 && next.Memory > (next.MemorySwap > 0 ? next.MemorySwap : Infinity)) {
    throw new InvalidParameterError('Memory limit should be smaller than already set memoryswap limit, update the memoryswap at the same time');
  }
  const warnings = updateWarnings(body, next);
  await c.lock.run(async () => {
    if (c.isRunning()) {
      const res = resourceChanges(hc, next);
      if (Object.keys(res).length > 0) await lc.d.runtime.update(c, res);
    }
    c.record.hostConfig = next;
    await lc.save(c);
  });
  lc.event(c, 'update');
  return warnings;
}
