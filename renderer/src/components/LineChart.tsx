/** A small SVG line chart for the Stats tab (one or two series over the last samples). */
export interface Series {
  label: string;
  values: number[];
  className: string;
}

export function LineChart({ title, series, format, max }: { title: string; series: Series[]; format: (v: number) => string; max?: number }) {
  const w = 320;
  const h = 110;
  const n = Math.max(2, ...series.map((s) => s.values.length));
  const top = Math.max(max ?? 0, ...series.flatMap((s) => s.values)) || 1;
  const path = (vals: number[]) =>
    vals.map((v, i) => `${i === 0 ? 'M' : 'L'}${((i + (n - vals.length)) / (n - 1)) * w},${h - (v / top) * (h - 4) - 2}`).join(' ');
  return (
    <figure className="chart" aria-label={title}>
      <figcaption>
        <span>{title}</span>
        {series.map((s) => (
          <span key={s.label} className={`legend ${s.className}`}>
            {s.label} {s.values.length ? format(s.values[s.values.length - 1]!) : '—'}
          </span>
        ))}
      </figcaption>
      <svg viewBox={`0 0 ${w} ${h}`} preserveAspectRatio="none" role="img" aria-label={`${title} chart`}>
        <line x1="0" y1={h - 1} x2={w} y2={h - 1} className="axis" />
        {series.map((s) => (s.values.length > 1 ? <path key={s.label} d={path(s.values)} className={`line ${s.className}`} /> : null))}
      </svg>
      <div className="chart-scale">max {format(top)}</div>
    </figure>
  );
}
