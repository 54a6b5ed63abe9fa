/**
 * `berth vm start|stop|restart|status|logs|shell|build`: the VM from the command line, through
 * the VM controller (vm/host/controller.ts). Start prints each boot step and then the time from
 * launch to engine ready with the accelerator used.
 */
import { parseArgs } from 'node:util';
import { berthPaths } from '../backend/paths.js';
import { SettingsStore } from '../backend/settings/settings-store.js';
import { localVm } from '../../vm/host/local-vm.js';
import type { HostStatus, VmController } from '../../vm/host/controller.js';
import type { VmStatus } from '../../vm/host/machine.js';

function vm(): VmController {
  const paths = berthPaths();
  const settings = new SettingsStore(paths.configDir);
  return localVm(paths, () => settings.get().vm);
}

const secs = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

export function describeTimings(s: Pick<VmStatus, 'timings' | 'accelerator'>): string {
  const t = s.timings;
  if (!t) return '';
  return `launch → engine ready ${secs(t.totalMs)} with ${s.accelerator} (QEMU ${secs(t.qemuMs)}, kernel ${secs(t.kernelMs)}, init ${secs(t.initMs)}, berthd ${secs(t.engineMs)})`;
}

export function vmProgressPrinter(out: NodeJS.WritableStream = process.stdout): (s: VmStatus) => void {
  let last = '';
  return (s) => {
    const line = s.state === 'starting' ? `  ${s.step ?? 'starting'}${s.accelerator ? ` (${s.accelerator})` : ''}` : '';
    if (line && line !== last) out.write(`${line}\n`);
    last = line;
  };
}

export function printVmReady(s: HostStatus, out: NodeJS.WritableStream = process.stdout): void {
  out.write(`Berth VM is running: ${describeTimings(s)}\n`);
  if (s.accelerator === 'tcg') out.write(`  accelerator: tcg (software emulation): ${s.acceleratorNotes.join('; ')}\n`);
  out.write(`  engine API: ${s.dockerHost}${s.dockerContext ? ` (docker context "${s.dockerContext}": docker context use ${s.dockerContext})` : ''}\n`);
  out.write(`  export DOCKER_HOST=${s.dockerHost}\n`);
}

function errorText(err: unknown): string {
  const e = err as Error & { consoleTail?: string };
  return `berth: ${e.message}${e.consoleTail ? `\n--- VM console (last lines) ---\n${e.consoleTail}` : ''}\n`;
}

async function shell(c: VmController): Promise<number> {
  const tty = process.stdin.isTTY && process.stdout.isTTY;
  const { socket, resize } = await c.openShell(process.stdout.rows || 24, process.stdout.columns || 80, process.env.TERM ?? 'xterm-256color');
  if (tty) {
    process.stdin.setRawMode(true);
    process.stdout.on('resize', () => void resize(process.stdout.rows, process.stdout.columns).catch(() => undefined));
  }
  process.stdin.pipe(socket);
  socket.pipe(process.stdout);
  await new Promise<void>((resolve) => socket.once('close', () => resolve()));
  if (tty) process.stdin.setRawMode(false);
  process.stdin.unpipe(socket);
  process.stdin.pause();
  return 0;
}

export async function vmCommand(args: string[], usage: string): Promise<number> {
  const [sub, ...rest] = args;
  const c = vm();
  try {
    switch (sub) {
      case 'start': {
        process.stdout.write('Starting the Berth VM...\n');
        printVmReady(await c.start(vmProgressPrinter()));
        return 0;
      }
      case 'stop': {
        const r = await c.stop();
        process.stdout.write(r === 'stopped' ? 'Berth VM stopped\n' : 'The Berth VM is not running\n');
        return 0;
      }
      case 'restart': {
        await c.stop();
        process.stdout.write('Starting the Berth VM...\n');
        printVmReady(await c.start(vmProgressPrinter()));
        return 0;
      }
      case 'status': {
        const { values } = parseArgs({ args: rest, options: { json: { type: 'boolean' } }, strict: true });
        const s = await c.status();
        if (values.json) {
          process.stdout.write(JSON.stringify(s ?? { state: 'stopped' }, null, 2) + '\n');
          return s?.state === 'running' ? 0 : 1;
        }
        if (!s) {
          process.stdout.write(`stopped (engine API would be on ${c.paths.dockerSocket})\n`);
          return 1;
        }
        process.stdout.write(`${s.state}${s.step ? ` (${s.step})` : ''}${s.accelerator ? `, ${s.accelerator}` : ''}, ${s.resources.cpus} CPUs, ${s.resources.memoryMiB} MiB, ${s.resources.diskGiB} GiB disk, ${s.resources.arch}, kernel ${s.image.kernelRelease ?? '?'}\n`);
        if (s.timings) process.stdout.write(`${describeTimings(s)}\n`);
        process.stdout.write(`engine API: ${s.dockerHost}${s.dockerContext ? ` (docker context ${s.dockerContext})` : ''}\n`);
        process.stdout.write(`accelerator choice: ${s.acceleratorNotes.join('; ')}\n`);
        if (s.diskNote) process.stdout.write(`${s.diskNote}\n`);
        if (s.fileSharing) process.stdout.write(`shared folders: ${s.fileSharing.shares.map((f) => `${f.path} (${f.transport ?? '9p'}${f.readOnly ? ', read-only' : ''})`).join(', ')}\nfile sharing: ${s.fileSharing.why}\n`);
        if (s.error) process.stdout.write(`error: ${s.error}\n${s.consoleTail ? `--- VM console (last lines) ---\n${s.consoleTail}\n` : ''}`);
        return s.state === 'running' ? 0 : 1;
      }
      case 'logs': {
        const { values } = parseArgs({ args: rest, options: { tail: { type: 'string', short: 'n' }, engine: { type: 'boolean' }, host: { type: 'boolean' } }, strict: true });
        const n = values.tail === undefined ? 100 : Number(values.tail);
        if (!Number.isInteger(n) || n < 1) {
          process.stderr.write(`berth: invalid line count "${values.tail}"\n`);
          return 125;
        }
        const text = values.engine ? await c.engineLog(n) : values.host ? c.hostLog(n) : c.consoleLog(n);
        process.stdout.write(text.endsWith('\n') || !text ? text : `${text}\n`);
        return 0;
      }
      case 'shell':
        return await shell(c);
      case 'build': {
        const { values } = parseArgs({ args: rest, options: { arch: { type: 'string', default: 'amd64' } }, strict: true });
        const { buildImage, describeBuild, pruneImages } = await import('../../vm/image/build.js');
        const arches: Array<'amd64' | 'arm64'> = values.arch === 'all' ? ['amd64', 'arm64'] : values.arch === 'amd64' || values.arch === 'arm64' ? [values.arch] : [];
        if (!arches.length) {
          process.stderr.write(`berth: --arch must be amd64, arm64 or all\n`);
          return 125;
        }
        const results = await Promise.all(arches.map((arch) => buildImage({ arch, log: (m) => process.stderr.write(`vm build: ${m}\n`) })));
        pruneImages(new (await import('../../vm/image/store.js')).ImageStore());
        for (const r of results) process.stdout.write(`${describeBuild(r)}\n`);
        return 0;
      }
      default:
        process.stderr.write(`berth: unknown vm command "${sub ?? ''}"\n\n${usage}`);
        return 125;
    }
  } catch (err) {
    process.stderr.write(errorText(err));
    return 1;
  }
}
