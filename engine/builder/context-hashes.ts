/**
 * Which files of the context a Dockerfile's COPY and ADD will hash, worked out
 * from the Dockerfile as soon as its bytes arrive in the upload, so the
 * context reader can compute those TarSums while the rest of the upload is
 * still coming in (the client packing the context is the slow side of a
 * rebuild) and skip them when no step reads the context (`FROM x` + RUN).
 *
 * Only a speed-up: whatever it leaves out is hashed lazily when a step asks
 * (a source reached through a link, a base image's ONBUILD COPY), so a wrong
 * guess costs time, never a cache decision.
 */
import { posix } from 'node:path';
import { parseDockerfile } from './dockerfile/parser.js';
import { parseInstruction } from './dockerfile/instructions.js';
import { hasWildcards } from './copy.js';
import type { EagerHashing } from './context/build-context.js';

/** Everything, nothing, or the entries at or below these context paths. */
export type HashSelection = 'all' | 'none' | { prefixes: string[] };

/** Clean context path of a COPY/ADD source (`..` stops at the root), or undefined when it can name anything (variables, wildcards, the root). */
function sourcePrefix(src: string): string | undefined {
  if (src.includes('$') || hasWildcards(src)) return undefined;
  const clean = posix.normalize('/' + src).replace(/\/+$/, '').slice(1);
  return clean === '' ? undefined : clean;
}

const isUrl = (s: string) => /^https?:\/\//i.test(s);

export function hashSelection(dockerfile: Buffer): HashSelection {
  let nodes;
  try {
    nodes = parseDockerfile(dockerfile).nodes;
  } catch {
    return 'all';
  }
  const prefixes = new Set<string>();
  for (const node of nodes) {
    let cmd;
    try {
      cmd = parseInstruction(node);
    } catch {
      return 'all';
    }
    if (!('kind' in cmd) || (cmd.kind !== 'copy' && cmd.kind !== 'add')) continue;
    if (cmd.kind === 'copy' && cmd.from !== '') continue;
    for (const src of cmd.sourcePaths) {
      if (cmd.kind === 'add' && isUrl(src)) continue;
      const p = sourcePrefix(src);
      if (p === undefined) return 'all';
      prefixes.add(p);
    }
  }
  return prefixes.size === 0 ? 'none' : { prefixes: [...prefixes] };
}

export function selects(sel: HashSelection, path: string): boolean {
  if (sel === 'all') return true;
  if (sel === 'none') return false;
  return sel.prefixes.some((p) => path === p || path.startsWith(p + '/'));
}

/** Eager hashing for a build whose Dockerfile is at this path in the context. */
export function eagerHashing(dockerfile: string): EagerHashing {
  return {
    dockerfile,
    choose: (content) => {
      const sel = hashSelection(content);
      return (path) => selects(sel, path);
    },
  };
}
