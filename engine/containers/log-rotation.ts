/**
 * json-file's max-size/max-file for containers whose output is kept in several files: the
 * log of a running container that grew past its limit is shifted (.1, .2, ...) and the
 * monitor reopens it. (With one file the monitor truncates it itself.)
 */
import fs from 'node:fs';
import { messageOf } from '../errdefs.js';
import type { Lifecycle } from './lifecycle.js';
import { rotateLogFiles } from './logs.js';

const CHECK_EVERY_MS = 500;

export class LogRotation {
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly lc: Lifecycle) {}

  start(): void {
    this.timer = setInterval(() => void this.rotate(), CHECK_EVERY_MS);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }

  async rotate(): Promise<void> {
    for (const c of this.lc.d.store.all()) {
      if (!c.isRunning()) continue;
      const { maxSize, maxFile } = this.lc.logLimits(c);
      if (maxSize <= 0 || maxFile <= 1) continue;
      let size: number;
      try {
        size = fs.statSync(c.record.logPath).size;
      } catch {
        continue;
      }
      if (size < maxSize) continue;
      try {
        await rotateLogFiles(c.record.logPath, maxFile);
        this.lc.d.runtime.reopenLog(c);
      } catch (err) {
        this.lc.d.log.debug('log rotation failed', { container: c.id, err: messageOf(err) });
      }
    }
  }
}
