/** The Inspect tab: the engine's JSON for a container or image, as a tree or raw, with copy. */
import { useEffect, useState } from 'react';
import { JsonTree } from '../../components/JsonTree.js';
import { CopyButton } from '../../components/common.js';
import { errorText } from '../../stores/ui.js';

export function InspectView({ load, refreshKey }: { load: () => Promise<unknown>; refreshKey: string }) {
  const [data, setData] = useState<unknown>();
  const [error, setError] = useState<string>();
  const [raw, setRaw] = useState(false);
  useEffect(() => {
    let live = true;
    setError(undefined);
    load().then(
      (d) => live && setData(d),
      (e) => live && setError(errorText(e)),
    );
    return () => {
      live = false;
    };
    // Reloaded when the object changes (refreshKey), not when the loader identity does.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [refreshKey]);
  if (error) return <pre className="error-box">{error}</pre>;
  if (data === undefined) return <div className="loading">Loading…</div>;
  const text = JSON.stringify(data, null, 2);
  return (
    <div className="inspect-view">
      <div className="toolbar">
        <div role="radiogroup" aria-label="View" className="segmented">
          <button role="radio" aria-checked={!raw} onClick={() => setRaw(false)}>
            Tree
          </button>
          <button role="radio" aria-checked={raw} onClick={() => setRaw(true)}>
            Raw
          </button>
        </div>
        <CopyButton text={text} label="Copy JSON" />
      </div>
      {raw ? <pre className="raw-json" data-raw-json>{text}</pre> : <JsonTree value={data} />}
    </div>
  );
}
