/** Filtering of the containers table and compose project summaries (pure, so they are unit-tested and benchmarked). */
import type { ContainerRow } from '../../../electron/contract/models.js';

export type StateFilter = 'all' | 'running' | 'stopped' | 'paused';

export interface ContainerQuery {
  search: string;
  state: StateFilter;
  /** Exact image name as listed. */
  image?: string;
  /** Compose project; "-" means "not in a project". */
  project?: string;
  /** "key" (has the label) or "key=value". */
  label?: string;
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

export function matchesLabel(labels: Record<string, string>, filter: string): boolean {
  const f = filter.trim();
  if (!f) return true;
  const eq = f.indexOf('=');
  if (eq < 0) return Object.hasOwn(labels, f);
  const key = f.slice(0, eq).trim();
  return Object.hasOwn(labels, key) && labels[key] === f.slice(eq + 1).trim();
}

/** Search text: every word must appear in the name, image, id, project, service, status or a port. */
export function filterContainers(rows: Iterable<ContainerRow>, q: ContainerQuery): ContainerRow[] {
  const words = q.search.toLowerCase().split(/\s+/).filter(Boolean);
  const out: ContainerRow[] = [];
  for (const c of rows) {
    if (!matchesState(c, q.state)) continue;
    if (q.image && c.image !== q.image) continue;
    if (q.project && (q.project === '-' ? c.project !== undefined : c.project !== q.project)) continue;
    if (q.label && !matchesLabel(c.labels, q.label)) continue;
    if (words.length) {
      const hay = `${c.name} ${c.image} ${c.id.slice(0, 12)} ${c.project ?? ''} ${c.service ?? ''} ${c.status} ${c.ports.map((p) => `${p.publicPort ?? ''}:${p.privatePort}`).join(' ')}`.toLowerCase();
      if (!words.every((w) => hay.includes(w))) continue;
    }
    out.push(c);
  }
  return out;
}

export interface ProjectSummary {
  name: string;
  containers: ContainerRow[];
  running: number;
}

/** Compose projects present on the engine (from the com.docker.compose.project label). */
export function composeProjects(rows: Iterable<ContainerRow>): ProjectSummary[] {
  const m = new Map<string, ContainerRow[]>();
  for (const c of rows) {
    if (!c.project) continue;
    let list = m.get(c.project);
    if (!list) m.set(c.project, (list = []));
    list.push(c);
  }
  return [...m]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([name, containers]) => ({ name, containers: containers.sort((a, b) => (a.service ?? a.name).localeCompare(b.service ?? b.name)), running: containers.filter((c) => c.state === 'running').length }));
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
