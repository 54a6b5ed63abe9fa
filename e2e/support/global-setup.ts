/** Builds shared test artifacts once per run and checks the machine has what the suite needs. */
import fs from 'node:fs';
import { berthdBin, busyboxTar } from './paths.js';
import { ensureBusyboxRootfs } from './rootfs.js';
import { electronBinary } from './electron-binary.js';

export default function globalSetup(): void {
  if (!fs.existsSync(berthdBin)) throw new Error(`${berthdBin} is missing: run "npm run build" first`);
  if (ensureBusyboxRootfs() !== busyboxTar) throw new Error('the busybox rootfs cache key changed during the run');
  // Reporters do not print skip reasons; the electron project's is said here, once.
  const electron = electronBinary();
  if (!electron.path) console.log(`[electron] e2e/electron is skipped on this machine: ${electron.reason}`);
}
