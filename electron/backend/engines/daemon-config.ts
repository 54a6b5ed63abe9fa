/**
 * Reads and edits the engine settings Berth exposes (registry mirrors,
 * insecure registries) in a daemon.json, keeping every other key as it was.
 * Writes are atomic so a crash never leaves a torn file berthd cannot parse.
 */
import fs from 'node:fs';
import path from 'node:path';
import { writeFileAtomic } from '../../../engine/storage/atomic.js';
import type { EngineConfig } from '../../contract/models.js';
import { BackendError } from '../errors.js';

export function readDaemonJson(file: string): Record<string, unknown> {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw new BackendError(`cannot read ${file}: ${(err as Error).message}`, 500);
  }
  if (text.trim() === '') return {};
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new BackendError(`cannot parse ${file}: ${(err as Error).message} (fix or remove the file)`, 500);
  }
  if (!value || typeof value !== 'object' || Array.isArray(value)) throw new BackendError(`${file} must contain a JSON object`, 500);
  return value as Record<string, unknown>;
}

const strings = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);

export function readEngineConfig(file: string): EngineConfig {
  const json = readDaemonJson(file);
  return { registryMirrors: strings(json['registry-mirrors']), insecureRegistries: strings(json['insecure-registries']) };
}

export async function writeEngineConfig(file: string, config: EngineConfig): Promise<void> {
  const json = readDaemonJson(file);
  json['registry-mirrors'] = config.registryMirrors;
  json['insecure-registries'] = config.insecureRegistries;
  if (config.registryMirrors.length === 0) delete json['registry-mirrors'];
  if (config.insecureRegistries.length === 0) delete json['insecure-registries'];
  fs.mkdirSync(path.dirname(file), { recursive: true });
  await writeFileAtomic(file, JSON.stringify(json, null, 2) + '\n', { mode: 0o644 });
}
