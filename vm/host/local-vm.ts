/**
 * The user's VM, put together from Berth's folders, the `vm` settings and the environment: one
 * place that knows the defaults, used by the `berth vm` commands and the app's VM engine.
 *
 * Environment: BERTH_VM_IMAGES (image store), BERTH_VM_STATE (disks), BERTH_QEMU (QEMU binary or
 * folder), BERTH_VM_ACCEL (force an accelerator), BERTH_VM_CPUS / _MEMORY_MIB / _DISK_GIB / _ARCH
 * (override the settings), BERTH_VM_CONTEXT (docker context name; empty: none).
 */
import { defaultImagesDir } from '../image/store.js';
import { VmController } from './controller.js';
import { vmPaths, type BerthDirs } from './paths.js';
import { resolveResources, type VmSettingsInput } from './resources.js';

export function localVm(dirs: BerthDirs, settings: () => VmSettingsInput | undefined, env: NodeJS.ProcessEnv = process.env): VmController {
  return new VmController({
    paths: vmPaths(dirs, 'default', env),
    resources: () => resolveResources(settings(), env),
    imagesDir: defaultImagesDir(env),
    dockerContext: env.BERTH_VM_CONTEXT === '' ? null : (env.BERTH_VM_CONTEXT ?? 'berth'),
    ...(env.BERTH_VM_ACCEL ? { forcedAccelerator: env.BERTH_VM_ACCEL } : {}),
  });
}
