#!/usr/bin/env node
// Checks that package-lock.json is complete: every dependency and optional dependency of every
// locked package is itself locked. `npm ci` refuses an incomplete lock ("Missing: X from lock
// file"), which happens when `npm install` ran while the registry did not serve some platform's
// optional build. Run by scripts/install-npm-deps.sh and `npm run lint`.
import fs from 'node:fs';
import path from 'node:path';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const lock = JSON.parse(fs.readFileSync(path.join(root, 'package-lock.json'), 'utf8'));
const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
const packages = lock.packages ?? {};
const problems = [];

// Where Node would find `name` from the package at `at` (walking up node_modules folders).
function resolve(at, name) {
  let dir = at;
  for (;;) {
    const candidate = (dir ? `${dir}/` : '') + `node_modules/${name}`;
    if (packages[candidate]) return candidate;
    if (!dir) return undefined;
    const i = dir.lastIndexOf('node_modules/');
    dir = i <= 0 ? '' : dir.slice(0, i - 1);
  }
}

for (const [where, entry] of Object.entries(packages)) {
  if (entry.link) continue;
  const deps = { ...(entry.dependencies ?? {}), ...(entry.optionalDependencies ?? {}) };
  for (const name of Object.keys(deps)) {
    if (!resolve(where, name)) problems.push(`${name} (needed by ${where || 'the root'})`);
  }

}
for (const field of ['dependencies', 'devDependencies', 'optionalDependencies']) {
  for (const [name, range] of Object.entries(pkg[field] ?? {})) {
    if (packages['']?.[field]?.[name] !== range) problems.push(`${name}@${range} in package.json ${field} differs from the lock`);
  }
}
if (problems.length > 0) {
  console.error(`check-lock: package-lock.json is incomplete or out of date (npm ci would refuse it):\n  ${problems.join('\n  ')}`);
  console.error('Regenerate it with `npm install --package-lock-only` while the registry serves every platform build, or drop the dependency that has none.');
  process.exit(1);
}
console.log(`check-lock: package-lock.json is complete (${Object.keys(packages).length - 1} packages)`);
