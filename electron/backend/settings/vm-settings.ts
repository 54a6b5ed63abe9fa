/**
 * Checks a change to the `vm` settings before it is stored, with the VM's own rules
 * (vm/host/resources.ts resolves and validates what a start will use), so the Settings page can
 * never store what the VM would refuse at its next start.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { VmSettings } from '../../contract/models.js';
import { resolveResources } from '../../../vm/host/resources.js';
import { chooseFileSharing, findVirtiofsd } from '../../../vm/host/file-sharing.js';

/** Why these VM settings cannot be used, or undefined when they can. */
export function vmSettingsProblem(vm: VmSettings | undefined, platform: NodeJS.Platform = process.platform): string | undefined {
  if (!vm) return undefined;
  try {
    // No environment: the stored values themselves are checked, not BERTH_VM_* overrides.
    resolveResources(vm, {});
    // virtiofs asked for on a host that cannot run it: refused now rather than at the next start.
    if (vm.fileSharing === 'virtiofs') chooseFileSharing({ platform, root: process.getuid?.() === 0, virtiofsd: platform === 'linux' ? findVirtiofsd() : undefined }, 'virtiofs');
  } catch (err) {
    return (err as Error).message;
  }
  return sharedFoldersProblem(vm.sharedFolders, platform);
}

/**
 * The shared-folder list (`vm.sharedFolders`): absolute paths of existing folders, each listed once.
 * vm/host/resources.ts owns how they are shared; this only refuses what cannot be shared at all.
 */
export function sharedFoldersProblem(folders: VmSettings['sharedFolders'], platform: NodeJS.Platform = process.platform): string | undefined {
  if (!folders) return undefined;
  const p = platform === 'win32' ? path.win32 : path.posix;
  const seen = new Set<string>();
  for (const f of folders) {
    if (!p.isAbsolute(f.path)) return `invalid VM settings: a shared folder must be an absolute path (got "${f.path}")`;
    const norm = p.normalize(f.path).replace(/(.)[\\/]+$/, '$1');
    if (seen.has(norm)) return `invalid VM settings: ${norm} is shared twice`;
    seen.add(norm);
    let st: fs.Stats | undefined;
    try {
      st = fs.statSync(norm);
    } catch {
      st = undefined;
    }
    if (!st?.isDirectory()) return `invalid VM settings: the shared folder ${norm} does not exist or is not a folder`;
  }
  return undefined;
}
