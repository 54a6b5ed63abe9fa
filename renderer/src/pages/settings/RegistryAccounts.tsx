/**
 * Registry accounts: sign in and out per registry. The engine checks the
 * credentials (POST /auth, as `docker login`); they are stored the docker
 * CLI's way (config.json or its credential helper), so the CLI and Berth
 * share them, and pulls, pushes and searches from Berth use them.
 */
import { useCallback, useEffect, useState } from 'react';
import type { RegistryAccount } from '../../../../electron/contract/models.js';
import { api } from '../../api/client.js';
import { requireEngineId, useSession } from '../../stores/session.js';
import { attempt, errorText, toast } from '../../stores/ui.js';

export function RegistryAccounts() {
  const engineId = useSession((s) => s.activeId);
  const [list, setList] = useState<{ accounts: RegistryAccount[]; configFile: string; credsStore?: string } | null>(null);
  const [listError, setListError] = useState<string>();
  const [server, setServer] = useState('');
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);
  const load = useCallback(() => {
    api()
      .call('registries.list', {})
      .then(
        (l) => {
          setList(l);
          setListError(undefined);
        },
        (e) => setListError(errorText(e)),
      );
  }, []);
  useEffect(load, [load]);

  const signIn = async () => {
    setError(undefined);
    setBusy(true);
    try {
      const r = await api().call('registries.login', { engineId: requireEngineId(), server: server.trim() || 'docker.io', username: username.trim(), password });
      toast('success', `${r.status}: ${r.server} (stored in ${r.storedIn})`);
      setPassword('');
      load();
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  };
  const signOut = async (a: RegistryAccount) => {
    const r = await attempt(`Could not sign out of ${a.display}`, () => api().call('registries.logout', { server: a.server }));
    if (r) toast('success', r.removed ? `Signed out of ${a.display}` : `Not signed in to ${a.display}`);
    load();
  };

  return (
    <div className="registry-accounts">
      {listError && <pre className="error-box">{listError}</pre>}
      {list && (
        <>
          <p className="muted">
            Shared with the docker CLI: {list.configFile}
            {list.credsStore ? ` (secrets in docker-credential-${list.credsStore})` : ''}.
          </p>
          {list.accounts.length === 0 ? (
            <p className="muted">Not signed in to any registry.</p>
          ) : (
            <ul className="plain-list accounts" aria-label="Signed-in registries">
              {list.accounts.map((a) => (
                <li key={a.server} data-registry={a.server}>
                  <strong>{a.display}</strong> {a.username ? <span>as {a.username}</span> : <span className="muted">(user unknown)</span>}
                  {a.helper && <span className="muted"> · docker-credential-{a.helper}</span>}{' '}
                  <button className="small" onClick={() => void signOut(a)} aria-label={`Sign out of ${a.display}`}>
                    Sign out
                  </button>
                </li>
              ))}
            </ul>
          )}
        </>
      )}
      <form
        className="sign-in"
        onSubmit={(e) => {
          e.preventDefault();
          void signIn();
        }}
      >
        <div className="row-fields">
          <label className="field grow">
            Registry
            <input value={server} onChange={(e) => setServer(e.target.value)} placeholder="docker.io, or host:port" aria-label="Registry" />
          </label>
          <label className="field grow">
            Username
            <input value={username} onChange={(e) => setUsername(e.target.value)} autoComplete="username" aria-label="Username" />
          </label>
          <label className="field grow">
            Password or token
            <input type="password" value={password} onChange={(e) => setPassword(e.target.value)} autoComplete="current-password" aria-label="Password or token" />
          </label>
          <button className="primary align-end" type="submit" disabled={busy || !engineId || !username.trim() || !password}>
            {busy ? 'Signing in…' : 'Sign in'}
          </button>
        </div>
        {error && (
          <pre className="error-box" role="alert">
            {error}
          </pre>
        )}
      </form>
    </div>
  );
}
