/**
 * The engine's layering, checked on its import graph (madge, type-only imports included):
 * no import cycle anywhere in engine/, HTTP stays in api/ (the domain may use only the API's
 * shapes: api/types.ts and api/filters.ts), and route files never see the Daemon. It fails on
 * the first cycle anyone adds.
 */
import path from 'node:path';
import madge from 'madge';
import { beforeAll, describe, expect, it } from 'vitest';

const engineDir = import.meta.dirname;
let graph: Record<string, string[]>;
let circular: string[][];

beforeAll(async () => {
  const res = await madge(engineDir, {
    fileExtensions: ['ts'],
    tsConfig: path.join(engineDir, '..', 'tsconfig.json'),
    excludeRegExp: [/\.test\.ts$/, /(^|\/)testing\//],
    detectiveOptions: { ts: { skipTypeImports: false }, es6: { skipTypeImports: false } },
  });
  graph = res.obj();
  circular = res.circular();
}, 60_000);

/** Strongly connected components with more than one module (every cycle lies in one). */
function cycles(g: Record<string, string[]>): string[][] {
  let index = 0;
  const stack: string[] = [];
  const onStack = new Set<string>();
  const idx = new Map<string, number>();
  const low = new Map<string, number>();
  const out: string[][] = [];
  const visit = (v: string) => {
    idx.set(v, index);
    low.set(v, index);
    index++;
    stack.push(v);
    onStack.add(v);
    for (const w of g[v] ?? []) {
      if (!idx.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, idx.get(w)!));
    }
    if (low.get(v) === idx.get(v)) {
      const scc: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        scc.push(w);
      } while (w !== v);
      if (scc.length > 1 || (g[v] ?? []).includes(v)) out.push(scc.sort());
    }
  };
  for (const v of Object.keys(g)) if (!idx.has(v)) visit(v);
  return out;
}

describe('engine architecture', () => {
  it('sees the whole engine', () => {
    expect(Object.keys(graph)).toContain('daemon/main.ts');
    expect(Object.keys(graph)).toContain('containers/state.ts');
    expect(graph['daemon/daemon.ts']).toContain('daemon/backends.ts');
  });

  it('has no import cycle', () => {
    expect(circular).toEqual([]);
    expect(cycles(graph)).toEqual([]);
  });

  it('finds a cycle when there is one (the check itself works)', () => {
    expect(cycles({ 'a.ts': ['b.ts'], 'b.ts': ['c.ts'], 'c.ts': ['a.ts'], 'd.ts': ['a.ts'] })).toEqual([['a.ts', 'b.ts', 'c.ts']]);
  });

  it('keeps HTTP in api/: domain modules import only the API shapes', () => {
    const allowed = new Set(['api/types.ts', 'api/filters.ts']);
    const offenders: string[] = [];
    for (const [mod, deps] of Object.entries(graph)) {
      if (mod.startsWith('api/') || mod === 'daemon/daemon.ts' || mod === 'daemon/backends.ts') continue;
      for (const dep of deps) if (dep.startsWith('api/') && !allowed.has(dep)) offenders.push(`${mod} -> ${dep}`);
    }
    expect(offenders).toEqual([]);
  });

  it('gives routes their backends, never the Daemon (the logger is the one daemon/ module the API layer uses)', () => {
    const offenders = Object.entries(graph)
      .filter(([mod]) => mod.startsWith('api/'))
      .flatMap(([mod, deps]) => deps.filter((d) => d.startsWith('daemon/') && d !== 'daemon/log.ts').map((d) => `${mod} -> ${d}`));
    expect(offenders).toEqual([]);
  });
});
