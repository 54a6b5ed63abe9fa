/** A collapsible JSON tree (objects and arrays open on click or Enter). */
import { useState } from 'react';

function Node({ name, value, depth }: { name: string | undefined; value: unknown; depth: number }) {
  const isObj = value !== null && typeof value === 'object';
  const [open, setOpen] = useState(depth < 1);
  if (!isObj) {
    const cls = value === null ? 'null' : typeof value;
    return (
      <div className="jt-leaf">
        {name !== undefined && <span className="jt-key">{name}: </span>}
        <span className={`jt-${cls}`}>{JSON.stringify(value)}</span>
      </div>
    );
  }
  const entries = Array.isArray(value) ? value.map((v, i) => [String(i), v] as const) : Object.entries(value as Record<string, unknown>);
  const brackets = Array.isArray(value) ? ['[', ']'] : ['{', '}'];
  return (
    <div className="jt-node">
      <button className="jt-toggle" aria-expanded={open} onClick={() => setOpen(!open)}>
        {open ? '▾' : '▸'} {name !== undefined && <span className="jt-key">{name}: </span>}
        <span className="jt-summary">
          {brackets[0]}
          {!open && `${entries.length} ${Array.isArray(value) ? 'items' : 'keys'}`}
          {!open && brackets[1]}
        </span>
      </button>
      {open && (
        <div className="jt-children">
          {entries.map(([k, v]) => (
            <Node key={k} name={k} value={v} depth={depth + 1} />
          ))}
          <div className="jt-close">{brackets[1]}</div>
        </div>
      )}
    </div>
  );
}

export function JsonTree({ value }: { value: unknown }) {
  return (
    <div className="json-tree">
      <Node name={undefined} value={value} depth={0} />
    </div>
  );
}
