/** The dashboard's frame: header (engine), sidebar, the current page, dialogs, and global shortcuts. */
import { useEffect } from 'react';
import { useSession, activeEngine } from './stores/session.js';
import { useModel } from './stores/model.js';
import { navigate, useUi } from './stores/ui.js';
import { resync } from './stores/sync.js';
import { sectionOf, type Route } from './lib/route.js';
import { Header } from './pages/Header.js';
import { Sidebar, NAV } from './pages/Sidebar.js';
import { EngineGate } from './pages/engine/EngineGate.js';
import { ContainersPage } from './pages/containers/ContainersPage.js';
import { ContainerDetail } from './pages/containers/ContainerDetail.js';
import { ProjectPage } from './pages/projects/ProjectPage.js';
import { DiskUsagePage } from './pages/disk/DiskUsagePage.js';
import { ImagesPage } from './pages/images/ImagesPage.js';
import { ImageDetail } from './pages/images/ImageDetail.js';
import { BuildsPage } from './pages/builds/BuildsPage.js';
import { PullDialog } from './pages/images/PullDialog.js';
import { RunDialog } from './pages/images/RunDialog.js';
import { VolumesPage } from './pages/volumes/VolumesPage.js';
import { VolumeDetail } from './pages/volumes/VolumeDetail.js';
import { NetworksPage } from './pages/networks/NetworksPage.js';
import { NetworkDetail } from './pages/networks/NetworkDetail.js';
import { EnginesPage } from './pages/engine/EnginesPage.js';
import { TroubleshootPage } from './pages/engine/TroubleshootPage.js';
import { SettingsPage } from './pages/settings/SettingsPage.js';
import { CommandPalette } from './pages/CommandPalette.js';
import { Toasts } from './components/Toasts.js';

function Page({ route }: { route: Route }) {
  switch (route.page) {
    case 'containers':
      return <ContainersPage />;
    case 'container':
      return <ContainerDetail id={route.id} tab={route.tab} />;
    case 'project':
      return <ProjectPage name={route.name} />;
    case 'disk':
      return <DiskUsagePage />;
    case 'images':
      return <ImagesPage />;
    case 'image':
      return <ImageDetail id={route.id} />;
    case 'builds':
      return <BuildsPage />;
    case 'volumes':
      return <VolumesPage />;
    case 'volume':
      return <VolumeDetail name={route.name} path={route.path} />;
    case 'networks':
      return <NetworksPage />;
    case 'network':
      return <NetworkDetail id={route.id} />;
    case 'engines':
      return <EnginesPage />;
    case 'troubleshoot':
      return <TroubleshootPage />;
    case 'settings':
      return <SettingsPage />;
  }
}

/** Pages that work without a reachable engine. */
const ENGINE_FREE = new Set(['engines', 'troubleshoot', 'settings']);

export function isTypingTarget(t: EventTarget | null): boolean {
  const el = t as HTMLElement | null;
  return !!el && (el.tagName === 'INPUT' || el.tagName === 'TEXTAREA' || el.tagName === 'SELECT' || el.isContentEditable || !!el.closest?.('.xterm'));
}

export function App() {
  const route = useUi((s) => s.route);
  const paletteOpen = useUi((s) => s.paletteOpen);
  const pullOpen = useUi((s) => s.pullOpen);
  const runImage = useUi((s) => s.runImage);

  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      const mod = e.ctrlKey || e.metaKey;
      if (mod && !e.shiftKey && e.key.toLowerCase() === 'k') {
        e.preventDefault();
        useUi.setState((s) => ({ paletteOpen: !s.paletteOpen }));
        return;
      }
      if (e.altKey && !mod && /^[1-9]$/.test(e.key) && NAV[Number(e.key) - 1]) {
        e.preventDefault();
        navigate({ page: NAV[Number(e.key) - 1]!.page } as Route);
        return;
      }
      if (e.altKey && !mod && e.key.toLowerCase() === 'r') {
        e.preventDefault();
        resync();
        return;
      }
      if (e.key === '/' && !mod && !isTypingTarget(e.target)) {
        const search = document.querySelector<HTMLInputElement>('[data-search]');
        if (search) {
          e.preventDefault();
          search.focus();
          search.select();
        }
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, []);

  return (
    <div className="app">
      <a className="skip" href="#main">
        Skip to content
      </a>
      <Header />
      <div className="body">
        <Sidebar current={sectionOf(route)} />
        <main id="main" tabIndex={-1}>
          {ENGINE_FREE.has(route.page) ? (
            <Page route={route} />
          ) : (
            <EngineGate>
              <Page route={route} />
            </EngineGate>
          )}
        </main>
      </div>
      {paletteOpen && <CommandPalette />}
      {pullOpen && <PullDialog onClose={() => useUi.setState({ pullOpen: false })} />}
      {runImage !== null && <RunDialog image={runImage} onClose={() => useUi.setState({ runImage: null })} />}
      <Toasts />
    </div>
  );
}

export { activeEngine, useModel, useSession };
