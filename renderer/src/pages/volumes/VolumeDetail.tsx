/** One volume: where it lives, who uses it, and its files. */
import { api } from '../../api/client.js';
import { useModel } from '../../stores/model.js';
import { useSession } from '../../stores/session.js';
import { navigate } from '../../stores/ui.js';
import { FileBrowser } from '../containers/FilesView.js';

export function VolumeDetail({ name, path }: { name: string; path: string }) {
  const v = useModel((s) => s.volumes.get(name));
  const users = useModel((s) => [...s.containers.values()].filter((c) => c.volumes.includes(name)).map((c) => c.name).join(', '));
  const engineId = useSession((s) => s.activeId);
  return (
    <section className="page" aria-labelledby="volume-title">
      <a href="#/volumes" className="back" onClick={(e) => (e.preventDefault(), navigate({ page: 'volumes' }))}>
        ← Volumes
      </a>
      <h1 id="volume-title">{name}</h1>
      {v && (
        <p className="muted">
          {v.driver} · <span className="mono">{v.mountpoint}</span> · {users ? `used by ${users}` : 'unused'}
        </p>
      )}
      {engineId && <FileBrowser path={path} onPath={(p) => navigate({ page: 'volume', name, path: p })} list={(p) => api().call('volumes.listFiles', { engineId, name, path: p })} />}
    </section>
  );
}
