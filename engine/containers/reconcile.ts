/**
 * Live restore: after a daemon start (a crash, kill -9, an upgrade), every container record is
 * checked against what exists — its monitor (pid and start time), its runtime state, its
 * mount — whatever its recorded status:
 *   - running/paused with a live monitor: restored as is (its exit file, if any, is replayed);
 *   - running/paused whose monitor is gone without an exit file: exited (255), released;
 *   - created/exited/restarting with a live monitor or runtime state (a start cut short by the
 *     crash: the status is written only once the process runs): killed and cleaned up, so
 *     nothing runs that the record does not show; a leftover mount is unmounted;
 *   - removing/dead: the removal is finished.
 * Network namespaces and veths of containers that do not run are dropped by networking's
 * restore, which runs after this.
 */
import { messageOf } from '../errdefs.js';
import type { Container } from './container.js';
import type { Lifecycle } from './lifecycle.js';
import { handleExit } from './exit.js';
import { finishRemove } from './remove.js';
import { restartsOnDaemonStart } from './restart-policy.js';
import { startContainer } from './start.js';

export interface ReconcileReport {
  restored: number;
  lost: number;
  orphansCleaned: number;
  unmounted: number;
  removed: number;
}

/** Loads containers and reconciles them with reality. */
export async function loadAndReconcile(lc: Lifecycle): Promise<ReconcileReport> {
  const d = lc.d;
  await d.runtime.init();
  const containers = await d.store.load();
  for (const c of containers) if (c.record.topLayer === undefined) c.record.topLayer = d.images.get(c.record.imageId)?.topLayer ?? null;
  d.images.setLayerUsers(() => d.store.all().map((c) => c.record.topLayer ?? null));
  await d.images.collectOrphanLayers();
  // Filesystems of containers whose record never got written.
  await d.filesystems.removeUnknown(new Set(containers.map((c) => c.id)));
  const report: ReconcileReport = { restored: 0, lost: 0, orphansCleaned: 0, unmounted: 0, removed: 0 };
  for (const c of containers) await reconcile(lc, c, report);
  return report;
}

async function reconcile(lc: Lifecycle, c: Container, report: ReconcileReport): Promise<void> {
  const d = lc.d;
  const s = c.record.state;
  const short = c.id.slice(0, 12);
  if (s.status === 'removing' || s.status === 'dead') {
    await finishRemove(lc, c, false).catch(() => undefined);
    report.removed++;
    return;
  }
  if (s.status === 'running' || s.status === 'paused') {
    if (d.runtime.exitOf(c.id) !== undefined) return; // watching exits replays it
    if (c.record.monitor && d.runtime.monitorAlive(c.record.monitor)) {
      d.log.info('restored running container', { container: short, pid: s.pid });
      lc.state.setRestored(c);
      report.restored++;
      return;
    }
    // The monitor is gone without an exit file (host reboot, killed monitor).
    d.log.warn('container monitor is gone; marking container exited', { container: short });
    await handleExit(lc, c.id, 255, true);
    report.lost++;
    return;
  }
  // Not running by its record (created, exited, restarting): nothing of it may run or stay mounted.
  const left = d.runtime.leftovers(c);
  if (left.monitor || left.state || left.bundle || d.runtime.exitOf(c.id) !== undefined) {
    d.log.warn('cleaning up a container start cut short by a daemon stop', { container: short, status: s.status, monitor: left.monitor, runtimeState: left.state });
    await d.runtime.destroy(c).catch((err) => d.log.warn('could not clean up runtime leftovers', { container: short, err: messageOf(err) }));
    report.orphansCleaned++;
  }
  if (d.filesystems.isMounted(c.id)) {
    await d.filesystems.unmount(c.id).catch((err) => d.log.warn('could not unmount a stopped container', { container: short, err: messageOf(err) }));
    report.unmounted++;
  }
}

/** Restarts containers whose policy says so, after a daemon start (Docker does this at boot). */
export function startPolicyContainers(lc: Lifecycle): void {
  for (const c of lc.d.store.all()) {
    const r = c.record;
    if (c.isRunning() || !restartsOnDaemonStart(r.hostConfig.RestartPolicy, r.hasBeenManuallyStopped, c.status === 'restarting')) continue;
    startContainer(lc, c).catch((err) => lc.d.log.warn('failed to restart container on daemon start', { container: c.id, err: messageOf(err) }));
  }
}
