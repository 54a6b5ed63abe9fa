import { describe, expect, it } from 'vitest';
import { chooseFileSharing, findVirtiofsd, parseVirtiofsdVersion, virtiofsdArgs, type Virtiofsd } from './file-sharing.js';

const cDaemon: Virtiofsd = { path: '/usr/lib/qemu/virtiofsd', flavor: 'c', version: '7.2.22' };
const rustDaemon: Virtiofsd = { path: '/usr/libexec/virtiofsd', flavor: 'rust', version: '1.13.0' };

describe('file sharing', () => {
  it('tells QEMU\'s C virtiofsd from the Rust one by --version', () => {
    expect(parseVirtiofsdVersion('virtiofsd version 7.2.22 (Debian 1:7.2+dfsg-7+deb12u18+b3)\nCopyright (c) 2003-2022')).toEqual({ flavor: 'c', version: '7.2.22' });
    expect(parseVirtiofsdVersion('virtiofsd 1.13.0\n')).toEqual({ flavor: 'rust', version: '1.13.0' });
    expect(parseVirtiofsdVersion('something else')).toBeUndefined();
  });

  it('finds the first working candidate; BERTH_VIRTIOFSD replaces the list', () => {
    const seen: string[] = [];
    const probe = (f: string) => (seen.push(f), f === '/usr/lib/qemu/virtiofsd' ? 'virtiofsd version 7.2.22\n' : undefined);
    expect(findVirtiofsd({}, probe)).toEqual(cDaemon);
    expect(seen).toEqual(['/usr/libexec/virtiofsd', '/usr/lib/qemu/virtiofsd']);
    expect(findVirtiofsd({ BERTH_VIRTIOFSD: '/opt/vfsd' }, probe)).toBeUndefined();
  });

  it('auto: virtiofs on Linux as root, read-only shares on 9p with the C daemon (it cannot refuse writes)', () => {
    const c = chooseFileSharing({ platform: 'linux', root: true, virtiofsd: cDaemon });
    expect(c).toMatchObject({ readWrite: 'virtiofs', readOnly: '9p' });
    expect(c.why).toMatch(/^virtiofs \(\/usr\/lib\/qemu\/virtiofsd.*9p for read-only/);
    expect(chooseFileSharing({ platform: 'linux', root: true, virtiofsd: rustDaemon })).toMatchObject({ readWrite: 'virtiofs', readOnly: 'virtiofs' });
  });

  it('auto: 9p, and why, everywhere virtiofs cannot run', () => {
    expect(chooseFileSharing({ platform: 'darwin', root: false, virtiofsd: undefined })).toMatchObject({ readWrite: '9p', readOnly: '9p', why: expect.stringMatching(/^9p: virtiofs needs a Linux host/) });
    expect(chooseFileSharing({ platform: 'linux', root: true, virtiofsd: undefined }).why).toMatch(/^9p: no virtiofsd on this host \(looked in \/usr\/libexec\/virtiofsd, /);
    expect(chooseFileSharing({ platform: 'linux', root: true, virtiofsd: undefined, searched: ['/opt/vfsd'] }).why).toContain('(looked in /opt/vfsd;');
    expect(chooseFileSharing({ platform: 'linux', root: false, virtiofsd: cDaemon }).why).toMatch(/^9p: virtiofsd .* needs root/);
  });

  it('asked for: 9p always; virtiofs where it cannot run is an error naming the setting', () => {
    expect(chooseFileSharing({ platform: 'linux', root: true, virtiofsd: cDaemon }, '9p')).toMatchObject({ readWrite: '9p', readOnly: '9p' });
    expect(() => chooseFileSharing({ platform: 'darwin', root: false, virtiofsd: undefined }, 'virtiofs')).toThrow(/vm\.fileSharing is virtiofs, but virtiofs needs a Linux host/);
    expect(() => chooseFileSharing({ platform: 'linux', root: false, virtiofsd: cDaemon }, 'virtiofs')).toThrow(/needs root/);
  });

  it('daemon command lines: cache=auto, namespace sandbox, submounts; commas in a C source path escaped; --readonly only with the Rust one', () => {
    expect(virtiofsdArgs(cDaemon, { path: '/home/a,b', readOnly: false }, '/run/s.sock')).toEqual([
      '--socket-path=/run/s.sock', '-o', 'source=/home/a\\,b', '-o', 'cache=auto', '-o', 'sandbox=namespace', '-o', 'announce_submounts', '-o', 'no_posix_lock', '-o', 'no_flock',
    ]);
    expect(() => virtiofsdArgs(cDaemon, { path: '/ro', readOnly: true }, '/s')).toThrow(/cannot share \/ro read-only/);
    expect(virtiofsdArgs(rustDaemon, { path: '/ro', readOnly: true }, '/s')).toEqual(['--socket-path=/s', '--shared-dir=/ro', '--cache=auto', '--sandbox=namespace', '--announce-submounts', '--readonly']);
  });
});
