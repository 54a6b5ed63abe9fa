/**
 * Settings: appearance, desktop behaviour, registry accounts, and the engine's
 * registry configuration (written to its daemon.json), and the Berth VM's
 * resources and shared folders (VmSettings.tsx) where the VM is one of the engines.
 */
import { useEffect, useState } from 'react';
import type { SettingsPatch } from '../../../../electron/contract/models.js';
import { api } from '../../api/client.js';
import { activeEngine, useSession } from '../../stores/session.js';
import { attempt, errorText, navigate, toast } from '../../stores/ui.js';
import { RegistryAccounts } from './RegistryAccounts.js';
import { VmSettingsForm } from './VmSettings.js';

function EngineConfigForm({ engineId }: { engineId: string }) {
  const [mirrors, setMirrors] = useState('');
  const [insecure, setInsecure] = useState('');
  const [file, setFile] = useState<string>();
  const [error, setError] = useState<string>();
  useEffect(() => {
    api()
      .call('engines.getConfig', { engineId })
      .then(
        (c) => {
          setMirrors(c.registryMirrors.join('\n'));
          setInsecure(c.insecureRegistries.join('\n'));
          setFile(c.file);
        },
        (e) => setError(errorText(e)),
      );
  }, [engineId]);
  const lines = (s: string) => s.split('\n').map((l) => l.trim()).filter(Boolean);
  const save = async () => {
    setError(undefined);
    try {
      const r = await api().call('engines.setConfig', { engineId, config: { registryMirrors: lines(mirrors), insecureRegistries: lines(insecure) } });
      toast('success', r.applied === 'reloaded' ? `Saved to ${r.file}; the engine reloaded it` : `Saved to ${r.file}; restart the engine to apply it`);
    } catch (err) {
      setError(errorText(err));
    }
  };
  return (
    <form
      className="engine-config"
      onSubmit={(e) => {
        e.preventDefault();
        void save();
      }}
    >
      <p className="muted">Written to {file ?? 'the engine configuration file'}.</p>
      <label className="field">
        Registry mirrors (one URL per line)
        <textarea rows={3} value={mirrors} onChange={(e) => setMirrors(e.target.value)} aria-label="Registry mirrors" placeholder="https://mirror.example.com" />
      </label>
      <label className="field">
        Insecure registries (host:port or CIDR, one per line)
        <textarea rows={3} value={insecure} onChange={(e) => setInsecure(e.target.value)} aria-label="Insecure registries" placeholder="localhost:5000" />
      </label>
      {error && <pre className="error-box">{error}</pre>}
      <button className="primary" type="submit">
        Save engine configuration
      </button>
    </form>
  );
}

export function SettingsPage() {
  const settings = useSession((s) => s.settings);
  const caps = useSession((s) => s.capabilities);
  const engine = useSession(activeEngine);
  const vmEngine = useSession((s) => s.engines.find((e) => e.kind === 'vm'));
  if (!settings) return <section className="page"><div className="loading">Loading settings…</div></section>;
  // Optimistic: the control changes at once; the settings stream brings back what was stored (or the old value on failure).
  const update = (patch: SettingsPatch) => {
    const before = useSession.getState().settings;
    if (before) useSession.setState({ settings: { ...before, ...patch } });
    void attempt('Could not save the setting', () => api().call('settings.update', patch)).then((r) => {
      if (!r && before) useSession.setState({ settings: before });
    });
  };
  return (
    <section className="page settings-page" aria-labelledby="settings-title">
      <h1 id="settings-title">Settings</h1>
      <fieldset>
        <legend>Appearance</legend>
        <div role="radiogroup" aria-label="Theme" className="segmented">
          {(['light', 'dark', 'system'] as const).map((t) => (
            <label key={t} className="check">
              <input type="radio" name="theme" checked={settings.theme === t} onChange={() => update({ theme: t })} /> {t[0]!.toUpperCase() + t.slice(1)}
            </label>
          ))}
        </div>
      </fieldset>
      <fieldset className="checks">
        <legend>Desktop</legend>
        <label className="check">
          <input type="checkbox" checked={settings.startAtLogin} disabled={!caps?.startAtLogin} onChange={(e) => update({ startAtLogin: e.target.checked })} />
          Start Berth when I log in
        </label>
        <label className="check">
          <input type="checkbox" checked={settings.closeToTray} disabled={!caps?.closeToTray} onChange={(e) => update({ closeToTray: e.target.checked })} /> Closing the window keeps Berth in the tray
        </label>
        <label className="check">
          <input type="checkbox" checked={settings.startEngineOnLaunch} onChange={(e) => update({ startEngineOnLaunch: e.target.checked })} /> Start Berth's engine when Berth starts
        </label>
        <label className="check">
          <input type="checkbox" checked={settings.notifications} onChange={(e) => update({ notifications: e.target.checked })} /> Notifications
        </label>
        {!caps?.desktop && <p className="muted">Some options apply to the desktop app only.</p>}
      </fieldset>
      {vmEngine && (
        <fieldset id="vm-settings">
          <legend>Berth VM</legend>
          <VmSettingsForm engine={vmEngine} vm={settings.vm} />
        </fieldset>
      )}
      <fieldset>
        <legend>Registry accounts</legend>
        <RegistryAccounts />
      </fieldset>
      <fieldset>
        <legend>Engine endpoints</legend>
        <p>
          {settings.endpoints.length} added here.{' '}
          <a href="#/engines" onClick={(e) => (e.preventDefault(), navigate({ page: 'engines' }))}>
            Manage engines
          </a>
        </p>
      </fieldset>
      <fieldset>
        <legend>Engine configuration{engine ? ` — ${engine.name}` : ''}</legend>
        {engine?.configurable ? <EngineConfigForm key={engine.id} engineId={engine.id} /> : <p className="muted">{engine ? `Berth does not manage the configuration of ${engine.name}.` : 'No engine selected.'}</p>}
      </fieldset>
    </section>
  );
}
