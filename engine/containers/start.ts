/**
 * `docker start` (and restart-policy starts): mount the root filesystem, build the spec, let
 * the runtime create the process under its monitor while networking plumbs the namespace,
 * then start it. A start that fails gives back everything it took and records Docker's exit
 * code (126/127/128) and message.
 */
import { ConflictError, InvalidParameterError, NotModifiedError, SystemError, messageOf } from '../errdefs.js';
import type { Container } from './container.js';
import type { Lifecycle } from './lifecycle.js';
import { RuntimeStartError } from './monitor.js';
import { buildStartSpec } from './spec-builder.js';
import { prepareLog } from './log-rotation.js';

export async function startContainer(lc: Lifecycle, c: Container): Promise<void> {
  await c.lock.run(async () => {
    if (c.isPaused()) throw new ConflictError('cannot start a paused container, try unpause instead');
    if (c.status === 'running') throw new NotModifiedError('container is already running');
    if (c.status === 'removing' || c.status === 'dead' || c.removed) throw new ConflictError('container is marked for removal and cannot be started');
    lc.restarts.cancel(c.id);
    await startLocked(lc, c);
  });
}

/** Starts a container whose lock the caller holds. */
export async function startLocked(lc: Lifecycle, c: Container): Promise<void> {
  const d = lc.d;
  const r = c.record;
  // The container's layers outlive its image (rmi -f), as in Docker.
  if (r.topLayer === undefined) r.topLayer = d.images.get(r.imageId)?.topLayer ?? null;
  const topLayer = r.topLayer;
  if (topLayer !== null && !d.layers.has(topLayer)) throw new ConflictError(`the layers of container ${r.id} are missing`);
  const t0 = performance.now();
  const marks: string[] = [];
  const mark = (label: string) => marks.push(`${label}=${(performance.now() - t0).toFixed(1)}`);
  const limits = lc.logLimits(c);
  const logged = r.hostConfig.LogConfig.Type !== 'none';
  let created;
  try {
    const rootfs = await d.filesystems.mount(r.id, topLayer, { volatile: r.hostConfig.AutoRemove });
    mark('mount');
    const spec = await buildStartSpec(lc, c, rootfs);
    mark('spec');
    if (logged) prepareLog(r.logPath, limits);
    created = await d.runtime.create(c, {
      spec,
      terminal: r.config.Tty,
      stdin: r.config.OpenStdin,
      leaveStdinOpen: !r.config.StdinOnce,
      logPath: lc.outputPath(c),
      // The monitor cuts the file at max-size itself (also while berthd is down); the log keeper keeps the older files.
      logSizeMax: !logged ? 1024 * 1024 : limits.maxSize > 0 ? limits.maxSize : undefined,
      onSpawned: () => d.networking.launching(c),
    });
    mark('create');
    // Known from here on: a failure below (or a daemon crash) can still find the monitor.
    r.monitor = created.monitor;
    r.state.pid = created.pid;
    await d.networking.created(c, created.pid);
    await d.runtime.start(c, created.pid);
    mark('start');
  } catch (err) {
    await cleanupFailedStart(lc, c);
    const exitCode = err instanceof RuntimeStartError ? err.exitCode : 128;
    const message = err instanceof RuntimeStartError ? `failed to create task for container: failed to create shim task: OCI runtime create failed: ${err.message}: unknown` : messageOf(err);
    lc.state.setStartFailed(c, exitCode, message);
    await lc.save(c);
    // Attached clients must not hang on a process that never ran.
    c.notifyStartFailed();
    if (r.hostConfig.AutoRemove) {
      setImmediate(() => void lc.remove(c, { force: true, volumes: true }).catch(() => undefined));
    }
    if (err instanceof InvalidParameterError || err instanceof ConflictError) throw err;
    throw new SystemError(message, { cause: err });
  }
  lc.state.setRunning(c, { pid: created.pid, monitor: created.monitor });
  // Watched closely until its pace is known; from here on the keeper's list of running containers has it.
  if (logged) lc.logKeeper.started({ id: r.id, logPath: r.logPath, limits });
  await lc.save(c);
  mark('saved');
  d.log.debug('container started', { container: r.id.slice(0, 12), timings: marks.join(' ') });
  lc.event(c, 'start');
}

/** Gives back what a start took: runtime state, networking and volumes, the mount. */
async function cleanupFailedStart(lc: Lifecycle, c: Container): Promise<void> {
  const d = lc.d;
  await d.runtime.destroy(c).catch(() => undefined);
  await d.networking.released(c).catch(() => undefined);
  await d.volumes.exited(c).catch(() => undefined);
  await d.filesystems.unmount(c.id).catch(() => undefined);
}
