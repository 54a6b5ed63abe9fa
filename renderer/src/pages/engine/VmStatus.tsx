/**
 * The Berth VM's state for people: the boot's steps (starting QEMU → booting the kernel → starting
 * the engine → running) with the current one marked, the accelerator it runs with, and the
 * console's last lines when it failed. Shown by the engine gate, the Engines page and Settings.
 */
import type { EngineInfo } from '../../../../electron/contract/models.js';

/** The host agent's step names (vm/host/machine.ts), in boot order, and what the page calls them. */
export const VM_BOOT_STEPS: Array<{ step: string; label: string }> = [
  { step: 'Starting QEMU', label: 'Starting' },
  { step: 'Booting the kernel', label: 'Booting kernel' },
  { step: 'Starting the engine', label: 'Engine starting' },
  { step: 'running', label: 'Running' },
];

export function bootStepIndex(e: Pick<EngineInfo, 'state' | 'progress'>): number {
  if (e.state === 'running') return VM_BOOT_STEPS.length - 1;
  if (e.state !== 'starting') return -1;
  const i = VM_BOOT_STEPS.findIndex((s) => s.step === e.progress?.step);
  return i < 0 ? 0 : i;
}

export function acceleratorText(e: Pick<EngineInfo, 'vm'>): string | undefined {
  const a = e.vm?.accelerator;
  if (!a) return undefined;
  return a === 'tcg' ? `tcg (${e.vm?.acceleratorNote ?? 'software emulation'})` : a;
}

export function VmBootSteps({ engine }: { engine: EngineInfo }) {
  const current = bootStepIndex(engine);
  if (engine.state === 'stopping') return <p className="progress-text" data-vm-step="stopping">{engine.progress?.step ?? 'Stopping'}…</p>;
  if (current < 0) return null;
  return (
    <ol className="vm-steps" aria-label="VM boot progress" data-vm-step={VM_BOOT_STEPS[current]!.step}>
      {VM_BOOT_STEPS.map((s, i) => (
        <li key={s.step} className={i < current || engine.state === 'running' ? 'done' : i === current ? 'current' : 'todo'} aria-current={i === current ? 'step' : undefined}>
          {s.label}
        </li>
      ))}
    </ol>
  );
}

export function VmAccelerator({ engine }: { engine: EngineInfo }) {
  const text = acceleratorText(engine);
  if (!text || engine.state === 'stopped') return null;
  return (
    <span className="muted small-text" data-vm-accelerator={engine.vm?.accelerator} title={engine.vm?.acceleratorNote}>
      Accelerator: {text}
      {engine.vm?.bootSeconds && engine.state === 'running' ? ` · booted in ${engine.vm.bootSeconds} s` : ''}
    </span>
  );
}

export function VmConsoleTail({ engine }: { engine: EngineInfo }) {
  if (engine.state !== 'error' || !engine.vm?.consoleTail) return null;
  return (
    <details open className="vm-console-tail">
      <summary>The VM's console, last lines</summary>
      <pre className="log-box" data-vm-console-tail>
        {engine.vm.consoleTail}
      </pre>
    </details>
  );
}
