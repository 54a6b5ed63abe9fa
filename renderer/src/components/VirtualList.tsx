/**
 * A windowed list: only the rows in view (plus a few) exist in the DOM, so
 * thousands of rows scroll smoothly. Rows have a fixed height; the visible
 * range follows scroll events and the element's size (ResizeObserver).
 */
import { useCallback, useEffect, useLayoutEffect, useRef, useState, type ReactNode } from 'react';

export interface VirtualListProps {
  count: number;
  rowHeight: number;
  renderRow: (index: number) => ReactNode;
  overscan?: number;
  className?: string;
  /** Called with the first and last rendered index (to stream stats for visible rows only). */
  onRangeChange?: (start: number, end: number) => void;
  /** Scrolls so this row is visible (keyboard navigation). */
  scrollToIndex?: number;
  label?: string;
  /** Rendered when count is 0. */
  empty?: ReactNode;
}

export function VirtualList({ count, rowHeight, renderRow, overscan = 8, className, onRangeChange, scrollToIndex, label, empty }: VirtualListProps) {
  const ref = useRef<HTMLDivElement>(null);
  const [scrollTop, setScrollTop] = useState(0);
  // Before layout (and in jsdom) assume a typical window so the first paint already shows rows.
  const [height, setHeight] = useState(800);

  useLayoutEffect(() => {
    const el = ref.current;
    if (!el) return;
    if (el.clientHeight > 0) setHeight(el.clientHeight);
    if (typeof ResizeObserver === 'undefined') return;
    const ro = new ResizeObserver(() => {
      if (el.clientHeight > 0) setHeight(el.clientHeight);
    });
    ro.observe(el);
    return () => ro.disconnect();
  }, []);

  const onScroll = useCallback(() => {
    if (ref.current) setScrollTop(ref.current.scrollTop);
  }, []);

  const start = Math.max(0, Math.floor(scrollTop / rowHeight) - overscan);
  const end = Math.min(count, Math.ceil((scrollTop + height) / rowHeight) + overscan);

  useEffect(() => {
    onRangeChange?.(start, end);
  }, [start, end, onRangeChange]);

  useEffect(() => {
    const el = ref.current;
    if (!el || scrollToIndex === undefined || scrollToIndex < 0) return;
    const top = scrollToIndex * rowHeight;
    if (top < el.scrollTop) el.scrollTop = top;
    else if (top + rowHeight > el.scrollTop + el.clientHeight) el.scrollTop = top + rowHeight - el.clientHeight;
  }, [scrollToIndex, rowHeight]);

  const rows: ReactNode[] = [];
  for (let i = start; i < end; i++) {
    rows.push(
      <div key={i} className="vrow" style={{ position: 'absolute', top: i * rowHeight, height: rowHeight, left: 0, right: 0 }}>
        {renderRow(i)}
      </div>,
    );
  }
  return (
    <div ref={ref} className={`vlist ${className ?? ''}`} onScroll={onScroll} role="rowgroup" aria-label={label} aria-rowcount={count}>
      {count === 0 && empty ? empty : <div style={{ height: count * rowHeight, position: 'relative' }}>{rows}</div>}
    </div>
  );
}
