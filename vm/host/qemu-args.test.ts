import { describe, expect, it } from 'vitest';
import { escapeOptionValue, hostArch, kernelCommandLine, qemuArgs, qemuBinaryName, shareArgs, shareKernelArg, type QemuLaunch } from './qemu-args.js';

const base: QemuLaunch = {
  platform: 'linux',
  guestArch: 'amd64',
  accelerator: 'tcg',
  cpus: 2,
  memoryMiB: 2048,
  image: { kernel: '/img/vmlinuz', initrd: '/img/initrd.img', root: '/img/root.squashfs', payload: '/img/payload.squashfs' },
  dataDisk: '/state/data.qcow2',
  qmp: { kind: 'unix', path: '/run/vm/qmp.sock' },
  agent: { kind: 'unix', path: '/run/vm/agent.sock' },
  consoleLog: '/logs/console.log',
  pidFile: '/run/vm/qemu.pid',
  name: 'default',
};

const after = (args: string[], flag: string) => args.filter((_, i) => args[i - 1] === flag);

describe('qemuArgs', () => {
  it('Linux tcg: q35, multi-threaded tcg, cpu max, direct kernel boot, no firmware', () => {
    const a = qemuArgs(base);
    expect(after(a, '-machine')).toEqual(['q35,vmport=off,hpet=off']);
    expect(after(a, '-accel')).toEqual(['tcg,thread=multi']);
    expect(after(a, '-cpu')).toEqual(['max']);
    expect(after(a, '-kernel')).toEqual(['/img/vmlinuz']);
    expect(after(a, '-initrd')).toEqual(['/img/initrd.img']);
    expect(a).not.toContain('-bios');
    expect(after(a, '-append')[0]).toMatch(/^console=ttyS0 .*panic=-1/);
    expect(a).toContain('-no-reboot');
    expect(after(a, '-smp')).toEqual(['2']);
    expect(after(a, '-m')).toEqual(['2048M']);
  });

  it('Linux kvm and macOS hvf (Intel) use the host CPU', () => {
    expect(after(qemuArgs({ ...base, accelerator: 'kvm' }), '-cpu')).toEqual(['host']);
    expect(after(qemuArgs({ ...base, accelerator: 'kvm' }), '-accel')).toEqual(['kvm']);
    const mac = qemuArgs({ ...base, platform: 'darwin', accelerator: 'hvf' });
    expect(after(mac, '-accel')).toEqual(['hvf']);
    expect(after(mac, '-cpu')).toEqual(['host']);
  });

  it('macOS on Apple Silicon: virt board with hvf, GICv3, the host CPU, ttyAMA0', () => {
    const a = qemuArgs({ ...base, platform: 'darwin', guestArch: 'arm64', accelerator: 'hvf' });
    expect(after(a, '-machine')).toEqual(['virt,gic-version=3,highmem=on']);
    expect(after(a, '-cpu')).toEqual(['host']);
    expect(after(a, '-append')[0]).toMatch(/^console=ttyAMA0/);
    expect(a).toContain('pvpanic-pci');
  });

  it('arm64 under tcg uses the cheap pointer authentication', () => {
    const a = qemuArgs({ ...base, guestArch: 'arm64' });
    expect(after(a, '-machine')).toEqual(['virt,gic-version=max']);
    expect(after(a, '-cpu')).toEqual(['max,pauth-impdef=on']);
  });

  it('Windows whpx: qemu64 with the features the guest needs, named pipes instead of unix sockets', () => {
    const a = qemuArgs({ ...base, platform: 'win32', accelerator: 'whpx', qmp: { kind: 'pipe', name: 'berth-qmp' }, agent: { kind: 'pipe', name: 'berth-agent' } });
    expect(after(a, '-accel')).toEqual(['whpx,kernel-irqchip=off']);
    expect(after(a, '-cpu')[0]).toMatch(/^qemu64,/);
    const chardevs = after(a, '-chardev');
    expect(chardevs).toContain('pipe,id=qmp,path=berth-qmp');
    expect(chardevs).toContain('pipe,id=agent,path=berth-agent');
  });

  it('control channels are unix sockets served by QEMU, never TCP', () => {
    const a = qemuArgs(base);
    const chardevs = after(a, '-chardev');
    expect(chardevs).toContain('socket,id=qmp,path=/run/vm/qmp.sock,server=on,wait=off');
    expect(chardevs).toContain('socket,id=agent,path=/run/vm/agent.sock,server=on,wait=off');
    expect(a.join(' ')).not.toMatch(/tcp:|[ ,]host=|[ ,]port=|hostfwd/);
    expect(after(a, '-netdev')).toEqual(['user,id=net0']);
  });

  it('disks: read-only root and payload, the qcow2 data disk with discard, each found by serial', () => {
    const drives = after(qemuArgs(base), '-drive');
    expect(drives).toEqual([
      'if=none,id=root,file=/img/root.squashfs,format=raw,readonly=on',
      'if=none,id=payload,file=/img/payload.squashfs,format=raw,readonly=on',
      'if=none,id=data,file=/state/data.qcow2,format=qcow2,discard=unmap,detect-zeroes=unmap',
    ]);
    expect(after(qemuArgs(base), '-device').filter((d) => d.startsWith('virtio-blk-pci'))).toEqual(['virtio-blk-pci,drive=root,serial=berth-root', 'virtio-blk-pci,drive=payload,serial=berth-payload', 'virtio-blk-pci,drive=data,serial=berth-data']);
  });

  it('escapes commas in file names', () => {
    expect(escapeOptionValue('/a,b/c')).toBe('/a,,b/c');
    expect(after(qemuArgs({ ...base, dataDisk: '/x,y/data.qcow2' }), '-drive')[2]).toContain('file=/x,,y/data.qcow2');
  });

  it('refuses nonsense resources', () => {
    expect(() => qemuArgs({ ...base, cpus: 0 })).toThrow(/CPU/);
    expect(() => qemuArgs({ ...base, memoryMiB: 100 })).toThrow(/memory/);
  });

  it('an amd64 guest under tcg boots on one vCPU with a trusted TSC; other accelerators and arm64 do not', () => {
    const words = (l: QemuLaunch) => after(qemuArgs(l), '-append')[0]!.split(' ');
    expect(words(base)).toEqual(expect.arrayContaining(['tsc=reliable', 'maxcpus=1']));
    // -smp still gives the guest every vCPU: init puts the others online.
    expect(after(qemuArgs(base), '-smp')).toEqual(['2']);
    expect(words({ ...base, cpus: 1 })).not.toContain('maxcpus=1');
    for (const l of [{ ...base, accelerator: 'kvm' as const }, { ...base, platform: 'darwin' as const, accelerator: 'hvf' as const }, { ...base, guestArch: 'arm64' as const }]) {
      expect(words(l).filter((w) => w.startsWith('tsc=') || w.startsWith('maxcpus='))).toEqual([]);
    }
  });

  it('kernel command line carries extra berth.* words', () => {
    expect(kernelCommandLine({ guestArch: 'amd64', kernelArgs: ['berth.debug=1'] })).toMatch(/ berth\.debug=1$/);
  });
});

describe('binaries and architectures', () => {
  it('names QEMU per guest and host', () => {
    expect(qemuBinaryName('amd64', 'linux')).toBe('qemu-system-x86_64');
    expect(qemuBinaryName('arm64', 'darwin')).toBe('qemu-system-aarch64');
    expect(qemuBinaryName('amd64', 'win32')).toBe('qemu-system-x86_64.exe');
    expect(hostArch('x64')).toBe('amd64');
    expect(hostArch('arm64')).toBe('arm64');
    expect(hostArch('ia32')).toBeUndefined();
  });
});

describe('shared folders (9p)', () => {
  const shares = [
    { path: '/Users/ann', readOnly: false },
    { path: '/Volumes/Data, old', readOnly: true },
  ];

  it('one virtio-9p device per share: security_model=none, remapped inodes, read-only where asked', () => {
    const a = qemuArgs({ ...base, platform: 'darwin', accelerator: 'hvf', shares });
    expect(after(a, '-fsdev')).toEqual([
      'local,id=fs0,path=/Users/ann,security_model=none,multidevs=remap',
      'local,id=fs1,path=/Volumes/Data,, old,security_model=none,multidevs=remap,readonly=on',
    ]);
    expect(after(a, '-device').filter((d) => d.startsWith('virtio-9p-pci'))).toEqual(['virtio-9p-pci,fsdev=fs0,mount_tag=berth0', 'virtio-9p-pci,fsdev=fs1,mount_tag=berth1']);
  });

  it('the guest learns tag, mode and path from the kernel command line (percent-encoded)', () => {
    const line = kernelCommandLine({ guestArch: 'amd64', shares });
    expect(line).toContain(' berth.share=berth0,rw,/Users/ann');
    expect(line).toContain(' berth.share=berth1,ro,/Volumes/Data%2C%20old');
    expect(shareKernelArg({ path: '/a b/ü', readOnly: false }, 3)).toBe('berth.share=berth3,rw,/a%20b/%C3%BC');
  });

  it('no shares: no 9p device; too many for the command line: a clear error naming the setting', () => {
    expect(qemuArgs(base)).not.toContain('-fsdev');
    const many = Array.from({ length: 40 }, (_, i) => ({ path: `/Users/ann/a-rather-long-project-folder-name-${i}`, readOnly: false }));
    expect(() => qemuArgs({ ...base, shares: many })).toThrow(/do not fit on the kernel command line .* vm\.sharedFolders/);
  });

  it('virtiofs shares: a vhost-user-fs device on the daemon\'s socket, the guest RAM in a shared memfd, the transport on the command line', () => {
    const vfs = [
      { path: '/home/ann', readOnly: false, transport: 'virtiofs' as const, socket: '/run/vm/virtiofs-0.sock' },
      { path: '/srv/ro', readOnly: true, transport: '9p' as const },
    ];
    const a = qemuArgs({ ...base, shares: vfs });
    expect(after(a, '-machine')).toEqual(['q35,vmport=off,hpet=off,memory-backend=mem']);
    expect(after(a, '-object')).toEqual(['memory-backend-memfd,id=mem,size=2048M,share=on']);
    expect(after(a, '-m')).toEqual(['2048M']);
    expect(after(a, '-chardev')).toContain('socket,id=fs0,path=/run/vm/virtiofs-0.sock');
    expect(after(a, '-device')).toContain('vhost-user-fs-pci,chardev=fs0,tag=berth0,queue-size=1024');
    expect(after(a, '-fsdev')).toEqual(['local,id=fs1,path=/srv/ro,security_model=none,multidevs=remap,readonly=on']);
    const line = kernelCommandLine({ guestArch: 'amd64', shares: vfs });
    expect(line).toContain(' berth.share=berth0,rw,virtiofs,/home/ann');
    expect(line).toContain(' berth.share=berth1,ro,/srv/ro');
    // 9p only: QEMU's anonymous memory, as before.
    expect(qemuArgs({ ...base, shares })).not.toContain('-object');
    expect(() => shareArgs([{ path: '/a', readOnly: false, transport: 'virtiofs' }], 'linux')).toThrow(/no virtiofsd socket/);
    expect(() => shareArgs(vfs, 'darwin')).toThrow(/virtiofs needs a Linux host/);
  });

  it('Windows QEMU has no 9p: shares are refused there', () => {
    expect(() => shareArgs(shares, 'win32')).toThrow(/not supported with QEMU on Windows/);
    expect(shareArgs([], 'win32')).toEqual([]);
  });
});
