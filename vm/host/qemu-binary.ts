/**
 * Finding QEMU: BERTH_QEMU (a packaged app points it at its bundled copy), then PATH and the usual
 * install folders per platform. A missing binary is an error that names what to install.
 */
import fs from 'node:fs';
import path from 'node:path';
import { qemuBinaryName, type GuestArch } from './qemu-args.js';

export class QemuMissingError extends Error {}

export function installHint(arch: GuestArch, platform: NodeJS.Platform = process.platform): string {
  if (platform === 'darwin') return 'install QEMU: `brew install qemu`';
  if (platform === 'win32') return 'install QEMU for Windows (qemu.org/download) or set BERTH_QEMU to qemu-system-x86_64.exe';
  return `install QEMU: \`apt-get install ${arch === 'amd64' ? 'qemu-system-x86' : 'qemu-system-arm'} qemu-utils\` (Debian/Ubuntu) or your distribution's package`;
}

export function findQemu(arch: GuestArch, env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform, exists: (p: string) => boolean = isExecutable): string {
  const name = qemuBinaryName(arch, platform);
  if (env.BERTH_QEMU) {
    const p = fs.existsSync(env.BERTH_QEMU) && fs.statSync(env.BERTH_QEMU).isDirectory() ? path.join(env.BERTH_QEMU, name) : env.BERTH_QEMU;
    if (exists(p)) return p;
    throw new QemuMissingError(`BERTH_QEMU points at ${p}, which is not an executable ${name}: ${installHint(arch, platform)}, or point BERTH_QEMU at an installed one`);
  }
  const sep = platform === 'win32' ? ';' : ':';
  const dirs = (env.PATH ?? '').split(sep).filter(Boolean);
  if (platform === 'darwin') dirs.push('/opt/homebrew/bin', '/usr/local/bin', '/opt/local/bin');
  if (platform === 'win32') dirs.push(path.join(env.ProgramFiles ?? 'C:\\Program Files', 'qemu'));
  if (platform === 'linux') dirs.push('/usr/bin', '/usr/local/bin');
  for (const d of dirs) {
    const p = path.join(d, name);
    if (exists(p)) return p;
  }
  throw new QemuMissingError(`${name} was not found: ${installHint(arch, platform)}`);
}

/** qemu-img next to the QEMU binary, else on PATH. */
export function qemuImgFor(qemu: string, platform: NodeJS.Platform = process.platform): string {
  const name = platform === 'win32' ? 'qemu-img.exe' : 'qemu-img';
  const beside = path.join(path.dirname(qemu), name);
  if (isExecutable(beside)) return beside;
  for (const d of (process.env.PATH ?? '').split(platform === 'win32' ? ';' : ':')) {
    const p = path.join(d, name);
    if (isExecutable(p)) return p;
  }
  throw new QemuMissingError(`qemu-img was not found (needed for the VM's data disk): ${platform === 'linux' ? 'install it: `apt-get install qemu-utils`' : 'it comes with QEMU'}`);
}

function isExecutable(p: string): boolean {
  try {
    fs.accessSync(p, fs.constants.X_OK);
    return fs.statSync(p).isFile();
  } catch {
    return false;
  }
}
