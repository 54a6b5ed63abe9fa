/**
 * The guest's programs as single files: berthd (dist/engine/daemon/main.js) and the guest agent
 * (dist/vm/guest/agent.js) bundled by esbuild with their npm dependencies into CommonJS bundles,
 * and the launcher that runs them with V8's code cache (vm/guest/launch.ts). Under software
 * emulation Node resolving, reading and compiling ~200 modules from squashfs was most of the
 * engine's start; one file per program is read once and compiled (or taken from the cache) once.
 *
 * Only native code stays outside: koffi (a prebuilt library per architecture), which the payload
 * ships as a package next to the bundles. esbuild's output depends only on its inputs and version
 * (no timestamps, no absolute paths), so the payload stays reproducible and keyed by content.
 */
import fs from 'node:fs';
import path from 'node:path';

/** Packages required at run time from node_modules next to the bundles (native code). */
export const EXTERNAL_PACKAGES = ['koffi'];

/** File names in the payload; vm/guest/engine.ts and init.sh start them from /opt/berth. */
export const BUNDLES = {
  berthd: { entry: 'engine/daemon/main.js', out: 'berthd.cjs' },
  agent: { entry: 'vm/guest/agent.js', out: 'agent.cjs' },
} as const;
export const LAUNCHER = { entry: 'vm/guest/launch.js', out: 'launch.mjs' } as const;

export async function bundleGuestPrograms(distRoot: string, outDir: string): Promise<void> {
  let esbuild: typeof import('esbuild');
  try {
    esbuild = await import('esbuild');
  } catch {
    throw new Error('esbuild is missing: the VM payload is built from a source checkout with its dev dependencies (scripts/install-npm-deps.sh)');
  }
  const common = {
    bundle: true,
    platform: 'node',
    target: 'node20',
    logLevel: 'warning',
    legalComments: 'eof',
    // Node's import() of a package would need an ES module loader inside vm.Script; as require() it needs none.
    supported: { 'dynamic-import': false },
    external: EXTERNAL_PACKAGES,
    absWorkingDir: distRoot,
  } as const;
  for (const b of Object.values(BUNDLES)) {
    const entry = path.join(distRoot, b.entry);
    if (!fs.existsSync(entry)) throw new Error(`${entry} is missing: run \`npm run build\` first`);
    await esbuild.build({ ...common, entryPoints: [entry], format: 'cjs', outfile: path.join(outDir, b.out) });
  }
  await esbuild.build({ ...common, entryPoints: [path.join(distRoot, LAUNCHER.entry)], format: 'esm', outfile: path.join(outDir, LAUNCHER.out) });
}
