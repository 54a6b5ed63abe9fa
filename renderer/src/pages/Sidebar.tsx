/**
 * Page navigation with live counts; Alt+1…9 jumps to each entry. The list is
 * data: a new page is one entry here.
 * Counts show only while the engine's model is live, never stale numbers.
 */
import { useShallow } from 'zustand/react/shallow';
import { useModel } from '../stores/model.js';
import { navigate } from '../stores/ui.js';
import type { Section } from '../lib/route.js';

export const NAV: ReadonlyArray<{ page: Section; label: string }> = [
  { page: 'containers', label: 'Containers' },
  { page: 'images', label: 'Images' },
  { page: 'builds', label: 'Builds' },
  { page: 'volumes', label: 'Volumes' },
  { page: 'networks', label: 'Networks' },
  { page: 'disk', label: 'Disk usage' },
  { page: 'engines', label: 'Engines' },
  { page: 'troubleshoot', label: 'Troubleshoot' },
  { page: 'settings', label: 'Settings' },
];

export function Sidebar({ current }: { current: string }) {
  const live = useModel((s) => s.status === 'connected');
  const counts: Record<string, number> = useModel(useShallow((s) => ({ containers: s.containers.size, images: s.images.size, volumes: s.volumes.size, networks: s.networks.size })));
  const running = useModel((s) => {
    let n = 0;
    for (const c of s.containers.values()) if (c.state === 'running') n++;
    return n;
  });
  return (
    <nav className="sidebar" aria-label="Pages">
      <ul>
        {NAV.map((n, i) => (
          <li key={n.page}>
            <a
              href={`#/${n.page}`}
              aria-current={current === n.page ? 'page' : undefined}
              title={`${n.label} (Alt+${i + 1})`}
              onClick={(e) => {
                e.preventDefault();
                navigate({ page: n.page });
              }}
            >
              <span>{n.label}</span>
              {!live ? null : n.page === 'containers' && counts.containers ? (
                <span className="count" title={`${running} running of ${counts.containers}`}>
                  {running}/{counts.containers}
                </span>
              ) : counts[n.page] ? (
                <span className="count">{counts[n.page]}</span>
              ) : null}
            </a>
          </li>
        ))}
      </ul>
    </nav>
  );
}
