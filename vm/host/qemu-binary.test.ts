import { describe, expect, it } from 'vitest';
import { findQemu, QemuMissingError } from './qemu-binary.js';

const none = () => false;

describe('findQemu', () => {
  it('names the package to install when QEMU is on no search path', () => {
    expect(() => findQemu('amd64', { PATH: '/opt/nothing' }, 'linux', none)).toThrow(QemuMissingError);
    expect(() => findQemu('amd64', { PATH: '/opt/nothing' }, 'linux', none)).toThrow(/qemu-system-x86_64 was not found: install QEMU: `apt-get install qemu-system-x86 qemu-utils`/);
    expect(() => findQemu('arm64', { PATH: '' }, 'linux', none)).toThrow(/qemu-system-aarch64 was not found: .*apt-get install qemu-system-arm qemu-utils/);
    expect(() => findQemu('arm64', { PATH: '' }, 'darwin', none)).toThrow(/brew install qemu/);
    expect(() => findQemu('amd64', { PATH: '' }, 'win32', none)).toThrow(/qemu-system-x86_64\.exe was not found: install QEMU for Windows/);
  });

  it('says what to install when BERTH_QEMU points at no QEMU', () => {
    expect(() => findQemu('amd64', { BERTH_QEMU: '/opt/berth-qemu/qemu-system-x86_64' }, 'linux', none)).toThrow(
      /BERTH_QEMU points at \/opt\/berth-qemu\/qemu-system-x86_64, which is not an executable qemu-system-x86_64: install QEMU: `apt-get install qemu-system-x86 qemu-utils`/,
    );
  });

  it('searches PATH, then the usual install folders', () => {
    const at = (want: string) => (p: string) => p === want;
    expect(findQemu('amd64', { PATH: '/a:/b' }, 'linux', at('/b/qemu-system-x86_64'))).toBe('/b/qemu-system-x86_64');
    expect(findQemu('arm64', { PATH: '' }, 'darwin', at('/opt/homebrew/bin/qemu-system-aarch64'))).toBe('/opt/homebrew/bin/qemu-system-aarch64');
    expect(findQemu('amd64', { PATH: '' }, 'linux', at('/usr/bin/qemu-system-x86_64'))).toBe('/usr/bin/qemu-system-x86_64');
  });
});
