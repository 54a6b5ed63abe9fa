/**
 * The QEMU command line for Berth's VM, per host platform, guest architecture and accelerator.
 * Pure: no I/O, so every platform's line (macOS hvf, Windows whpx, Linux kvm, tcg) is unit-tested
 * on any host. Direct kernel boot (no firmware, no bootloader), virtio devices only, every control
 * channel on a unix socket (a named pipe on Windows) — never a TCP listener.
 */
import { AGENT_PORT_NAME } from '../channel/protocol.js';

export { AGENT_PORT_NAME };
export type GuestArch = 'amd64' | 'arm64';
export type Accelerator = 'hvf' | 'whpx' | 'kvm' | 'tcg';

/** A local endpoint QEMU serves: a unix socket (Linux, macOS) or a named pipe (Windows). */
export type LocalEndpoint = { kind: 'unix'; path: string } | { kind: 'pipe'; name: string };

export interface VmImageFiles {
  kernel: string;
  initrd: string;
  /** Read-only root filesystem (squashfs): Debian packages. */
  root: string;
  /** Read-only payload filesystem (squashfs): berthd, the guest agent, their node_modules. */
  payload: string;
}

export interface QemuLaunch {
  platform: NodeJS.Platform;
  guestArch: GuestArch;
  accelerator: Accelerator;
  cpus: number;
  memoryMiB: number;
  image: VmImageFiles;
  /** qcow2 data disk (berthd's data root), formatted by the guest on first boot. */
  dataDisk: string;
  qmp: LocalEndpoint;
  agent: LocalEndpoint;
  consoleLog: string;
  pidFile: string;
  /** VM name, shown in process lists. */
  name: string;
  /** Extra kernel command line words (berth.* parameters read by the guest's init). */
  kernelArgs?: string[];
  /** Host folders shared into the guest at the same path (9p or virtiofs, mounted by the guest agent). */
  shares?: FolderShare[];
}

export interface FolderShare {
  /** Absolute host path; the guest mounts it at the same path. */
  path: string;
  readOnly: boolean;
  /** Absent: 9p. virtiofs needs `socket`, the vhost-user socket its virtiofsd listens on (file-sharing.ts). */
  transport?: '9p' | 'virtiofs';
  socket?: string;
}

/** The kernel's command line limit (x86's COMMAND_LINE_SIZE; arm64 allows more): shares must fit beside the rest. */
export const KERNEL_CMDLINE_MAX = 2048;

/** The 9p mount tag of the n-th share (tags are at most 31 bytes: paths travel on the kernel command line). */
export function shareTag(i: number): string {
  return `berth${i}`;
}

/**
 * A share as one kernel parameter, `berth.share=<tag>,<ro|rw>[,virtiofs],<path>`, the path
 * percent-encoded (the command line splits at spaces; the kernel's quoting cannot hold a quote).
 */
export function shareKernelArg(s: FolderShare, i: number): string {
  const enc = encodeURIComponent(s.path).replace(/%2F/g, '/');
  return `berth.share=${shareTag(i)},${s.readOnly ? 'ro' : 'rw'},${s.transport === 'virtiofs' ? 'virtiofs,' : ''}${enc}`;
}

/**
 * One device per share.
 * - 9p (virtio-9p-pci on QEMU's local backend). security_model=none: files are created as the QEMU
 *   process, i.e. the host user on a desktop, with the guest's modes; ownership changes the host
 *   refuses are ignored instead of failing the guest's chown. multidevs=remap keeps inode numbers
 *   unique when a share spans host filesystems (a mounted volume inside the home folder).
 * - virtiofs (vhost-user-fs-pci to the share's virtiofsd, started before QEMU by the provider).
 *   queue-size 1024: a READDIRPLUS or a 1 MiB read in flight beside others, as virtiofsd's docs use.
 */
export function shareArgs(shares: readonly FolderShare[], platform: NodeJS.Platform): string[] {
  if (shares.length === 0) return [];
  if (platform === 'win32') throw new Error('sharing host folders is not supported with QEMU on Windows (no 9p); set vm.sharedFolders to []');
  const out: string[] = [];
  shares.forEach((s, i) => {
    const id = `fs${i}`;
    if (s.transport === 'virtiofs') {
      if (platform !== 'linux') throw new Error(`virtiofs needs a Linux host (${s.path})`);
      if (!s.socket) throw new Error(`virtiofs share ${s.path} has no virtiofsd socket`);
      out.push('-chardev', `socket,id=${id},path=${escapeOptionValue(s.socket)}`);
      out.push('-device', `vhost-user-fs-pci,chardev=${id},tag=${shareTag(i)},queue-size=1024`);
      return;
    }
    out.push('-fsdev', `local,id=${id},path=${escapeOptionValue(s.path)},security_model=none,multidevs=remap${s.readOnly ? ',readonly=on' : ''}`);
    out.push('-device', `virtio-9p-pci,fsdev=${id},mount_tag=${shareTag(i)}`);
  });
  return out;
}

/**
 * vhost-user daemons read and write the guest's buffers in place: its RAM must be a shared,
 * mappable file (a memfd) instead of QEMU's anonymous memory. Only when a share needs it.
 */
function memoryBackend(l: QemuLaunch): { object: string[]; machineOpt: string } {
  if (!(l.shares ?? []).some((s) => s.transport === 'virtiofs')) return { object: [], machineOpt: '' };
  return { object: ['-object', `memory-backend-memfd,id=mem,size=${l.memoryMiB}M,share=on`], machineOpt: ',memory-backend=mem' };
}


export function hostArch(arch: string = process.arch): GuestArch | undefined {
  if (arch === 'x64') return 'amd64';
  if (arch === 'arm64') return 'arm64';
  return undefined;
}

export function qemuBinaryName(guestArch: GuestArch, platform: NodeJS.Platform): string {
  const base = guestArch === 'amd64' ? 'qemu-system-x86_64' : 'qemu-system-aarch64';
  return platform === 'win32' ? `${base}.exe` : base;
}

/** Where the chardev for an endpoint points. */
function chardev(id: string, e: LocalEndpoint): string {
  return e.kind === 'unix' ? `socket,id=${id},path=${e.path},server=on,wait=off` : `pipe,id=${id},path=${e.name}`;
}

/** QEMU's option values separate with commas; a comma inside a value is written twice. */
export function escapeOptionValue(v: string): string {
  return v.replace(/,/g, ',,');
}

function machineArgs(l: QemuLaunch): string[] {
  const accel = l.accelerator;
  const accelOpt = accel === 'tcg' ? 'tcg,thread=multi' : accel === 'whpx' ? 'whpx,kernel-irqchip=off' : accel;
  if (l.guestArch === 'amd64') {
    // whpx cannot give the guest the host's CPU model; qemu64 plus what Debian's kernel and node need.
    const cpu = accel === 'tcg' ? 'max' : accel === 'whpx' ? 'qemu64,+ssse3,+sse4.1,+sse4.2,+popcnt' : 'host';
    return ['-machine', 'q35,vmport=off,hpet=off', '-accel', accelOpt, '-cpu', cpu];
  }
  // arm64: the virt board. Under tcg, pointer authentication with QEMU's cheap implementation
  // (the architected one costs most of the emulation time).
  const gic = accel === 'kvm' ? 'gic-version=host' : accel === 'hvf' ? 'gic-version=3' : 'gic-version=max';
  const cpu = accel === 'tcg' ? 'max,pauth-impdef=on' : 'host';
  return ['-machine', `virt,${gic}${accel === 'hvf' ? ',highmem=on' : ''}`, '-accel', accelOpt, '-cpu', cpu];
}

/**
 * What an amd64 guest under multi-threaded tcg needs on its command line.
 * - `maxcpus=1`: the kernel patches its code live while it boots (static keys, e.g. sched_clock
 *   turning stable at late init), with int3 breakpoints; QEMU 7.2's multi-threaded tcg can run a
 *   stale translation of a patched site on another vCPU, and the guest dies of "Oops: int3" in
 *   sched_clock_cpu (seen in CI once in about 20 boots). Booting on one vCPU and putting the others
 *   online from init (vm/guest/init.sh) keeps every boot-time patch on a single CPU.
 * - `tsc=reliable`: under tcg the TSC is the host's clock, identical on every vCPU; the clocksource
 *   watchdog's references (jiffies, acpi_pm) are the ones that lag when the host is busy, and it
 *   then demoted the TSC to refined-jiffies or acpi_pm (and patched sched_clock live once more).
 */
export function acceleratorKernelArgs(l: Pick<QemuLaunch, 'guestArch' | 'accelerator' | 'cpus'>): string[] {
  if (l.guestArch !== 'amd64' || l.accelerator !== 'tcg') return [];
  return ['tsc=reliable', ...(l.cpus > 1 ? ['maxcpus=1'] : [])];
}

export function kernelCommandLine(l: Pick<QemuLaunch, 'guestArch' | 'kernelArgs' | 'shares'> & Partial<Pick<QemuLaunch, 'accelerator' | 'cpus'>>): string {
  const console = l.guestArch === 'amd64' ? 'ttyS0' : 'ttyAMA0';
  const accel = l.accelerator ? acceleratorKernelArgs({ guestArch: l.guestArch, accelerator: l.accelerator, cpus: l.cpus ?? 1 }) : [];
  // panic=-1: reboot at once, which -no-reboot turns into QEMU exiting (crash detection).
  const line = [`console=${console}`, 'quiet', 'loglevel=3', 'panic=-1', 'rootwait', 'init=/init', ...accel, ...(l.kernelArgs ?? []), ...(l.shares ?? []).map(shareKernelArg)].join(' ');
  if (line.length >= KERNEL_CMDLINE_MAX) throw new Error(`the shared folders do not fit on the kernel command line (${line.length} of ${KERNEL_CMDLINE_MAX} bytes): share fewer or shorter paths in vm.sharedFolders`);
  return line;
}

export function qemuArgs(l: QemuLaunch): string[] {
  if (!Number.isInteger(l.cpus) || l.cpus < 1) throw new Error(`invalid CPU count ${l.cpus}`);
  if (!Number.isInteger(l.memoryMiB) || l.memoryMiB < 256) throw new Error(`invalid memory size ${l.memoryMiB} MiB (at least 256)`);
  const e = escapeOptionValue;
  const disk = (id: string, file: string, opts: string, serial: string) => [
    '-drive',
    `if=none,id=${id},file=${e(file)},${opts}`,
    '-device',
    `virtio-blk-pci,drive=${id},serial=${serial}`,
  ];
  const mem = memoryBackend(l);
  const machine = machineArgs(l);
  machine[1] += mem.machineOpt;
  const args = [
    '-name',
    `${l.name},process=berth-vm-${l.name}`,
    ...machine,
    ...mem.object,
    '-smp',
    String(l.cpus),
    '-m',
    `${l.memoryMiB}M`,
    '-nodefaults',
    '-no-user-config',
    '-display',
    'none',
    '-no-reboot',
    '-kernel',
    l.image.kernel,
    '-initrd',
    l.image.initrd,
    '-append',
    kernelCommandLine(l),
    ...disk('root', l.image.root, 'format=raw,readonly=on', 'berth-root'),
    ...disk('payload', l.image.payload, 'format=raw,readonly=on', 'berth-payload'),
    ...disk('data', l.dataDisk, 'format=qcow2,discard=unmap,detect-zeroes=unmap', 'berth-data'),
    '-netdev',
    'user,id=net0',
    '-device',
    'virtio-net-pci,netdev=net0',
    '-device',
    'virtio-rng-pci',
    ...shareArgs(l.shares ?? [], l.platform),
    // Memory the guest frees goes back to the host.
    '-device',
    'virtio-balloon-pci,free-page-reporting=on',
    '-device',
    'virtio-serial-pci,id=vser0',
    '-chardev',
    chardev('agent', l.agent),
    '-device',
    `virtserialport,bus=vser0.0,chardev=agent,name=${AGENT_PORT_NAME}`,
    '-chardev',
    chardev('qmp', l.qmp),
    '-mon',
    'chardev=qmp,mode=control',
    '-chardev',
    `file,id=console,path=${e(l.consoleLog)}`,
    '-serial',
    'chardev:console',
    '-pidfile',
    l.pidFile,
  ];
  if (l.guestArch === 'amd64') args.push('-rtc', 'base=utc,driftfix=slew', '-device', 'pvpanic');
  else args.push('-rtc', 'base=utc', '-device', 'pvpanic-pci');
  return args;
}
