/** One image: its tags, layers (history) and inspect JSON, with Run. */
import { useEffect, useState } from 'react';
import { api } from '../../api/client.js';
import { useModel } from '../../stores/model.js';
import { requireEngineId, useSession } from '../../stores/session.js';
import { errorText, navigate, useUi } from '../../stores/ui.js';
import { formatBytes, shortId, timeAgo } from '../../lib/format.js';
import { InspectView } from '../containers/InspectView.js';


export function ImageDetail({ id }: { id: string }) {
  const image = useModel((s) => s.images.get(id));
  const engineId = useSession((s) => s.activeId);
  const [history, setHistory] = useState<Array<{ id: string; created: number; createdBy: string; tags: string[]; size: number; comment: string }>>();
  const [error, setError] = useState<string>();
  const [tab, setTab] = useState<'layers' | 'inspect'>('layers');
  useEffect(() => {
    let live = true;
    api()
      .call('images.history', { engineId: requireEngineId(), id })
      .then(
        (h) => live && setHistory(h),
        (e) => live && setError(errorText(e)),
      );
    return () => {
      live = false;
    };
  }, [id]);
  return (
    <section className="page" aria-labelledby="image-title">
      <a href="#/images" className="back" onClick={(e) => (e.preventDefault(), navigate({ page: 'images' }))}>
        ← Images
      </a>
      <div className="page-head">
        <div>
          <h1 id="image-title">{image?.repoTags[0] ?? shortId(id)}</h1>
          {image && (
            <p className="muted">
              <span className="mono">{shortId(image.id)}</span> · {formatBytes(image.size)} · created {timeAgo(image.created)}
              {image.repoTags.length > 1 && ` · also ${image.repoTags.slice(1).join(', ')}`}
            </p>
          )}
        </div>
        <div className="toolbar">
          <button className="primary" onClick={() => useUi.setState({ runImage: image?.repoTags[0] ?? id })}>
            Run…
          </button>
        </div>
      </div>
      <div className="tabs" role="tablist">
        <button role="tab" aria-selected={tab === 'layers'} onClick={() => setTab('layers')}>
          Layers
        </button>
        <button role="tab" aria-selected={tab === 'inspect'} onClick={() => setTab('inspect')}>
          Inspect
        </button>
      </div>
      {tab === 'layers' && (
        <>
          {error && <pre className="error-box">{error}</pre>}
          {history && (
            <table className="simple history-table" aria-label="Image history">
              <thead>
                <tr>
                  <th>Layer</th>
                  <th>Created</th>
                  <th>Created by</th>
                  <th>Size</th>
                </tr>
              </thead>
              <tbody>
                {history.map((h, i) => (
                  <tr key={i}>
                    <td className="mono">{h.id === '<missing>' ? '<missing>' : shortId(h.id)}</td>
                    <td>{timeAgo(h.created)}</td>
                    <td className="mono wrap">{h.createdBy || h.comment}</td>
                    <td>{formatBytes(h.size)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </>
      )}
      {tab === 'inspect' && engineId && <InspectView refreshKey={id} load={() => api().call('images.inspect', { engineId, id })} />}
    </section>
  );
}
