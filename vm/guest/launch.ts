/**
 * Starts one of the guest's bundled programs (berthd.cjs, agent.cjs: vm/image/bundle.ts) with V8's
 * code cache: `node launch.mjs <bundle.cjs> [args...]`. Under software emulation compiling the
 * bundle's ~3 MB of JavaScript is most of berthd's start; a cache V8 accepts skips that. The guest's
 * Node is 20 (Debian trixie), which has no module compile cache (NODE_COMPILE_CACHE is Node ≥ 22.1),
 * so this compiles the CommonJS bundle itself as a vm.Script with `cachedData`.
 *
 * The cache lives in BERTH_CODE_CACHE_DIR (on the data disk, so it survives reboots), named by a
 * hash of the bundle, Node's version, architecture and flags: V8 checks only the source's length,
 * so a cache must never meet another bundle's text. It is written once the program signals its
 * start-up code has run (`process.emit('berth:ready')`, or after FALLBACK_MS), when it was missing
 * or V8 rejected it; a write failure only costs the next start its speed.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import vm from 'node:vm';

const FALLBACK_MS = 60_000;

const [bundleArg, ...args] = process.argv.slice(2);
if (!bundleArg) {
  process.stderr.write('usage: node launch.mjs <bundle.cjs> [args...]\n');
  process.exit(2);
}
const file = path.resolve(bundleArg);
// A shebang line is not JavaScript inside the wrapper; blanked, so line numbers stay.
const source = fs.readFileSync(file, 'utf8').replace(/^#!.*/, '');
const cacheDir = process.env.BERTH_CODE_CACHE_DIR;
const name = path.basename(file);
const key = createHash('sha256').update(`${process.version}\0${process.arch}\0${process.execArgv.join(' ')}\0`).update(source).digest('hex').slice(0, 16);
const cacheFile = cacheDir ? path.join(cacheDir, `${name}-${key}.v8cache`) : undefined;

let cachedData: Buffer | undefined;
try {
  if (cacheFile) cachedData = fs.readFileSync(cacheFile);
} catch {
  // First start with this bundle: compiled from source, cached below.
}

// The same wrapper Node puts around a CommonJS module.
const compileStart = performance.now();
const script = new vm.Script(`(function (exports, require, module, __filename, __dirname) {${source}\n})`, { filename: file, ...(cachedData ? { cachedData } : {}) });
const needsCache = cacheFile !== undefined && (!cachedData || script.cachedDataRejected === true);
// One line per start on stderr (berthd's log, the VM console for the agent): the boot benchmark reads it.
const verdict = !cacheFile ? 'off' : !cachedData ? 'miss' : script.cachedDataRejected ? 'rejected' : 'hit';
process.stderr.write(`berth-launch: ${name} code cache ${verdict}, compiled in ${Math.round(performance.now() - compileStart)} ms, ${Math.round(process.uptime() * 1000)} ms after node started\n`);

if (needsCache) {
  let written = false;
  const write = () => {
    if (written) return;
    written = true;
    try {
      fs.mkdirSync(cacheDir!, { recursive: true });
      const tmp = `${cacheFile}.${process.pid}.tmp`;
      fs.writeFileSync(tmp, script.createCachedData());
      fs.renameSync(tmp, cacheFile);
      // Caches of earlier bundles of this program are dead weight.
      for (const f of fs.readdirSync(cacheDir!)) if (f.startsWith(`${name}-`) && path.join(cacheDir!, f) !== cacheFile) fs.rmSync(path.join(cacheDir!, f), { force: true });
    } catch (err) {
      process.stderr.write(`launch: cannot write the code cache ${cacheFile}: ${(err as Error).message}\n`);
    }
  };
  (process as NodeJS.EventEmitter).once('berth:ready', () => setImmediate(write));
  setTimeout(write, FALLBACK_MS).unref();
}

process.argv = [process.argv[0]!, file, ...args];
const mod = { exports: {} as unknown, filename: file, id: '.', loaded: false };
const run = script.runInThisContext() as (e: unknown, r: NodeJS.Require, m: typeof mod, f: string, d: string) => void;
run(mod.exports, createRequire(file), mod, file, path.dirname(file));
mod.loaded = true;
