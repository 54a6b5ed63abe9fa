// Builds Berth: the Node parts (engine, electron backend/main, vm) with tsc,
// then the renderer with Vite when it exists. Marks the bin entry points executable.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

// BERTH_DIST (a folder inside the repo, so node_modules resolves) lets parallel
// builds and test runs use separate outputs; the default is dist/.
const root = path.resolve(import.meta.dirname, '..');
const out = path.resolve(root, process.env.BERTH_DIST ?? 'dist');
const run = (cmd, args) => execFileSync(cmd, args, { cwd: root, stdio: 'inherit' });

fs.rmSync(out, { recursive: true, force: true });
run(process.execPath, [path.join(root, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json', '--outDir', out]);
const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
for (const bin of Object.values(pkg.bin)) {
  const file = path.join(out, path.relative('dist', bin));
  if (fs.existsSync(file)) fs.chmodSync(file, 0o755);
}
if (fs.existsSync(path.join(root, 'renderer', 'vite.config.ts'))) {
  run(process.execPath, [path.join(root, 'node_modules/vite/bin/vite.js'), 'build', '--config', 'renderer/vite.config.ts', '--logLevel', 'warn', '--outDir', path.join(out, 'renderer')]);
}
