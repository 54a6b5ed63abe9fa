/** Signal names and numbers (Linux x86-64/arm64), parsed like Docker does ("TERM", "SIGTERM", "15"). */
import os from 'node:os';
import { InvalidParameterError } from '../errdefs.js';

const table = os.constants.signals as Record<string, number>;

export function parseSignal(sig: string | number): number {
  if (typeof sig === 'number') {
    if (sig <= 0 || sig > 64) throw new InvalidParameterError(`Invalid signal: ${sig}`);
    return sig;
  }
  const s = sig.trim().toUpperCase();
  if (/^\d+$/.test(s)) {
    const n = Number(s);
    if (n <= 0 || n > 64) throw new InvalidParameterError(`Invalid signal: ${sig}`);
    return n;
  }
  const name = s.startsWith('SIG') ? s : `SIG${s}`;
  if (/^SIGRTMIN(\+\d+)?$/.test(name)) return 34 + Number(name.split('+')[1] ?? 0);
  if (/^SIGRTMAX(-\d+)?$/.test(name)) return 64 - Number(name.split('-')[1] ?? 0);
  const n = table[name];
  if (n === undefined) throw new InvalidParameterError(`Invalid signal: ${sig}`);
  return n;
}

export function signalName(n: number): string {
  for (const [k, v] of Object.entries(table)) if (v === n) return k;
  return String(n);
}
