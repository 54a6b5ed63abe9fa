/**
 * Shows what to do instead of an empty screen: while connecting, when no
 * engine is found (first run), when Berth's own engine is stopped, and when
 * the active engine cannot be reached (with the reason and the retry).
 */
import { useState, type ReactNode } from 'react';
import { api } from '../../api/client.js';
import { errorText } from '../../stores/ui.js';
import { useSession, activeEngine } from '../../stores/session.js';
import { useModel } from '../../stores/model.js';
import { navigate } from '../../stores/ui.js';
import { resync } from '../../stores/sync.js';
import { engineAction, switchEngine } from './engine-actions.js';
import { VmAccelerator, VmBootSteps, VmConsoleTail } from './VmStatus.js';
import { useClock } from '../../stores/clock.js';
import { PROBLEM_TEXT } from '../../api/transport.js';

function hintsFor(host: string): string[] {
  if (host.startsWith('ssh://')) return ['Check that you can run "ssh ' + host.replace('ssh://', '') + ' docker version" from a terminal.', 'Berth uses your ssh agent (SSH_AUTH_SOCK) for keys.'];
  if (host.startsWith('tcp://')) return ['Check that the engine listens on that address and that a firewall does not block it.', 'For TLS, the context needs ca.pem, cert.pem and key.pem.'];
  return ['Check that the engine is running and that you may open its socket (permissions, group membership).'];
}

export function EngineGate({ children }: { children: ReactNode }) {
  const connection = useSession((s) => s.connection);
  const connectionError = useSession((s) => s.connectionError);
  const enginesLoaded = useSession((s) => s.enginesLoaded);
  const engines = useSession((s) => s.engines);
  const engine = useSession(activeEngine);
  const status = useModel((s) => s.status);
  const error = useModel((s) => s.error);
  const retryAt = useModel((s) => s.retryAt);
  const problem = useSession((s) => s.connectionProblem);
  const wasConnected = useSession((s) => s.wasConnected);

  // Berth itself (the app's backend, or `berth dashboard`) is out of reach: that is not the engine's fault.
  if (connection !== 'open' && (wasConnected || problem)) {
    return (
      <section className="gate disconnected" role="alert" data-connection={problem ?? connection}>
        <h1>{problem === 'token-refused' ? 'This page is no longer signed in to berth dashboard' : 'Lost the connection to Berth'}</h1>
        <p>{problem ? PROBLEM_TEXT[problem] : (connectionError ?? 'Reconnecting…')}</p>
        {problem !== 'token-refused' && <p className="muted">Reconnecting automatically; the engine and its containers are not affected.</p>}
      </section>
    );
  }
  if (connection !== 'open' && !enginesLoaded) {
    return (
      <section className="gate" aria-live="polite">
        <h1>{connection === 'connecting' ? 'Connecting to Berth…' : 'Not connected to Berth'}</h1>
        {connectionError && <p>{connectionError}</p>}
      </section>
    );
  }
  if (!enginesLoaded) return <section className="gate">Loading engines…</section>;
  if (!engine) {
    return (
      <section className="gate first-run">
        <h1>Welcome to Berth</h1>
        <p>No container engine was found. Berth runs its own engine on Linux, or connects to any Docker engine.</p>
        <ul>
          <li>Set DOCKER_HOST or create a docker context, then restart Berth, or</li>
          <li>
            add an engine on the{' '}
            <a href="#/engines" onClick={(e) => (e.preventDefault(), navigate({ page: 'engines' }))}>
              Engines
            </a>{' '}
            page.
          </li>
        </ul>
      </section>
    );
  }
  if (engine.controllable && engine.state !== 'running' && status !== 'connected') {
    const starting = engine.state === 'starting';
    return (
      <section className="gate first-run" aria-live="polite">
        <h1>{starting ? `Starting ${engine.name}…` : engine.state === 'error' ? `${engine.name} failed` : `${engine.name} is not running`}</h1>
        {engine.kind === 'vm' && <VmBootSteps engine={engine} />}
        {engine.kind === 'vm' && (
          <p>
            <VmAccelerator engine={engine} />
          </p>
        )}
        {engine.progress && (
          <p className="progress-text">
            {engine.progress.step}
            {engine.progress.detail ? ` — ${engine.progress.detail}` : ''}
          </p>
        )}
        {engine.error && <pre className="error-box">{engine.error}</pre>}
        {engine.kind === 'vm' && <VmConsoleTail engine={engine} />}
        {engine.kind === 'berth' && <ServiceHint error={engine.error} />}
        {!starting && engine.kind === 'vm' && <p>Berth runs its engine (berthd) in a small Linux VM. Start it to manage containers; the VM's disk keeps your images, containers and volumes.</p>}
        {!starting && engine.kind !== 'vm' && (
          <p>
            Berth runs its engine (berthd) for you. Start it to manage containers; containers that were running keep running while it is stopped.
          </p>
        )}
        <div className="actions">
          <button className="primary" disabled={starting || engine.state === 'stopping'} onClick={() => void engineAction(engine.id, 'start')}>
            {engine.state === 'error' ? 'Try again' : engine.kind === 'vm' ? 'Start VM' : 'Start engine'}
          </button>
          <button onClick={() => navigate({ page: 'troubleshoot' })}>Troubleshoot</button>
          {engines.length > 1 && <SwitchEngine current={engine.id} />}
        </div>
      </section>
    );
  }
  if (status === 'unreachable') {
    return (
      <section className="gate unreachable" role="alert">
        <h1>Engine unreachable</h1>
        <p>
          Berth cannot reach <strong>{engine.name}</strong> at <code>{engine.host}</code>.
        </p>
        {error && <pre className="error-box">{error}</pre>}
        <ul>
          {hintsFor(engine.host).map((h) => (
            <li key={h}>{h}</li>
          ))}
        </ul>
        <RetryCountdown at={retryAt} />
        <div className="actions">
          <button className="primary" onClick={() => resync()}>
            Retry now
          </button>
          <button onClick={() => navigate({ page: 'troubleshoot' })}>Troubleshoot</button>
          {engines.length > 1 && <SwitchEngine current={engine.id} />}
        </div>
      </section>
    );
  }
  return <>{children}</>;
}

/**
 * On Linux, berthd runs as root: a desktop user starts it through the berth.service system unit.
 * When that is not installed, say how to install it (or do it, in the desktop app).
 */
function ServiceHint({ error }: { error: string | undefined }) {
  const caps = useSession((s) => s.capabilities);
  const [state, setState] = useState<'idle' | 'installing' | 'done'>('idle');
  const [failure, setFailure] = useState<string>();
  if (caps?.engineService !== 'not-installed' || !error || !/root/i.test(error)) return null;
  const install = async () => {
    setState('installing');
    setFailure(undefined);
    try {
      await api().call('host.installEngineService', {});
      setState('done');
    } catch (err) {
      setFailure(errorText(err));
      setState('idle');
    }
  };
  return (
    <div className="service-hint" data-service-hint>
      <p>
        Berth's engine needs root. Install it once as a system service (<code>berth.service</code>, as Docker's and Podman's packages do); you join the <code>berth</code> group that may use it.
      </p>
      {state === 'done' ? (
        <p className="ok">Installed. Log out and in again so the berth group applies, then reopen Berth.</p>
      ) : caps.canInstallService ? (
        <button className="primary" disabled={state === 'installing'} onClick={() => void install()}>
          {state === 'installing' ? 'Installing…' : 'Install engine service…'}
        </button>
      ) : (
        <p>
          In a terminal: <code>berth engine install</code>
        </p>
      )}
      {failure && <pre className="error-box">{failure}</pre>}
    </div>
  );
}

/** "next attempt in 3 s", counting down on the shared clock. */
function RetryCountdown({ at }: { at: number | undefined }) {
  const left = useClock((now) => (at === undefined ? -1 : Math.max(0, Math.ceil((at - now) / 1000))));
  return <p className="muted" data-retry-in={left}>{left < 0 ? 'Retrying automatically.' : left === 0 ? 'Retrying now…' : `Retrying automatically (next attempt in ${left} s).`}</p>;
}

function SwitchEngine({ current }: { current: string }) {
  const engines = useSession((s) => s.engines);
  return (
    <label className="inline">
      Switch to{' '}
      <select value="" onChange={(e) => e.target.value && void switchEngine(e.target.value)}>
        <option value="">another engine…</option>
        {engines
          .filter((e) => e.id !== current)
          .map((e) => (
            <option key={e.id} value={e.id}>
              {e.name} ({e.state})
            </option>
          ))}
      </select>
    </label>
  );
}
