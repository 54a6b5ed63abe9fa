/**
 * The docker context `berth` for the VM's engine socket, written as the docker CLI stores contexts
 * ($DOCKER_CONFIG/contexts/meta/<sha256 of the name>/meta.json), so `docker context use berth` and
 * `docker --context berth` work without Berth on the PATH. The current context is left alone.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export function dockerConfigDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.DOCKER_CONFIG ?? path.join(os.homedir(), '.docker');
}

export function contextMetaFile(name: string, env: NodeJS.ProcessEnv = process.env): string {
  return path.join(dockerConfigDir(env), 'contexts', 'meta', createHash('sha256').update(name).digest('hex'), 'meta.json');
}

/** Creates or updates the context; returns true when the file changed. */
export function ensureDockerContext(name: string, host: string, description: string, env: NodeJS.ProcessEnv = process.env): boolean {
  const file = contextMetaFile(name, env);
  const meta = { Name: name, Metadata: { Description: description }, Endpoints: { docker: { Host: host, SkipTLSVerify: false } } };
  const text = JSON.stringify(meta);
  try {
    if (fs.readFileSync(file, 'utf8') === text) return false;
  } catch {
    // Not there yet.
  }
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o755 });
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, text, { mode: 0o644 });
  fs.renameSync(tmp, file);
  return true;
}
