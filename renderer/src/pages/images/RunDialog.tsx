/**
 * The Run dialog: the `docker run` flags most people use (name, published
 * ports with a host address and "random", ports prefilled from the image's
 * EXPOSE, volumes and bind mounts with a folder picker in the desktop app,
 * environment, command, network, memory and CPU limits, restart policy,
 * interactive), "Copy as docker run", and — as `docker run` does — a pull
 * with progress when the image is not there yet. Then it opens the new
 * container.
 */
import { useEffect, useRef, useState } from 'react';
import type { RunSpec } from '../../../../electron/contract/models.js';
import { RpcError } from '../../../../electron/contract/client.js';
import { api } from '../../api/client.js';
import { useModel } from '../../stores/model.js';
import { requireEngineId, useSession } from '../../stores/session.js';
import { errorText, navigate, toast } from '../../stores/ui.js';
import { Dialog } from '../../components/Dialog.js';
import { copyText } from '../../components/common.js';
import { ProgressList, useProgressStream } from './PullDialog.js';
import { dockerRunCommand, emptyForm, formToSpec, portsFromExpose, type RunForm } from './run-form.js';

export { emptyForm, formToSpec, type RunForm } from './run-form.js';

const isMissingImage = (err: unknown) => err instanceof RpcError && err.status === 404 && /unable to find image/i.test(err.message);

export function RunDialog({ image, onClose }: { image: string; onClose: () => void }) {
  const [f, setF] = useState<RunForm>(() => emptyForm(image));
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState<'idle' | 'pulling' | 'starting'>('idle');
  const canPick = useSession((s) => !!s.capabilities?.pickFolder);
  const networks = useModel((s) => [...s.networks.values()].map((n) => n.name).sort().join('\n'));
  const pull = useProgressStream();
  /** The port rows are the user's once edited: a later EXPOSE lookup must not overwrite them. */
  const portsTouched = useRef(false);
  const set = <K extends keyof RunForm>(k: K, v: RunForm[K]) => setF((prev) => ({ ...prev, [k]: v }));
  const setRow = <K extends 'ports' | 'volumes' | 'env'>(k: K, i: number, patch: Partial<RunForm[K][number]>) => {
    if (k === 'ports') portsTouched.current = true;
    setF((prev) => ({ ...prev, [k]: prev[k].map((r, j) => (j === i ? { ...r, ...patch } : r)) }));
  };
  const removeRow = (k: 'ports' | 'volumes' | 'env', i: number) => {
    if (k === 'ports') portsTouched.current = true;
    setF((prev) => ({ ...prev, [k]: prev[k].filter((_, j) => j !== i) }));
  };

  // Ports the image EXPOSEs, each on a random host port (as -P would), when the image is here.
  const [exposeFor, setExposeFor] = useState(image.trim());
  useEffect(() => {
    const ref = exposeFor;
    if (!ref) return;
    let live = true;
    api()
      .call('images.inspect', { engineId: requireEngineId(), id: ref })
      .then(
        (info) => {
          const exposed = (info.Config as { ExposedPorts?: Record<string, unknown> } | undefined)?.ExposedPorts;
          const rows = portsFromExpose(exposed);
          if (live && rows.length && !portsTouched.current) setF((prev) => ({ ...prev, ports: rows }));
        },
        () => undefined,
      );
    return () => {
      live = false;
    };
  }, [exposeFor]);

  const specOrError = (): RunSpec | undefined => {
    try {
      return formToSpec(f);
    } catch (err) {
      setError(errorText(err));
      return undefined;
    }
  };

  const run = async (spec: RunSpec, mayPull: boolean): Promise<void> => {
    setBusy('starting');
    try {
      const r = await api().call('containers.run', { engineId: requireEngineId(), spec, start: true });
      for (const w of r.warnings) toast('error', w);
      toast('success', `Started ${spec.name ?? r.id.slice(0, 12)}`);
      onClose();
      navigate({ page: 'container', id: r.id, tab: 'logs' });
    } catch (err) {
      if (mayPull && isMissingImage(err)) {
        // As docker run does: "Unable to find image locally", then pull it, then run.
        setBusy('pulling');
        pull.start('images.pull', spec.image, () => void run(spec, false));
        return;
      }
      setError(err instanceof RpcError && err.issues?.length ? err.issues.map((i) => `${i.path.replace(/^spec\./, '')}: ${i.message}`).join('\n') : errorText(err));
      setBusy('idle');
    }
  };

  // A failed pull ends the attempt with the registry's words.
  useEffect(() => {
    if (busy === 'pulling' && !pull.running && pull.state.error) {
      setError(`Unable to find image '${f.image.trim()}' locally, and the pull failed: ${pull.state.error}`);
      setBusy('idle');
    }
  }, [busy, pull.running, pull.state.error, f.image]);

  const submit = () => {
    setError(undefined);
    const spec = specOrError();
    if (spec) void run(spec, true);
  };

  const copyCommand = () => {
    setError(undefined);
    const spec = specOrError();
    if (spec) void copyText(dockerRunCommand(spec));
  };

  const pick = async (i: number) => {
    try {
      const r = await api().call('host.pickFolder', { title: 'Folder to mount' });
      if (r.path) setRow('volumes', i, { source: r.path });
    } catch (err) {
      toast('error', errorText(err));
    }
  };

  return (
    <Dialog
      title={`Run ${image || 'a container'}`}
      onClose={() => {
        pull.cancel();
        onClose();
      }}
      wide
      footer={
        <>
          <button className="footer-left" onClick={copyCommand} disabled={!f.image.trim()} title="The same container as a docker run command line">
            Copy as docker run
          </button>
          <button onClick={onClose}>Cancel</button>
          <button className="primary" disabled={busy !== 'idle' || !f.image.trim()} onClick={submit}>
            {busy === 'pulling' ? 'Pulling…' : busy === 'starting' ? 'Starting…' : 'Run'}
          </button>
        </>
      }
    >
      <form
        className="run-form"
        onSubmit={(e) => {
          e.preventDefault();
          submit();
        }}
      >
        <div className="row-fields">
          <label className="field grow">
            Image
            <input value={f.image} onChange={(e) => set('image', e.target.value)} onBlur={() => setExposeFor(f.image.trim())} aria-label="Image" />
          </label>
          <label className="field grow">
            Container name
            <input value={f.name} onChange={(e) => set('name', e.target.value)} placeholder="random if empty" aria-label="Container name" />
          </label>
        </div>
        <fieldset>
          <legend>Ports</legend>
          {f.ports.map((p, i) => (
            <div className="row-fields port-row" key={i}>
              <input className="ip" aria-label={`Host IP ${i + 1}`} placeholder="all addresses" value={p.hostIp ?? ''} onChange={(e) => setRow('ports', i, { hostIp: e.target.value })} />
              <span>:</span>
              <input className="port-input" aria-label={`Host port ${i + 1}`} placeholder="host" value={p.random ? '' : p.host} disabled={p.random} onChange={(e) => setRow('ports', i, { host: e.target.value })} inputMode="numeric" />
              <span>→</span>
              <input className="port-input" aria-label={`Container port ${i + 1}`} placeholder="container" value={p.container} onChange={(e) => setRow('ports', i, { container: e.target.value })} inputMode="numeric" />
              <select aria-label={`Protocol ${i + 1}`} value={p.protocol} onChange={(e) => setRow('ports', i, { protocol: e.target.value as 'tcp' | 'udp' })}>
                <option value="tcp">tcp</option>
                <option value="udp">udp</option>
              </select>
              <label className="check">
                <input type="checkbox" checked={p.random} onChange={(e) => setRow('ports', i, { random: e.target.checked })} aria-label={`Random host port ${i + 1}`} />
                random
              </label>
              <button type="button" className="small" aria-label={`Remove port ${i + 1}`} onClick={() => removeRow('ports', i)}>
                ×
              </button>
            </div>
          ))}
          <button
            type="button"
            className="small"
            onClick={() => {
              portsTouched.current = true;
              set('ports', [...f.ports, { host: '', container: '', random: false, protocol: 'tcp' }]);
            }}
          >
            + Port
          </button>
        </fieldset>
        <fieldset>
          <legend>Volumes and bind mounts</legend>
          {f.volumes.map((v, i) => (
            <div className="row-fields" key={i}>
              <input className="grow" aria-label={`Volume source ${i + 1}`} placeholder="volume name or /host/folder" value={v.source} onChange={(e) => setRow('volumes', i, { source: e.target.value })} />
              {canPick && (
                <button type="button" className="small" onClick={() => void pick(i)}>
                  Browse…
                </button>
              )}
              <span>→</span>
              <input className="grow" aria-label={`Container path ${i + 1}`} placeholder="/path/in/container" value={v.target} onChange={(e) => setRow('volumes', i, { target: e.target.value })} />
              <label className="check">
                <input type="checkbox" checked={v.readOnly} onChange={(e) => setRow('volumes', i, { readOnly: e.target.checked })} />
                read-only
              </label>
              <button type="button" className="small" aria-label={`Remove volume ${i + 1}`} onClick={() => removeRow('volumes', i)}>
                ×
              </button>
            </div>
          ))}
          <button type="button" className="small" onClick={() => set('volumes', [...f.volumes, { source: '', target: '', readOnly: false }])}>
            + Volume
          </button>
        </fieldset>
        <fieldset>
          <legend>Environment</legend>
          {f.env.map((v, i) => (
            <div className="row-fields" key={i}>
              <input aria-label={`Variable ${i + 1}`} placeholder="NAME" value={v.key} onChange={(e) => setRow('env', i, { key: e.target.value })} />
              <span>=</span>
              <input className="grow" aria-label={`Value ${i + 1}`} placeholder="value" value={v.value} onChange={(e) => setRow('env', i, { value: e.target.value })} />
              <button type="button" className="small" aria-label={`Remove variable ${i + 1}`} onClick={() => removeRow('env', i)}>
                ×
              </button>
            </div>
          ))}
          <button type="button" className="small" onClick={() => set('env', [...f.env, { key: '', value: '' }])}>
            + Variable
          </button>
        </fieldset>
        <label className="field">
          Command
          <input value={f.command} onChange={(e) => set('command', e.target.value)} placeholder="the image's default if empty" aria-label="Command" />
        </label>
        <div className="row-fields">
          <label className="field">
            Network
            <select value={f.network ?? ''} onChange={(e) => set('network', e.target.value)} aria-label="Network">
              <option value="">default (bridge)</option>
              {networks
                .split('\n')
                .filter((n) => n && n !== 'bridge')
                .map((n) => (
                  <option key={n} value={n}>
                    {n}
                  </option>
                ))}
            </select>
          </label>
          <label className="field">
            Memory limit
            <input className="short" value={f.memory ?? ''} onChange={(e) => set('memory', e.target.value)} placeholder="none (e.g. 512m)" aria-label="Memory limit" />
          </label>
          <label className="field">
            CPUs
            <input className="short" value={f.cpus ?? ''} onChange={(e) => set('cpus', e.target.value)} placeholder="all (e.g. 1.5)" aria-label="CPUs" inputMode="decimal" />
          </label>
          <label className="field">
            Restart policy
            <select value={f.restart} onChange={(e) => set('restart', e.target.value as RunForm['restart'])} aria-label="Restart policy">
              <option value="no">no</option>
              <option value="on-failure">on-failure</option>
              <option value="unless-stopped">unless-stopped</option>
              <option value="always">always</option>
            </select>
          </label>
        </div>
        <div className="checks">
          <label className="check">
            <input type="checkbox" checked={f.interactive} onChange={(e) => set('interactive', e.target.checked)} />
            Interactive (keep stdin open, allocate a TTY)
          </label>
          <label className="check">
            <input type="checkbox" checked={f.autoRemove} onChange={(e) => set('autoRemove', e.target.checked)} />
            Remove when it exits
          </label>
        </div>
        {busy === 'pulling' && (
          <div className="run-pull" aria-live="polite">
            <p>
              Unable to find image <strong>{f.image.trim()}</strong> locally: pulling it.
            </p>
            <ProgressList state={pull.state} />
          </div>
        )}
        {error && (
          <pre className="error-box" role="alert">
            {error}
          </pre>
        )}
        <button type="submit" hidden />
      </form>
    </Dialog>
  );
}
