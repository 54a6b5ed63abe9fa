/** Small shared pieces: status badges, empty states, a copy button. */
import type { ReactNode } from 'react';
import type { ContainerState, EngineState, Port } from '../../../electron/contract/models.js';
import { stateColor } from '../lib/containers.js';
import { portLabel, portUrl } from '../lib/format.js';
import { toast } from '../stores/ui.js';

export function StateBadge({ state, text, title }: { state: ContainerState; text?: string; title?: string }) {
  return (
    <span className={`badge ${stateColor(state)}`} data-state={state} title={title}>
      <span className="dot" aria-hidden="true" />
      {text ?? state}
    </span>
  );
}

export function engineColor(state: EngineState): string {
  switch (state) {
    case 'running':
      return 'green';
    case 'starting':
    case 'stopping':
      return 'blue';
    case 'error':
    case 'unreachable':
      return 'red';
    default:
      return 'grey';
  }
}

export function EngineBadge({ state }: { state: EngineState }) {
  return (
    <span className={`badge ${engineColor(state)}`} data-engine-state={state}>
      <span className="dot" aria-hidden="true" />
      {state}
    </span>
  );
}

/** Published ports as links (tcp with a host port) or plain text. */
export function PortLinks({ ports }: { ports: Port[] }) {
  return (
    <span className="ports">
      {ports.map((p) => {
        const url = portUrl(p);
        const key = `${p.ip ?? ''}:${portLabel(p)}`;
        return url ? (
          <a key={key} className="port" href={url} target="_blank" rel="noopener noreferrer" title={`Open ${url}`}>
            {portLabel(p)}
          </a>
        ) : (
          <span key={key} className="port plain">
            {portLabel(p)}
          </span>
        );
      })}
    </span>
  );
}

export function Empty({ title, children }: { title: string; children?: ReactNode }) {
  return (
    <div className="empty">
      <h3>{title}</h3>
      {children}
    </div>
  );
}

export async function copyText(text: string): Promise<void> {
  try {
    await navigator.clipboard.writeText(text);
    toast('success', 'Copied');
  } catch {
    toast('error', 'The clipboard is not available here');
  }
}

export function CopyButton({ text, label = 'Copy' }: { text: string; label?: string }) {
  return <button onClick={() => void copyText(text)}>{label}</button>;
}

/** Saves bytes or text as a file through the browser's download (Electron shows its save dialog). */
export function downloadBlob(name: string, data: BlobPart[], type = 'application/octet-stream'): void {
  const url = URL.createObjectURL(new Blob(data, { type }));
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.appendChild(a);
  a.click();
  a.remove();
  // Revoked on the next task, once the download has the data.
  setTimeout(() => URL.revokeObjectURL(url), 0);
}
