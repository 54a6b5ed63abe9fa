/** Filtering, sorting and compose grouping of the containers table (pure, so it is unit-tested and benchmarked). */
import type { ContainerRow } from '../../../electron/contract/models.js';

export type StateFilter = 'all' | 'running' | 'stopped' | 'paused';

export interface ContainerQuery {
  search: string;
  state: StateFilter;
}

export function matchesState(c: ContainerRow, f: StateFilter): boolean {
  switch (f) {
    case 'all':
      return true;
    case 'running':
      return c.state === 'running' || c.state === 'restarting';
    case 'paused':
      return c.state === 'paused';
    case 'stopped':
      return c.state === 'exited' || c.state === 'created' || c.state === 'dead';
  }
}

/** Search text: every word must appear in the name, image, id, project, service or a port. */
export function filterContainers(rows: Iterable<ContainerRow>, q: ContainerQuery): ContainerRow[] {
  const words = q.search.toLowerCase().split(/\s+/).filter(Boolean);
  const out: ContainerRow[] = [];
  for (const c of rows) {
    if (!matchesState(c, q.state)) continue;
    if (words.length) {
      const hay = `${c.name} ${c.image} ${c.id.slice(0, 12)} ${c.project ?? ''} ${c.service ?? ''} ${c.status} ${c.ports.map((p) => `${p.publicPort ?? ''}:${p.privatePort}`).join(' ')}`.toLowerCase();
      if (!words.every((w) => hay.includes(w))) continue;
    }
    out.push(c);
  }
  // Newest first, like `docker ps`; ties by name so the order is stable.
  out.sort((a, b) => b.created - a.created || a.name.localeCompare(b.name));
  return out;
}

export type TableRow = { kind: 'group'; project: string; count: number; running: number; ids: string[]; collapsed: boolean } | { kind: 'container'; row: ContainerRow; grouped: boolean };

/** Rows for the table: compose projects become collapsible group rows above their containers. */
export function groupContainers(rows: ContainerRow[], grouped: boolean, collapsed: ReadonlySet<string>): TableRow[] {
  if (!grouped) return rows.map((row) => ({ kind: 'container', row, grouped: false }));
  const projects = new Map<string, ContainerRow[]>();
  const out: TableRow[] = [];
  const loose: ContainerRow[] = [];
  for (const r of rows) {
    if (r.project) {
      let list = projects.get(r.project);
      if (!list) projects.set(r.project, (list = []));
      list.push(r);
    } else loose.push(r);
  }
  for (const [project, list] of [...projects].sort(([a], [b]) => a.localeCompare(b))) {
    const isCollapsed = collapsed.has(project);
    out.push({ kind: 'group', project, count: list.length, running: list.filter((c) => c.state === 'running').length, ids: list.map((c) => c.id), collapsed: isCollapsed });
    if (!isCollapsed) for (const row of list.sort((a, b) => (a.service ?? a.name).localeCompare(b.service ?? b.name))) out.push({ kind: 'container', row, grouped: true });
  }
  for (const row of loose) out.push({ kind: 'container', row, grouped: false });
  return out;
}

export function stateColor(state: ContainerRow['state']): 'green' | 'yellow' | 'grey' | 'red' | 'blue' {
  switch (state) {
    case 'running':
      return 'green';
    case 'paused':
      return 'yellow';
    case 'restarting':
      return 'blue';
    case 'dead':
      return 'red';
    default:
      return 'grey';
  }
}
