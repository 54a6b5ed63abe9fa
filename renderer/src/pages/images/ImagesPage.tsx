/** Images: repository, tag, ID, size, created, in use; pull, run, tag, push, remove, history, prune. */
import { useMemo, useState } from 'react';
import type { ImageRow } from '../../../../electron/contract/models.js';
import { api } from '../../api/client.js';
import { useModel } from '../../stores/model.js';
import { requireEngineId } from '../../stores/session.js';
import { attempt, navigate, toast, useUi } from '../../stores/ui.js';
import { formatBytes, shortId, timeAgo } from '../../lib/format.js';
import { ConfirmDialog } from '../../components/Dialog.js';
import { Empty } from '../../components/common.js';
import { TagDialog, PushDialog, RemoveImageDialog } from './ImageDialogs.js';

/** One line per tag (an untagged image gets one <none> line), like `docker images`. */
export interface ImageLine {
  key: string;
  image: ImageRow;
  repository: string;
  tag: string;
  ref: string;
}

export function imageLines(images: Iterable<ImageRow>): ImageLine[] {
  const out: ImageLine[] = [];
  for (const image of images) {
    if (image.repoTags.length === 0) {
      const repo = image.repoDigests[0]?.split('@')[0] ?? '<none>';
      out.push({ key: image.id, image, repository: repo, tag: '<none>', ref: image.id });
      continue;
    }
    for (const t of image.repoTags) {
      const i = t.lastIndexOf(':');
      const slash = t.lastIndexOf('/');
      const [repository, tag] = i > slash ? [t.slice(0, i), t.slice(i + 1)] : [t, 'latest'];
      out.push({ key: `${image.id}/${t}`, image, repository, tag, ref: t });
    }
  }
  return out.sort((a, b) => b.image.created - a.image.created || a.ref.localeCompare(b.ref));
}

export function ImagesPage() {
  const images = useModel((s) => s.images);
  const containers = useModel((s) => s.containers);
  const loaded = useModel((s) => s.loaded.images);
  const [search, setSearch] = useState('');
  const [tagging, setTagging] = useState<ImageLine | null>(null);
  const [pushing, setPushing] = useState<string | null>(null);
  const [removing, setRemoving] = useState<ImageLine | null>(null);
  const [pruning, setPruning] = useState(false);
  const [pruneAll, setPruneAll] = useState(false);

  const usage = useMemo(() => {
    const m = new Map<string, number>();
    for (const c of containers.values()) m.set(c.imageId, (m.get(c.imageId) ?? 0) + 1);
    return m;
  }, [containers]);
  const lines = useMemo(() => {
    const q = search.toLowerCase();
    return imageLines(images.values()).filter((l) => !q || `${l.repository}:${l.tag} ${l.image.id}`.toLowerCase().includes(q));
  }, [images, search]);

  const prune = async () => {
    setPruning(false);
    const r = await attempt('Could not prune images', () => api().call('images.prune', { engineId: requireEngineId(), all: pruneAll }));
    if (r) toast('success', `Deleted ${r.deleted} image layers, reclaimed ${formatBytes(r.spaceReclaimed)}`);
  };

  return (
    <section className="page" aria-labelledby="images-title">
      <div className="page-head">
        <h1 id="images-title">Images</h1>
        <div className="toolbar">
          <input data-search type="search" placeholder="Search (press /)" aria-label="Search images" value={search} onChange={(e) => setSearch(e.target.value)} />
          <button className="primary" onClick={() => useUi.setState({ pullOpen: true })}>
            Pull…
          </button>
          <button onClick={() => useUi.setState({ runImage: '' })}>Run…</button>
          <button onClick={() => setPruning(true)}>Prune…</button>
        </div>
      </div>
      {!loaded ? (
        <div className="loading">Loading images…</div>
      ) : lines.length === 0 ? (
        <Empty title={images.size ? 'No images match' : 'No images yet'}>
          <p>Pull one, or load/import one with the docker CLI.</p>
        </Empty>
      ) : (
        <table className="simple images-table" aria-label="Images">
          <thead>
            <tr>
              <th>Repository</th>
              <th>Tag</th>
              <th>Image ID</th>
              <th>Size</th>
              <th>Created</th>
              <th>In use</th>
              <th>Actions</th>
            </tr>
          </thead>
          <tbody>
            {lines.map((l) => {
              const used = usage.get(l.image.id) ?? 0;
              return (
                <tr key={l.key} data-image={l.ref}>
                  <td>
                    <a href={`#/images/${encodeURIComponent(l.image.id)}`} onClick={(e) => (e.preventDefault(), navigate({ page: 'image', id: l.image.id }))}>
                      {l.repository}
                    </a>
                  </td>
                  <td>{l.tag}</td>
                  <td className="mono">{shortId(l.image.id)}</td>
                  <td>{formatBytes(l.image.size)}</td>
                  <td>{timeAgo(l.image.created)}</td>
                  <td>{used ? <span className="badge green">{used} container{used === 1 ? '' : 's'}</span> : <span className="muted">unused</span>}</td>
                  <td className="row-actions">
                    <button className="small" onClick={() => useUi.setState({ runImage: l.tag === '<none>' ? l.image.id : l.ref })} aria-label={`Run ${l.ref}`}>
                      Run
                    </button>
                    <button className="small" onClick={() => setTagging(l)} aria-label={`Tag ${l.ref}`}>
                      Tag
                    </button>
                    <button className="small" disabled={l.tag === '<none>'} onClick={() => setPushing(l.ref)} aria-label={`Push ${l.ref}`}>
                      Push
                    </button>
                    <button className="small danger" onClick={() => setRemoving(l)} aria-label={`Remove ${l.ref}`}>
                      Remove
                    </button>
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
      {tagging && <TagDialog image={tagging.image} onClose={() => setTagging(null)} />}
      {pushing && <PushDialog ref_={pushing} onClose={() => setPushing(null)} />}
      {removing && <RemoveImageDialog line={removing} tags={removing.image.repoTags.length} inUse={(usage.get(removing.image.id) ?? 0) > 0} onClose={() => setRemoving(null)} />}
      {pruning && (
        <ConfirmDialog
          title="Prune images"
          message={<p>Delete dangling images (untagged and unused). Tick the option to delete every image no container uses.</p>}
          confirmLabel="Prune"
          danger
          option={{ label: 'All unused images, not just dangling ones', value: pruneAll, onChange: setPruneAll }}
          onCancel={() => setPruning(false)}
          onConfirm={() => void prune()}
        />
      )}
    </section>
  );
}
