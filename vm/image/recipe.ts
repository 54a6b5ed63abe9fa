/**
 * What the VM image is made of. Everything here is an input of the base image's cache key
 * (RECIPE is hashed whole), so changing a package, a module or an option builds a new image.
 */
import type { GuestArch } from '../host/qemu-args.js';

export const RECIPE = {
  version: 1,
  /** trixie: nodejs 20.19 (berthd needs ≥ 20.19), runc 1.1, conmon 2.1, kernel 6.12. */
  suite: 'trixie',
  components: ['main'],
  /** What the root filesystem holds besides Debian's essential set. */
  packages: [
    'nodejs',
    'mount',
    'runc',
    'conmon',
    'dumb-init',
    'iptables',
    'iproute2',
    'procps',
    'attr',
    'zstd',
    'xz-utils',
    'bzip2',
    'e2fsprogs',
    'kmod',
    'ca-certificates',
    'busybox-static',
  ],
  /** Files dpkg never unpacks (documentation, translations): smaller image, nothing the guest reads. */
  pathExcludes: ['/usr/share/doc/*', '/usr/share/man/*', '/usr/share/info/*', '/usr/share/locale/*', '/usr/share/lintian/*', '/usr/share/bash-completion/*', '/usr/share/zsh/*'],
  pathIncludes: ['/usr/share/doc/*/copyright'],
  /** The kernel metapackage whose dependency names the versioned kernel package. */
  kernelMeta: { amd64: 'linux-image-amd64', arm64: 'linux-image-arm64' } satisfies Record<GuestArch, string>,
  /**
   * Kernel modules copied into the root (with their dependencies): block and virtio devices,
   * filesystems, bridge/veth/netfilter for berthd's networking, input for the power button.
   * Directories are relative to /lib/modules/<version>/kernel.
   */
  moduleDirs: [
    'fs/ext4',
    'fs/jbd2',
    'fs/mbcache.ko',
    'fs/overlayfs',
    'fs/squashfs',
    'fs/9p',
    'fs/fuse',
    'fs/netfs',
    'fs/erofs',
    'net/bridge',
    'net/802',
    'net/llc',
    'net/netfilter',
    'net/ipv4/netfilter',
    'net/ipv6',
    'net/sched',
    'net/9p',
    'net/vmw_vsock',
    'net/packet',
    'net/core',
    'drivers/block/virtio_blk.ko',
    'drivers/block/loop.ko',
    'drivers/net/veth.ko',
    'drivers/net/virtio_net.ko',
    'drivers/net/net_failover.ko',
    'drivers/net/tun.ko',
    'drivers/net/dummy.ko',
    'drivers/net/macvlan.ko',
    'drivers/net/ipvlan',
    'drivers/net/vxlan',
    'drivers/char/hw_random/virtio-rng.ko',
    'drivers/virtio',
    'drivers/vhost',
    'drivers/input/evdev.ko',
    'drivers/input/keyboard/gpio_keys.ko',
    'drivers/gpio/gpio-pl061.ko',
    'drivers/acpi/button.ko',
    'drivers/misc/pvpanic',
    'drivers/rtc/rtc-pl031.ko',
    'crypto',
    'lib',
    'arch',
  ],
  /** Modules the initramfs loads before it can mount the root (dependencies added at build). */
  initramfsModules: ['virtio_blk', 'squashfs', 'overlay'],
  /** squashfs compression: zstd decompresses fastest, which counts under software emulation. */
  squashfsOptions: ['-comp', 'zstd', '-Xcompression-level', '19', '-b', '256K'],
} as const;

/** Debian's name for the architecture is ours; QEMU and the kernel package agree. */
export function debianArch(a: GuestArch): string {
  return a;
}
