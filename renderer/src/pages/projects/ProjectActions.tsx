/** Start / Stop / Restart / Remove for a whole compose project (in its group row and on its page). */
import { useState } from 'react';
import type { ContainerRow } from '../../../../electron/contract/models.js';
import { usePending } from '../../stores/pending.js';
import { ConfirmDialog } from '../../components/Dialog.js';
import { Icon } from '../../components/Icon.js';
import { removeProject, runProjectAction } from './project-actions.js';

export function ProjectActions({ project, rows, compact, onRemoved }: { project: string; rows: ContainerRow[]; compact?: boolean; onRemoved?: () => void }) {
  const ids = rows.map((r) => r.id);
  const busy = usePending((s) => ids.some((id) => s.ops.has(id)));
  const [removing, setRemoving] = useState(false);
  const [volumes, setVolumes] = useState(false);
  const anyRunning = rows.some((r) => r.state === 'running');
  const anyStopped = rows.some((r) => r.state !== 'running');
  const btn = (label: string, icon: 'play' | 'stop' | 'restart' | 'trash', onClick: () => void, enabled: boolean, danger = false) =>
    compact ? (
      <button className={`small ${danger ? 'danger' : ''}`} aria-label={`${label} project ${project}`} title={`${label} project`} disabled={busy || !enabled} onClick={onClick}>
        <Icon name={icon} />
      </button>
    ) : (
      <button className={danger ? 'danger' : undefined} aria-label={`${label} project ${project}`} disabled={busy || !enabled} onClick={onClick}>
        {label}
      </button>
    );
  return (
    <span className={compact ? 'row-actions project-actions' : 'toolbar project-actions'}>
      {btn('Start', 'play', () => void runProjectAction(project, ids, 'start'), anyStopped)}
      {btn('Stop', 'stop', () => void runProjectAction(project, ids, 'stop'), anyRunning)}
      {btn('Restart', 'restart', () => void runProjectAction(project, ids, 'restart'), rows.length > 0)}
      {btn('Remove', 'trash', () => setRemoving(true), rows.length > 0, true)}
      {removing && (
        <ConfirmDialog
          title={`Remove project ${project}`}
          message={
            <p>
              Stops and deletes its {rows.length} container{rows.length === 1 ? '' : 's'} and the networks compose made for it, as <code>docker compose down</code> does.
            </p>
          }
          confirmLabel="Remove"
          danger
          option={{ label: "Also delete the project's volumes", value: volumes, onChange: setVolumes }}
          onCancel={() => setRemoving(false)}
          onConfirm={() => {
            setRemoving(false);
            void removeProject(project, ids, volumes).then((ok) => ok && onRemoved?.());
          }}
        />
      )}
    </span>
  );
}
