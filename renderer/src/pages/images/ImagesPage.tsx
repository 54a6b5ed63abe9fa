/** Images: repository, tag, ID, size, created, in use; pull, run, tag, push, remove, history, prune. */
import { useMemo, useState } from 'react';
import type { ImageRow } from '../../../../electron/contract/models.js';
import { api } from '../../api/client.js';
import { useModel } from '../../stores/model.js';
import { requireEngineId } from '../../stores/session.js';
import { attempt, navigate, toast, useUi } from '../../stores/ui.js';
import { formatBytes, shortId } from '../../lib/format.js';
import { ConfirmDialog } from '../../components/Dialog.js';
import { Empty } from '../../components/common.js';
import { Icon } from '../../components/Icon.js';
import { DataTable } from '../../components/table/DataTable.js';
import type { Column } from '../../components/table/columns.js';
import { useSort } from '../../stores/views.js';
import { TimeAgo } from '../containers/ContainersPage.js';
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

const IMAGE_COLUMNS = (usage: Map<string, number>, act: { run(l: ImageLine): void; tag(l: ImageLine): void; push(l: ImageLine): void; remove(l: ImageLine): void }): Column<ImageLine>[] => [
  {
    id: 'repository',
    title: 'Repository',
    width: 'minmax(140px, 2.4fr)',
    sortValue: (l) => l.repository,
    cellTitle: (l) => l.repository,
    render: (l) => (
      <a href={`#/images/${encodeURIComponent(l.image.id)}`} onClick={(e) => (e.preventDefault(), navigate({ page: 'image', id: l.image.id }))}>
        {l.repository}
      </a>
    ),
  },
  { id: 'tag', title: 'Tag', width: 'minmax(60px, 1fr)', sortValue: (l) => l.tag, render: (l) => l.tag, cellTitle: (l) => l.tag },
  { id: 'id', title: 'Image ID', width: '110px', hideBelow: 720, sortValue: (l) => l.image.id, render: (l) => <span className="mono">{shortId(l.image.id)}</span> },
  { id: 'size', title: 'Size', width: '80px', sortValue: (l) => l.image.size, initialDir: 'desc', align: 'end', render: (l) => formatBytes(l.image.size) },
  { id: 'created', title: 'Created', width: '115px', hideBelow: 620, sortValue: (l) => l.image.created, initialDir: 'desc', render: (l) => <TimeAgo seconds={l.image.created} /> },
  {
    id: 'inuse',
    title: 'In use',
    width: '100px',
    sortValue: (l) => usage.get(l.image.id) ?? 0,
    initialDir: 'desc',
    render: (l) => {
      const used = usage.get(l.image.id) ?? 0;
      return used ? <span className="badge green">{used} container{used === 1 ? '' : 's'}</span> : <span className="muted">unused</span>;
    },
  },
  {
    id: 'actions',
    title: '',
    width: '124px',
    render: (l) => (
      <div className="row-actions">
        <button className="small" onClick={() => act.run(l)} aria-label={`Run ${l.ref}`} title="Run">
          <Icon name="run" />
        </button>
        <button className="small" onClick={() => act.tag(l)} aria-label={`Tag ${l.ref}`} title="Tag">
          <Icon name="tag" />
        </button>
        <button className="small" disabled={l.tag === '<none>'} onClick={() => act.push(l)} aria-label={`Push ${l.ref}`} title="Push">
          <Icon name="push" />
        </button>
        <button className="small danger" onClick={() => act.remove(l)} aria-label={`Remove ${l.ref}`} title="Remove">
          <Icon name="trash" />
        </button>
      </div>
    ),
  },
];

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
  const [sort, setSort] = useSort('images', { column: 'created', dir: 'desc' });

  const usage = useMemo(() => {
    const m = new Map<string, number>();
    for (const c of containers.values()) m.set(c.imageId, (m.get(c.imageId) ?? 0) + 1);
    return m;
  }, [containers]);
  const lines = useMemo(() => {
    const q = search.toLowerCase();
    return imageLines(images.values()).filter((l) => !q || `${l.repository}:${l.tag} ${l.image.id}`.toLowerCase().includes(q));
  }, [images, search]);
  const columns = useMemo(
    () =>
      IMAGE_COLUMNS(usage, {
        run: (l) => useUi.setState({ runImage: l.tag === '<none>' ? l.image.id : l.ref }),
        tag: setTagging,
        push: (l) => setPushing(l.ref),
        remove: setRemoving,
      }),
    [usage],
  );

  const prune = async () => {
    setPruning(false);
    const r = await attempt('Could not prune images', () => api().call('images.prune', { engineId: requireEngineId(), all: pruneAll }));
    if (r) toast('success', r.deleted ? `Deleted ${r.deleted} image${r.deleted === 1 ? '' : 's'}, reclaimed ${formatBytes(r.spaceReclaimed)}` : 'Nothing to prune');
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
      <DataTable
        label="Images"
        className="images-table"
        columns={columns}
        rows={lines}
        rowKey={(l) => l.key}
        sort={sort}
        onSort={setSort}
        rowAttrs={(l) => ({ 'data-image': l.ref })}
        onOpen={(l) => navigate({ page: 'image', id: l.image.id })}
        {...(!loaded ? { loading: 'Loading images…' } : {})}
        empty={
          <Empty title={images.size ? 'No images match' : 'No images yet'}>
            <p>Pull one, or load/import one with the docker CLI.</p>
          </Empty>
        }
      />
      {tagging && <TagDialog image={tagging.image} onClose={() => setTagging(null)} />}
      {pushing && <PushDialog ref_={pushing} onClose={() => setPushing(null)} />}
      {removing && <RemoveImageDialog line={removing} tags={removing.image.repoTags.length} inUse={(usage.get(removing.image.id) ?? 0) > 0} onClose={() => setRemoving(null)} />}
      {pruning && (
        <ConfirmDialog
          title="Prune images"
          message={<p>Delete dangling images (untagged and unused). Tick the option to delete every image no container uses. The Disk usage page shows what would go first.</p>}
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
