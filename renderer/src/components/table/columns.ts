/**
 * Column definitions and the pure parts of the table (sorting, grouping,
 * responsive column choice), so every list in the dashboard is declared the
 * same way and these rules are unit-tested without rendering.
 */
import type { ReactNode } from 'react';

export type SortDir = 'asc' | 'desc';
export interface SortState {
  column: string;
  dir: SortDir;
}

export interface Column<T> {
  /** Stable id: the remembered sort refers to it. */
  id: string;
  /** Header text ("" for a column without a header). */
  title: string;
  /** CSS grid track, e.g. "minmax(140px, 2fr)" or "120px". */
  width: string;
  render: (row: T) => ReactNode;
  /** What the column sorts by; a column without it cannot be sorted. */
  sortValue?: (row: T) => string | number | undefined;
  /** Direction of the first click (sizes and dates read best biggest/newest first). */
  initialDir?: SortDir;
  /** Hidden when the table is narrower than this many pixels, so a small window never scrolls sideways. */
  hideBelow?: number;
  align?: 'start' | 'end';
  /** The cell's tooltip (the full text of a truncated value). */
  cellTitle?: (row: T) => string | undefined;
  className?: string;
}

/** Groups (compose projects): a header row above the rows it holds, collapsible, selectable as a whole. */
export interface Grouping<T> {
  keyOf: (row: T) => string | undefined;
  header: (key: string, rows: T[], collapsed: boolean) => ReactNode;
  collapsed: ReadonlySet<string>;
  onToggle: (key: string) => void;
}

export type TableItem<T> = { kind: 'group'; key: string; rows: T[]; collapsed: boolean } | { kind: 'row'; row: T; grouped: boolean };

function compareValues(a: string | number | undefined, b: string | number | undefined): number {
  if (a === b) return 0;
  if (a === undefined) return 1;
  if (b === undefined) return -1;
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  return String(a).localeCompare(String(b), undefined, { numeric: true, sensitivity: 'base' });
}

/** Sorted copy; ties keep a stable order by key. Missing values sort last in either direction. */
export function sortRows<T>(rows: readonly T[], column: Column<T> | undefined, dir: SortDir, keyOf: (r: T) => string): T[] {
  const out = [...rows];
  const value = column?.sortValue;
  out.sort((x, y) => {
    if (value) {
      const a = value(x);
      const b = value(y);
      if (a === undefined || b === undefined) {
        if (a !== b) return a === undefined ? 1 : -1;
      } else {
        const c = compareValues(a, b);
        if (c !== 0) return dir === 'asc' ? c : -c;
      }
    }
    return keyOf(x).localeCompare(keyOf(y));
  });
  return out;
}

/** The next sort after a click on a header: a new column starts in its natural direction, the same one flips. */
export function nextSort<T>(current: SortState | undefined, column: Column<T>): SortState {
  if (current?.column === column.id) return { column: column.id, dir: current.dir === 'asc' ? 'desc' : 'asc' };
  return { column: column.id, dir: column.initialDir ?? 'asc' };
}

export function visibleColumns<T>(columns: readonly Column<T>[], tableWidth: number): Column<T>[] {
  return columns.filter((c) => c.hideBelow === undefined || tableWidth === 0 || tableWidth >= c.hideBelow);
}

/** Rows in display order, with group headers (groups by key, then rows outside any group). */
export function buildItems<T>(sorted: readonly T[], grouping: Grouping<T> | undefined): TableItem<T>[] {
  if (!grouping) return sorted.map((row) => ({ kind: 'row', row, grouped: false }));
  const groups = new Map<string, T[]>();
  const loose: T[] = [];
  for (const r of sorted) {
    const k = grouping.keyOf(r);
    if (k === undefined) loose.push(r);
    else {
      let g = groups.get(k);
      if (!g) groups.set(k, (g = []));
      g.push(r);
    }
  }
  const out: TableItem<T>[] = [];
  for (const [key, rows] of [...groups].sort(([a], [b]) => a.localeCompare(b))) {
    const collapsed = grouping.collapsed.has(key);
    out.push({ kind: 'group', key, rows, collapsed });
    if (!collapsed) for (const row of rows) out.push({ kind: 'row', row, grouped: true });
  }
  for (const row of loose) out.push({ kind: 'row', row, grouped: false });
  return out;
}
