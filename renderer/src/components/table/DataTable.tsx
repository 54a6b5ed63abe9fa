/**
 * The one table of the dashboard: columns declared as data (columns.ts),
 * sortable headers (aria-sort), optional selection and groups, a virtualized
 * body (only the rows in view exist, so thousands stay smooth), columns that
 * step aside when the table is narrow (no sideways scrolling), and keyboard
 * use: arrows move, Space selects, Enter opens, Delete removes.
 *
 * The header sits inside the scrolling element (sticky), so header and rows
 * always share one width and their columns line up.
 */
import { useCallback, useEffect, useLayoutEffect, useMemo, useRef, useState, type CSSProperties, type KeyboardEvent, type ReactNode } from 'react';
import { buildItems, nextSort, sortRows, visibleColumns, type Column, type Grouping, type SortState, type TableItem } from './columns.js';

const HEADER_HEIGHT = 34;
const OVERSCAN = 8;
const CHECK_WIDTH = '34px';

export interface Selection<T> {
  selected: ReadonlySet<string>;
  onChange: (next: Set<string>) => void;
  /** The checkbox's accessible name for a row ("Select web"). */
  label: (row: T) => string;
  /** The checkbox's accessible name for a group ("Select project shop"). */
  groupLabel?: (key: string) => string;
}

export interface DataTableProps<T> {
  label: string;
  /** The focusable body's accessible name (defaults to "<label> rows"). */
  bodyLabel?: string;
  columns: readonly Column<T>[];
  rows: readonly T[];
  rowKey: (row: T) => string;
  sort?: SortState | undefined;
  onSort?: (s: SortState) => void;
  selection?: Selection<T>;
  grouping?: Grouping<T> & { groupAttrs?: (key: string) => Record<string, string> };
  rowAttrs?: (row: T) => Record<string, string | undefined>;
  rowClass?: (row: T) => string | undefined;
  rowHeight?: number;
  onOpen?: (row: T) => void;
  /** Delete key: the selected rows if any are, else the focused one. */
  onDelete?: (rows: T[]) => void;
  /** The rows rendered now (to stream stats for what is on screen only). */
  onVisibleRows?: (rows: T[]) => void;
  /** Shown instead of the body while the data is not there yet. */
  loading?: ReactNode;
  empty?: ReactNode;
  className?: string;
  /** Size the table to its rows (up to this many before it scrolls) instead of filling the page. */
  fitRows?: number;
}

export function DataTable<T>(props: DataTableProps<T>) {
  const { label, columns, rows, rowKey, sort, onSort, selection, grouping, rowAttrs, rowClass, onOpen, onDelete, onVisibleRows, loading, empty, className } = props;
  const rowHeight = props.rowHeight ?? 40;
  const rootRef = useRef<HTMLDivElement>(null);
  const scrollRef = useRef<HTMLDivElement>(null);
  const [width, setWidth] = useState(0);
  const [scrollTop, setScrollTop] = useState(0);
  // Before layout (and in jsdom) assume a typical window so the first paint already shows rows.
  const [height, setHeight] = useState(800);
  const [focus, setFocus] = useState(0);

  useLayoutEffect(() => {
    const root = rootRef.current;
    const scroller = scrollRef.current;
    if (!root || !scroller) return;
    const measure = () => {
      if (root.clientWidth > 0) setWidth(root.clientWidth);
      if (scroller.clientHeight > 0) setHeight(scroller.clientHeight);
    };
    measure();
    if (typeof ResizeObserver === 'undefined') return;
    const ro = new ResizeObserver(measure);
    ro.observe(root);
    ro.observe(scroller);
    return () => ro.disconnect();
  }, []);

  const shown = useMemo(() => visibleColumns(columns, width), [columns, width]);
  const sortColumn = sort ? columns.find((c) => c.id === sort.column) : undefined;
  const sorted = useMemo(() => sortRows(rows, sortColumn, sort?.dir ?? 'asc', rowKey), [rows, sortColumn, sort?.dir, rowKey]);
  const items: TableItem<T>[] = useMemo(() => buildItems(sorted, grouping), [sorted, grouping]);
  const template = [...(selection ? [CHECK_WIDTH] : []), ...shown.map((c) => c.width)].join(' ');

  const clampedFocus = Math.min(focus, Math.max(0, items.length - 1));
  const start = Math.max(0, Math.floor((scrollTop - HEADER_HEIGHT) / rowHeight) - OVERSCAN);
  const end = Math.min(items.length, Math.ceil((scrollTop + height) / rowHeight) + OVERSCAN);

  const visibleKey = useMemo(() => {
    const out: T[] = [];
    for (let i = start; i < end; i++) {
      const it = items[i];
      if (it?.kind === 'row') out.push(it.row);
    }
    return out;
  }, [items, start, end]);
  useEffect(() => {
    onVisibleRows?.(visibleKey);
  }, [visibleKey, onVisibleRows]);

  // Keep the focused row in view when it moves by keyboard.
  useEffect(() => {
    const el = scrollRef.current;
    if (!el) return;
    const top = HEADER_HEIGHT + clampedFocus * rowHeight;
    if (top - HEADER_HEIGHT < el.scrollTop) el.scrollTop = top - HEADER_HEIGHT;
    else if (top + rowHeight > el.scrollTop + el.clientHeight) el.scrollTop = top + rowHeight - el.clientHeight;
  }, [clampedFocus, rowHeight]);

  const onScroll = useCallback(() => {
    if (scrollRef.current) setScrollTop(scrollRef.current.scrollTop);
  }, []);

  const allKeys = useMemo(() => sorted.map(rowKey), [sorted, rowKey]);
  const setMany = (keys: string[], on: boolean) => {
    if (!selection) return;
    const next = new Set(selection.selected);
    for (const k of keys) {
      if (on) next.add(k);
      else next.delete(k);
    }
    selection.onChange(next);
  };
  const toggleOne = (key: string) => setMany([key], !selection?.selected.has(key));

  const onKeyDown = (e: KeyboardEvent<HTMLDivElement>) => {
    const inControl = (e.target as HTMLElement).closest('button, a, input, select');
    if (inControl && e.key !== 'ArrowDown' && e.key !== 'ArrowUp') return;
    const it = items[clampedFocus];
    switch (e.key) {
      case 'ArrowDown':
        e.preventDefault();
        setFocus(Math.min(items.length - 1, clampedFocus + 1));
        scrollRef.current?.focus();
        break;
      case 'ArrowUp':
        e.preventDefault();
        setFocus(Math.max(0, clampedFocus - 1));
        scrollRef.current?.focus();
        break;
      case ' ':
        if (!selection) return;
        e.preventDefault();
        if (it?.kind === 'row') toggleOne(rowKey(it.row));
        else if (it?.kind === 'group') {
          const keys = it.rows.map(rowKey);
          setMany(keys, !keys.every((k) => selection.selected.has(k)));
        }
        break;
      case 'Enter':
        if (it?.kind === 'row') onOpen?.(it.row);
        else if (it?.kind === 'group') grouping?.onToggle(it.key);
        break;
      case 'Delete': {
        if (!onDelete) return;
        const picked = selection ? sorted.filter((r) => selection.selected.has(rowKey(r))) : [];
        if (picked.length) onDelete(picked);
        else if (it?.kind === 'row') onDelete([it.row]);
        break;
      }
    }
  };

  const header = (
    <div className="trow thead" role="row">
      {selection && (
        <span className="c-check" role="columnheader">
          <input
            type="checkbox"
            aria-label="Select all"
            checked={allKeys.length > 0 && allKeys.every((k) => selection.selected.has(k))}
            ref={(el) => {
              if (el) el.indeterminate = allKeys.some((k) => selection.selected.has(k)) && !allKeys.every((k) => selection.selected.has(k));
            }}
            onChange={(e) => setMany(allKeys, e.target.checked)}
          />
        </span>
      )}
      {shown.map((c) => {
        const sortedHere = sort?.column === c.id;
        const ariaSort = sortedHere ? (sort!.dir === 'asc' ? 'ascending' : 'descending') : c.sortValue ? 'none' : undefined;
        return (
          <span key={c.id} className={`dt-h c-${c.id} ${c.align === 'end' ? 'end' : ''}`} role="columnheader" aria-sort={ariaSort}>
            {c.sortValue && onSort ? (
              <button type="button" className="dt-sort" onClick={() => onSort(nextSort(sort, c))} title={`Sort by ${c.title.toLowerCase()}`}>
                {c.title}
                <span className="dt-sort-mark" aria-hidden="true">
                  {sortedHere ? (sort!.dir === 'asc' ? '▲' : '▼') : ''}
                </span>
              </button>
            ) : (
              c.title
            )}
          </span>
        );
      })}
    </div>
  );

  const renderItem = (i: number): ReactNode => {
    const it = items[i]!;
    const focused = i === clampedFocus;
    const style: CSSProperties = { position: 'absolute', top: i * rowHeight, height: rowHeight, left: 0, right: 0 };
    if (it.kind === 'group') {
      const keys = it.rows.map(rowKey);
      const all = !!selection && keys.length > 0 && keys.every((k) => selection.selected.has(k));
      return (
        <div key={`g:${it.key}`} className={`trow group ${focused ? 'focused' : ''}`} role="row" style={style} data-group={it.key} {...grouping?.groupAttrs?.(it.key)}>
          {selection && (
            <span className="c-check" role="cell">
              <input type="checkbox" aria-label={selection.groupLabel?.(it.key) ?? `Select ${it.key}`} checked={all} onChange={(e) => setMany(keys, e.target.checked)} />
            </span>
          )}
          <div className="dt-group-head" role="cell">
            {grouping!.header(it.key, it.rows, it.collapsed)}
          </div>
        </div>
      );
    }
    const key = rowKey(it.row);
    const selected = !!selection?.selected.has(key);
    return (
      <div
        key={`r:${key}`}
        className={`trow ${focused ? 'focused' : ''} ${selected ? 'selected' : ''} ${it.grouped ? 'in-group' : ''} ${rowClass?.(it.row) ?? ''}`}
        role="row"
        style={style}
        data-key={key}
        {...rowAttrs?.(it.row)}
        onClick={() => setFocus(i)}
      >
        {selection && (
          <span className="c-check" role="cell">
            <input type="checkbox" aria-label={selection.label(it.row)} checked={selected} onChange={() => toggleOne(key)} />
          </span>
        )}
        {shown.map((c) => (
          <span key={c.id} className={`c-${c.id} ${c.align === 'end' ? 'end' : ''} ${c.className ?? ''}`} role="cell" title={c.cellTitle?.(it.row)}>
            {c.render(it.row)}
          </span>
        ))}
      </div>
    );
  };

  const body: ReactNode[] = [];
  for (let i = start; i < end; i++) body.push(renderItem(i));

  return (
    <div
      ref={rootRef}
      className={`dtable ${props.fitRows ? 'fit' : ''} ${className ?? ''}`}
      role="table"
      aria-label={label}
      aria-rowcount={items.length}
      style={{ '--dt-cols': template, ...(props.fitRows ? { height: HEADER_HEIGHT + Math.max(1, Math.min(items.length, props.fitRows)) * rowHeight + 2 } : {}) } as CSSProperties}
    >
      <div ref={scrollRef} className="dt-scroll" tabIndex={0} onScroll={onScroll} onKeyDown={onKeyDown} aria-label={props.bodyLabel ?? `${label} rows`}>
        <div role="rowgroup" className="dt-headgroup">
          {header}
        </div>
        {loading ? (
          <div className="loading">{loading}</div>
        ) : items.length === 0 ? (
          (empty ?? null)
        ) : (
          <div role="rowgroup" className="dt-body" style={{ height: items.length * rowHeight, position: 'relative' }}>
            {body}
          </div>
        )}
      </div>
    </div>
  );
}
