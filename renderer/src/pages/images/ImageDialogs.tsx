/** Tag, push and remove dialogs for the Images page. */
import { useState } from 'react';
import type { ImageRow } from '../../../../electron/contract/models.js';
import { api } from '../../api/client.js';
import { requireEngineId } from '../../stores/session.js';
import { errorText, toast } from '../../stores/ui.js';
import { Dialog, FormDialog } from '../../components/Dialog.js';
import { shortId } from '../../lib/format.js';
import { ProgressList, useProgressStream } from './PullDialog.js';
import type { ImageLine } from './ImagesPage.js';

/** Splits "repo[:tag]" the way the CLI does (a colon after the last slash starts the tag). */
export function splitRef(ref: string): { repo: string; tag: string } {
  const i = ref.lastIndexOf(':');
  const slash = ref.lastIndexOf('/');
  return i > slash ? { repo: ref.slice(0, i), tag: ref.slice(i + 1) } : { repo: ref, tag: 'latest' };
}

export function TagDialog({ image, onClose }: { image: ImageRow; onClose: () => void }) {
  const [target, setTarget] = useState('');
  const [error, setError] = useState<string>();
  const submit = async () => {
    const { repo, tag } = splitRef(target.trim());
    try {
      await api().call('images.tag', { engineId: requireEngineId(), id: image.id, repo, tag });
      toast('success', `Tagged ${shortId(image.id)} as ${repo}:${tag}`);
      onClose();
    } catch (err) {
      setError(errorText(err));
    }
  };
  return (
    <FormDialog title={`Tag ${image.repoTags[0] ?? shortId(image.id)}`} submitLabel="Tag" canSubmit={target.trim() !== ''} onSubmit={() => void submit()} onClose={onClose} error={error}>
      <label className="field">
        New name
        <input value={target} onChange={(e) => setTarget(e.target.value)} placeholder="localhost:5000/app:1.0" aria-label="New image name" />
      </label>
    </FormDialog>
  );
}

export function PushDialog({ ref_, onClose }: { ref_: string; onClose: () => void }) {
  const { state, running, start, cancel } = useProgressStream();
  return (
    <Dialog
      title={`Push ${ref_}`}
      wide
      onClose={() => {
        cancel();
        onClose();
      }}
      footer={
        <>
          <button onClick={onClose}>{state.done ? 'Close' : 'Cancel'}</button>
          <button className="primary" disabled={running || state.done} onClick={() => start('images.push', ref_, () => toast('success', `Pushed ${ref_}`))}>
            {running ? 'Pushing…' : 'Push'}
          </button>
        </>
      }
    >
      <p>Uploads the image to the registry in its name ({splitRef(ref_).repo.includes('/') && splitRef(ref_).repo.split('/')[0]!.match(/[.:]|^localhost$/) ? splitRef(ref_).repo.split('/')[0] : 'Docker Hub'}).</p>
      <ProgressList state={state} />
    </Dialog>
  );
}

/** "Untagged app:1 and app:latest; deleted image 1234567890ab" (what docker rmi prints, in a sentence). */
export function removalSummary(r: Array<{ untagged?: string; deleted?: string }>): string {
  const untagged = r.flatMap((x) => (x.untagged ? [x.untagged] : []));
  const deleted = r.flatMap((x) => (x.deleted ? [x.deleted] : []));
  const list = (xs: string[]) => (xs.length <= 3 ? xs.join(xs.length === 2 ? ' and ' : ', ') : `${xs.slice(0, 3).join(', ')} and ${xs.length - 3} more`);
  const parts: string[] = [];
  if (untagged.length) parts.push(`Untagged ${list(untagged)}`);
  // The first deleted id is the image; the rest are its layers nothing else shares.
  if (deleted.length) parts.push(`${parts.length ? 'deleted' : 'Deleted'} image ${shortId(deleted[0]!)}${deleted.length > 1 ? ` and ${deleted.length - 1} unshared layer${deleted.length === 2 ? '' : 's'}` : ''}`);
  return parts.join('; ') || 'Removed';
}

export function RemoveImageDialog({ line, tags, inUse, onClose }: { line: ImageLine; tags: number; inUse: boolean; onClose: () => void }) {
  const [force, setForce] = useState(false);
  const [mode, setMode] = useState<'untag' | 'delete'>(tags > 1 ? 'untag' : 'delete');
  const [error, setError] = useState<string>();
  const submit = async () => {
    try {
      const ref = mode === 'untag' && line.tag !== '<none>' ? line.ref : line.image.id;
      const r = await api().call('images.remove', { engineId: requireEngineId(), ref, force: force || (mode === 'delete' && tags > 1) });
      toast('success', removalSummary(r));
      onClose();
    } catch (err) {
      setError(errorText(err));
    }
  };
  return (
    <Dialog
      title={`Remove ${line.ref === line.image.id ? shortId(line.image.id) : line.ref}`}
      onClose={onClose}
      footer={
        <>
          <button onClick={onClose}>Cancel</button>
          <button className="danger" onClick={() => void submit()}>
            Remove
          </button>
        </>
      }
    >
      {tags > 1 && (
        <div role="radiogroup" aria-label="What to remove">
          <label className="check">
            <input type="radio" checked={mode === 'untag'} onChange={() => setMode('untag')} /> Untag <strong>{line.ref}</strong> only (the image keeps its {tags - 1} other tag{tags > 2 ? 's' : ''})
          </label>
          <label className="check">
            <input type="radio" checked={mode === 'delete'} onChange={() => setMode('delete')} /> Delete the image and all {tags} tags
          </label>
        </div>
      )}
      {inUse && <p className="warn">Containers use this image; the engine refuses to delete it unless forced.</p>}
      <label className="check">
        <input type="checkbox" checked={force} onChange={(e) => setForce(e.target.checked)} /> Force
      </label>
      {error && <pre className="error-box">{error}</pre>}
    </Dialog>
  );
}
