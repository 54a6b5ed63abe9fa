/**
 * Troubleshoot: the engine's log (for the Berth VM: berthd's log inside the VM and the VM's serial
 * console), its version and info, restart, and reset of all its data (confirmed by typing; for the VM
 * the controller stops it and deletes its disk).
 */
import { useCallback, useEffect, useState } from 'react';
import { api } from '../../api/client.js';
import { activeEngine, useSession } from '../../stores/session.js';
import { attempt, errorText, toast } from '../../stores/ui.js';
import { Dialog } from '../../components/Dialog.js';
import { CopyButton, EngineBadge } from '../../components/common.js';
import { engineAction } from './engine-actions.js';
import { VmAccelerator } from './VmStatus.js';

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
  const [consoleLog, setConsoleLog] = useState<{ text: string; file?: string }>();
  const [info, setInfo] = useState<string>();
  const [resetOpen, setResetOpen] = useState(false);
  const [confirm, setConfirm] = useState('');
  const engineId = engine?.id;
  const isVm = engine?.kind === 'vm';

  const load = useCallback(() => {
    if (!engineId) return;
    api()
      .call('engines.logs', { engineId, tail: 500 })
      .then(setLogs, (e) => setLogs({ text: errorText(e) }));
    if (isVm)
      api()
        .call('engines.logs', { engineId, tail: 500, source: 'console' })
        .then(setConsoleLog, (e) => setConsoleLog({ text: errorText(e) }));
    api()
      .call('engines.info', { engineId })
      .then(
        (i) => setInfo(JSON.stringify(i.version, null, 2)),
        (e) => setInfo(`not reachable: ${errorText(e)}`),
      );
  }, [engineId, isVm]);
  useEffect(load, [load]);

  if (!engine) return <section className="page"><h1>Troubleshoot</h1><p>No engine selected.</p></section>;
  const reset = async () => {
    setResetOpen(false);
    setConfirm('');
    const ok = await attempt('Reset failed', () => api().call('engines.resetData', { engineId: engine.id, confirm: 'reset' }));
    if (ok) toast('success', isVm ? `${engine.name}: the VM's data was deleted${engine.state === 'running' ? ' and the VM started on a blank disk' : ''}` : `${engine.name}: all data deleted and the engine restarted`);
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
            <button onClick={() => void engineAction(engine.id, engine.state === 'running' ? 'restart' : 'start')}>
              {engine.state === 'running' ? (isVm ? 'Restart VM' : 'Restart engine') : isVm ? 'Start VM' : 'Start engine'}
            </button>
            <button className="danger" onClick={() => setResetOpen(true)}>
              {isVm ? 'Reset VM data…' : 'Reset data…'}
            </button>
          </>
        )}
      </div>
      {isVm && (
        <p>
          <VmAccelerator engine={engine} />
        </p>
      )}
      <h2>{isVm ? "berthd's log (inside the VM)" : 'Engine log'}{logs?.file ? <span className="muted mono"> {logs.file}</span> : null}</h2>
      <div className="toolbar">{logs?.text && <CopyButton text={logs.text} label="Copy log" />}</div>
      <pre className="log-box" data-engine-log>
        {logs ? logs.text || emptyLogText(engine, logs.file) : 'Loading…'}
      </pre>
      {isVm && (
        <>
          <h2>
            VM console{consoleLog?.file ? <span className="muted mono"> {consoleLog.file}</span> : null}
          </h2>
          <div className="toolbar">{consoleLog?.text && <CopyButton text={consoleLog.text} label="Copy console log" />}</div>
          <pre className="log-box" data-vm-console-log>
            {consoleLog ? consoleLog.text || 'No console output yet: the VM has not been started.' : 'Loading…'}
          </pre>
        </>
      )}
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
          {isVm ? (
            <p>
              This stops the VM and deletes its disk: <strong>every container, image, volume and network</strong> in it. {engine.state === 'running' ? 'The VM then starts again on a blank disk. ' : ''}It cannot be undone.
            </p>
          ) : (
            <p>
              This removes <strong>every container, image, volume and network</strong> of this engine and restarts it. It cannot be undone.
            </p>
          )}
          <label className="field">
            Type <code>reset</code> to confirm
            <input value={confirm} onChange={(e) => setConfirm(e.target.value)} aria-label="Type reset to confirm" />
          </label>
        </Dialog>
      )}
    </section>
  );
}
