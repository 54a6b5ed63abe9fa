/** Troubleshoot: the engine's log, its version and info, restart, and reset of all its data (confirmed by typing). */
import { useCallback, useEffect, useState } from 'react';
import { api } from '../../api/client.js';
import { activeEngine, useSession } from '../../stores/session.js';
import { attempt, errorText, toast } from '../../stores/ui.js';
import { Dialog } from '../../components/Dialog.js';
import { CopyButton, EngineBadge } from '../../components/common.js';
import { engineAction } from './engine-actions.js';

/** Why there is no log to show, and where it is instead. */
export function emptyLogText(engine: { name: string; controllable: boolean; state: string; host: string }, file: string | undefined): string {
  if (engine.controllable && engine.state === 'running')
    return `${engine.name} is running, but Berth did not start it, so its output is not in ${file ?? 'Berth\'s log'}. It is wherever it was started (for a system service: journalctl -u berth).`;
  if (engine.controllable) return `No log yet: ${engine.name} has not been started by Berth${file ? ` (it will write to ${file})` : ''}.`;
  return `Berth does not run ${engine.name}; its logs live where it runs (${engine.host}).`;
}

export function TroubleshootPage() {
  const engine = useSession(activeEngine);
  const [logs, setLogs] = useState<{ text: string; file?: string }>();
  const [info, setInfo] = useState<string>();
  const [resetOpen, setResetOpen] = useState(false);
  const [confirm, setConfirm] = useState('');
  const engineId = engine?.id;

  const load = useCallback(() => {
    if (!engineId) return;
    api()
      .call('engines.logs', { engineId, tail: 500 })
      .then(setLogs, (e) => setLogs({ text: errorText(e) }));
    api()
      .call('engines.info', { engineId })
      .then(
        (i) => setInfo(JSON.stringify(i.version, null, 2)),
        (e) => setInfo(`not reachable: ${errorText(e)}`),
      );
  }, [engineId]);
  useEffect(load, [load]);

  if (!engine) return <section className="page"><h1>Troubleshoot</h1><p>No engine selected.</p></section>;
  const reset = async () => {
    setResetOpen(false);
    setConfirm('');
    const ok = await attempt('Reset failed', () => api().call('engines.resetData', { engineId: engine.id, confirm: 'reset' }));
    if (ok) toast('success', `${engine.name}: all data deleted and the engine restarted`);
    load();
  };
  return (
    <section className="page" aria-labelledby="troubleshoot-title">
      <h1 id="troubleshoot-title">Troubleshoot</h1>
      <p>
        {engine.name} at <code>{engine.host}</code> is <EngineBadge state={engine.state} />
        {engine.error && <span className="error-text"> — {engine.error}</span>}
      </p>
      <div className="toolbar">
        <button onClick={load}>Refresh</button>
        {engine.controllable && (
          <>
            <button onClick={() => void engineAction(engine.id, engine.state === 'running' ? 'restart' : 'start')}>{engine.state === 'running' ? 'Restart engine' : 'Start engine'}</button>
            <button className="danger" onClick={() => setResetOpen(true)}>
              Reset data…
            </button>
          </>
        )}
      </div>
      <h2>Engine log{logs?.file ? <span className="muted mono"> {logs.file}</span> : null}</h2>
      <div className="toolbar">{logs?.text && <CopyButton text={logs.text} label="Copy log" />}</div>
      <pre className="log-box" data-engine-log>
        {logs ? logs.text || emptyLogText(engine, logs.file) : 'Loading…'}
      </pre>
      <h2>Version</h2>
      <pre className="log-box">{info ?? 'Loading…'}</pre>
      {resetOpen && (
        <Dialog
          title={`Reset ${engine.name}`}
          onClose={() => setResetOpen(false)}
          footer={
            <>
              <button onClick={() => setResetOpen(false)}>Cancel</button>
              <button className="danger" disabled={confirm !== 'reset'} onClick={() => void reset()}>
                Delete everything
              </button>
            </>
          }
        >
          <p>
            This removes <strong>every container, image, volume and network</strong> of this engine and restarts it. It cannot be undone.
          </p>
          <label className="field">
            Type <code>reset</code> to confirm
            <input value={confirm} onChange={(e) => setConfirm(e.target.value)} aria-label="Type reset to confirm" />
          </label>
        </Dialog>
      )}
    </section>
  );
}
