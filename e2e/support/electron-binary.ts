/** Where the Electron binary is, or why it is not there (npm installs the package without it here). */
import fs from 'node:fs';
import { createRequire } from 'node:module';

export function electronBinary(): { path?: string; reason: string } {
  try {
    const p = createRequire(import.meta.url)('electron') as unknown as string;
    if (typeof p === 'string' && fs.existsSync(p)) return { path: p, reason: '' };
    return { reason: `the electron package points at ${String(p)}, which does not exist` };
  } catch (err) {
    return { reason: `the Electron binary is not installed (${(err as Error).message.split('\n')[0]}; ELECTRON_SKIP_BINARY_DOWNLOAD=1?)` };
  }
}
