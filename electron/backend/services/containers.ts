/** Container operations through dockerode: bulk actions, removal, run from the Run dialog, inspect. */
import type Docker from 'dockerode';
import type { BulkResult, ContainerAction } from '../../contract/api.js';
import type { RunSpec } from '../../contract/models.js';
import { RunSpecSchema } from '../../contract/models.js';
import { toWireError } from '../rpc/session.js';

/** Runs fn for every item with limited concurrency; one failure does not stop the rest. */
export async function forEachBulk(ids: string[], fn: (id: string) => Promise<unknown>, concurrency = 8): Promise<BulkResult> {
  const results: BulkResult = ids.map((id) => ({ id }));
  let next = 0;
  const worker = async () => {
    while (next < ids.length) {
      const i = next++;
      try {
        await fn(ids[i]!);
      } catch (err) {
        results[i]!.error = toWireError(err).message;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, ids.length) }, worker));
  return results;
}

/** 304 "already started/stopped" is success for a point-and-click action. */
function tolerateNotModified(err: unknown): void {
  if ((err as { statusCode?: number }).statusCode === 304) return;
  throw err;
}

export function containerAction(docker: Docker, ids: string[], action: ContainerAction): Promise<BulkResult> {
  return forEachBulk(ids, async (id) => {
    const c = docker.getContainer(id);
    await (async () => {
      switch (action) {
        case 'start':
          return c.start();
        case 'stop':
          return c.stop();
        case 'restart':
          return c.restart();
        case 'pause':
          return c.pause();
        case 'unpause':
          return c.unpause();
        case 'kill':
          return c.kill();
      }
    })().catch(tolerateNotModified);
  });
}

export function removeContainers(docker: Docker, ids: string[], force: boolean, volumes: boolean): Promise<BulkResult> {
  return forEachBulk(ids, (id) => docker.getContainer(id).remove({ force, v: volumes }));
}

/** The create body for a Run dialog spec (the same fields `docker run` sets for those flags). */
export function createOptions(input: RunSpec): Docker.ContainerCreateOptions {
  const spec = RunSpecSchema.parse(input);
  const exposed: Record<string, object> = {};
  const bindings: Record<string, Array<{ HostIp: string; HostPort: string }>> = {};
  for (const p of spec.ports) {
    const key = `${p.containerPort}/${p.protocol}`;
    exposed[key] = {};
    (bindings[key] ??= []).push({ HostIp: p.hostIp ?? '', HostPort: p.hostPort ? String(p.hostPort) : '' });
  }
  const binds = spec.volumes.map((v) => `${v.source}:${v.target}${v.readOnly ? ':ro' : ''}`);
  const opts: Docker.ContainerCreateOptions = {
    Image: spec.image,
    Env: spec.env.map((e) => `${e.key}=${e.value}`),
    ExposedPorts: exposed,
    Tty: spec.interactive,
    OpenStdin: spec.interactive,
    AttachStdin: false,
    AttachStdout: false,
    AttachStderr: false,
    HostConfig: {
      PortBindings: bindings,
      Binds: binds,
      RestartPolicy: { Name: spec.restart === 'no' ? '' : spec.restart, MaximumRetryCount: 0 },
      AutoRemove: spec.autoRemove,
    },
  };
  const hc = opts.HostConfig!;
  if (spec.network) hc.NetworkMode = spec.network;
  if (spec.memory !== undefined) hc.Memory = spec.memory;
  // --cpus is NanoCpus, as the CLI sends it.
  if (spec.cpus !== undefined) hc.NanoCpus = Math.round(spec.cpus * 1e9);
  if (spec.name) opts.name = spec.name;
  if (spec.cmd.length > 0) opts.Cmd = spec.cmd;
  return opts;
}

export async function runContainer(docker: Docker, spec: RunSpec, start: boolean): Promise<{ id: string; warnings: string[] }> {
  const opts = createOptions(spec);
  let container: Docker.Container;
  try {
    container = await docker.createContainer(opts);
  } catch (err) {
    if ((err as { statusCode?: number }).statusCode === 404 && /image/i.test(toWireError(err).message)) {
      throw Object.assign(new Error(`Unable to find image '${spec.image}' locally`), { statusCode: 404 });
    }
    throw err;
  }
  const warnings: string[] = [];
  if (start) {
    try {
      await container.start();
    } catch (err) {
      warnings.push(`created ${container.id.slice(0, 12)} but it did not start: ${toWireError(err).message}`);
    }
  }
  return { id: container.id, warnings };
}
