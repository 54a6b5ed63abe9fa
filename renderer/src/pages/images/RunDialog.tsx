/**
 * The Run dialog: the `docker run` flags most people use (name, published
 * ports with "random", volumes and bind mounts with a folder picker in the
 * desktop app, environment, command, restart policy, interactive) — then it
 * opens the new container.
 */
import { useState } from 'react';
import type { RunSpec } from '../../../../electron/contract/models.js';
import { RpcError } from '../../../../electron/contract/client.js';
import { api } from '../../api/client.js';
import { requireEngineId, useSession } from '../../stores/session.js';
import { errorText, navigate, toast } from '../../stores/ui.js';
import { Dialog } from '../../components/Dialog.js';
import { splitCommand } from '../../lib/format.js';

interface PortRow {
  host: string;
  container: string;
  random: boolean;
  protocol: 'tcp' | 'udp';
}
interface VolumeRow {
  source: string;
  target: string;
  readOnly: boolean;
}
interface EnvRow {
  key: string;
  value: string;
}

export interface RunForm {
  image: string;
  name: string;
  ports: PortRow[];
  volumes: VolumeRow[];
  env: EnvRow[];
  command: string;
  restart: 'no' | 'always' | 'unless-stopped' | 'on-failure';
  interactive: boolean;
  autoRemove: boolean;
}

/** Turns the form into the contract's RunSpec; throws with a field-specific message on bad input. */
export function formToSpec(f: RunForm): RunSpec {
  const ports = f.ports
    .filter((p) => p.container.trim() || p.host.trim())
    .map((p, i) => {
      const containerPort = Number(p.container);
      if (!Number.isInteger(containerPort) || containerPort < 1 || containerPort > 65535) throw new Error(`port ${i + 1}: the container port must be a number from 1 to 65535`);
      if (p.random || !p.host.trim()) return { containerPort, protocol: p.protocol };
      const hostPort = Number(p.host);
      if (!Number.isInteger(hostPort) || hostPort < 1 || hostPort > 65535) throw new Error(`port ${i + 1}: the host port must be a number from 1 to 65535 (or tick "random")`);
      return { containerPort, hostPort, protocol: p.protocol };
    });
  const volumes = f.volumes
    .filter((v) => v.source.trim() || v.target.trim())
    .map((v, i) => {
      if (!v.source.trim()) throw new Error(`volume ${i + 1}: give a volume name or a host folder`);
      if (!v.target.startsWith('/')) throw new Error(`volume ${i + 1}: the container path must be absolute`);
      return { source: v.source.trim(), target: v.target.trim(), readOnly: v.readOnly };
    });
  const env = f.env.filter((e) => e.key.trim()).map((e) => ({ key: e.key.trim(), value: e.value }));
  const spec: RunSpec = { image: f.image.trim(), ports, volumes, env, cmd: splitCommand(f.command), restart: f.restart, interactive: f.interactive, autoRemove: f.autoRemove };
  if (f.name.trim()) spec.name = f.name.trim();
  return spec;
}

export const emptyForm = (image: string): RunForm => ({
  image,
  name: '',
  ports: [{ host: '', container: '', random: false, protocol: 'tcp' }],
  volumes: [],
  env: [],
  command: '',
  restart: 'no',
  interactive: false,
  autoRemove: false,
});

export function RunDialog({ image, onClose }: { image: string; onClose: () => void }) {
  const [f, setF] = useState<RunForm>(() => emptyForm(image));
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);
  const canPick = useSession((s) => !!s.capabilities?.pickFolder);
  const set = <K extends keyof RunForm>(k: K, v: RunForm[K]) => setF((prev) => ({ ...prev, [k]: v }));
  const setRow = <K extends 'ports' | 'volumes' | 'env'>(k: K, i: number, patch: Partial<RunForm[K][number]>) =>
    setF((prev) => ({ ...prev, [k]: prev[k].map((r, j) => (j === i ? { ...r, ...patch } : r)) }));
  const removeRow = (k: 'ports' | 'volumes' | 'env', i: number) => setF((prev) => ({ ...prev, [k]: prev[k].filter((_, j) => j !== i) }));

  const submit = async () => {
    setError(undefined);
    let spec: RunSpec;
    try {
      spec = formToSpec(f);
    } catch (err) {
      setError(errorText(err));
      return;
    }
    setBusy(true);
    try {
      const r = await api().call('containers.run', { engineId: requireEngineId(), spec, start: true });
      for (const w of r.warnings) toast('error', w);
      toast('success', `Started ${spec.name ?? r.id.slice(0, 12)}`);
      onClose();
      navigate({ page: 'container', id: r.id, tab: 'logs' });
    } catch (err) {
      setError(err instanceof RpcError && err.issues?.length ? err.issues.map((i) => `${i.path.replace(/^spec\./, '')}: ${i.message}`).join('\n') : errorText(err));
    } finally {
      setBusy(false);
    }
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
      onClose={onClose}
      wide
      footer={
        <>
          <button onClick={onClose}>Cancel</button>
          <button className="primary" disabled={busy || !f.image.trim()} onClick={() => void submit()}>
            {busy ? 'Starting…' : 'Run'}
          </button>
        </>
      }
    >
      <form
        className="run-form"
        onSubmit={(e) => {
          e.preventDefault();
          void submit();
        }}
      >
        <label className="field">
          Image
          <input value={f.image} onChange={(e) => set('image', e.target.value)} aria-label="Image" />
        </label>
        <label className="field">
          Container name
          <input value={f.name} onChange={(e) => set('name', e.target.value)} placeholder="random if empty" aria-label="Container name" />
        </label>
        <fieldset>
          <legend>Ports</legend>
          {f.ports.map((p, i) => (
            <div className="row-fields" key={i}>
              <input aria-label={`Host port ${i + 1}`} placeholder="host" value={p.random ? '' : p.host} disabled={p.random} onChange={(e) => setRow('ports', i, { host: e.target.value })} inputMode="numeric" />
              <span>:</span>
              <input aria-label={`Container port ${i + 1}`} placeholder="container" value={p.container} onChange={(e) => setRow('ports', i, { container: e.target.value })} inputMode="numeric" />
              <select aria-label={`Protocol ${i + 1}`} value={p.protocol} onChange={(e) => setRow('ports', i, { protocol: e.target.value as 'tcp' | 'udp' })}>
                <option value="tcp">tcp</option>
                <option value="udp">udp</option>
              </select>
              <label className="check">
                <input type="checkbox" checked={p.random} onChange={(e) => setRow('ports', i, { random: e.target.checked })} aria-label={`Random host port ${i + 1}`} /> random
              </label>
              <button type="button" className="small" aria-label={`Remove port ${i + 1}`} onClick={() => removeRow('ports', i)}>
                ×
              </button>
            </div>
          ))}
          <button type="button" className="small" onClick={() => set('ports', [...f.ports, { host: '', container: '', random: false, protocol: 'tcp' }])}>
            + Port
          </button>
        </fieldset>
        <fieldset>
          <legend>Volumes and bind mounts</legend>
          {f.volumes.map((v, i) => (
            <div className="row-fields" key={i}>
              <input aria-label={`Volume source ${i + 1}`} placeholder="volume name or /host/folder" value={v.source} onChange={(e) => setRow('volumes', i, { source: e.target.value })} />
              {canPick && (
                <button type="button" className="small" onClick={() => void pick(i)}>
                  Browse…
                </button>
              )}
              <span>→</span>
              <input aria-label={`Container path ${i + 1}`} placeholder="/path/in/container" value={v.target} onChange={(e) => setRow('volumes', i, { target: e.target.value })} />
              <label className="check">
                <input type="checkbox" checked={v.readOnly} onChange={(e) => setRow('volumes', i, { readOnly: e.target.checked })} /> read-only
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
              <input aria-label={`Value ${i + 1}`} placeholder="value" value={v.value} onChange={(e) => setRow('env', i, { value: e.target.value })} />
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
            Restart policy
            <select value={f.restart} onChange={(e) => set('restart', e.target.value as RunForm['restart'])} aria-label="Restart policy">
              <option value="no">no</option>
              <option value="on-failure">on-failure</option>
              <option value="unless-stopped">unless-stopped</option>
              <option value="always">always</option>
            </select>
          </label>
          <label className="check">
            <input type="checkbox" checked={f.interactive} onChange={(e) => set('interactive', e.target.checked)} /> Interactive (keep stdin open, allocate a TTY)
          </label>
          <label className="check">
            <input type="checkbox" checked={f.autoRemove} onChange={(e) => set('autoRemove', e.target.checked)} /> Remove when it exits
          </label>
        </div>
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
