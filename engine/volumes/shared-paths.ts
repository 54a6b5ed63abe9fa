/**
 * Bind mounts in Berth's VM come only from the host folders shared into the guest (daemon.json's
 * `shared-host-paths`, written by the guest agent from the `vm.sharedFolders` setting). Anything
 * else would silently bind a folder of the VM's own disk (or create one there for `-v`), which a
 * user never meant; Docker Desktop refuses it the same way. The engine's own socket stays
 * bindable (`-v /var/run/docker.sock:...`), as Docker Desktop allows, and the daemon adds its
 * data root to the list (the builder binds heredoc scripts from its scratch folder there).
 */
import fs from 'node:fs';
import path from 'node:path';
import { InvalidParameterError } from '../errdefs.js';

export const ENGINE_SOCKET_PATHS = ['/var/run/docker.sock', '/run/docker.sock'];

function within(p: string, dir: string): boolean {
  return p === dir || p.startsWith(dir.endsWith('/') ? dir : `${dir}/`);
}

/** The path with symlinks of its existing part resolved (a link inside a share may point out of it). */
function realPath(p: string): string {
  const rest: string[] = [];
  let cur = p;
  for (;;) {
    try {
      return path.posix.join(fs.realpathSync(cur), ...rest.reverse());
    } catch {
      if (cur === '/') return p;
      rest.push(path.posix.basename(cur));
      cur = path.posix.dirname(cur);
    }
  }
}

export function mountsDeniedError(p: string): InvalidParameterError {
  return new InvalidParameterError(
    `Mounts denied: The path ${p} is not shared from the host and is not known to Berth. You can configure shared paths in Berth's settings: vm.sharedFolders (Settings -> Resources -> File sharing), then restart the VM.`,
  );
}

/** Throws Docker Desktop's "Mounts denied" when `source` is outside every shared folder (no-op outside the VM). */
export function checkSharedHostPath(source: string, shared: readonly string[] | undefined): void {
  if (!shared) return;
  const p = path.posix.normalize(source).replace(/(.)\/+$/, '$1');
  if (ENGINE_SOCKET_PATHS.includes(p)) return;
  const real = realPath(p);
  if (shared.some((d) => within(p, d)) && shared.some((d) => within(real, d))) return;
  throw mountsDeniedError(p);
}
