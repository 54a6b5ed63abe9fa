#!/bin/sh
# Stage 2 of the guest's boot, PID 1 on the real root until it execs dumb-init: kernel filesystems,
# modules, the network QEMU's user-mode stack provides, the data disk (found by label, formatted
# on first boot, checked after a crash, grown when the host grew it), then the guest agent (which
# runs berthd) under dumb-init, which reaps what conmon's double fork leaves behind. dumb-init,
# not tini: it blocks in sigwait, where tini wakes every second (an idle VM's largest wake-up).
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
# The simple steps run busybox's applets (static): under emulation every exec of a dynamically
# linked tool pays for its loader's relocations, most of what such a step costs.
for a in mount mkdir ln cut cat hostname ip sysctl; do eval "$a() { busybox $a \"\$@\"; }"; done
say() { echo "berth-init: $1 $(cut -d' ' -f1 /proc/uptime)" > /dev/console; }
fail() { echo "berth-init: error: $*" > /dev/console; sync; busybox poweroff -f; }
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mkdir -p /dev/pts /dev/shm /dev/mqueue
mount -t devpts -o gid=5,mode=620,ptmxmode=666 devpts /dev/pts
mount -t tmpfs -o mode=1777,nosuid,nodev shm /dev/shm
mount -t mqueue mqueue /dev/mqueue 2>/dev/null
ln -sf /proc/self/fd /dev/fd; ln -sf fd/0 /dev/stdin; ln -sf fd/1 /dev/stdout; ln -sf fd/2 /dev/stderr
mount -t tmpfs -o mode=0755,nosuid,nodev tmpfs /run
mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs /tmp
mount -t cgroup2 -o nsdelegate cgroup2 /sys/fs/cgroup
mount -t securityfs securityfs /sys/kernel/security 2>/dev/null
mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
say stage2
# One modprobe for all (each kmod start costs a fork, an exec and its index files under emulation).
# What the network and the data disk need comes first; berthd's netfilter modules load in the
# background while the agent and berthd start (the kernel also loads them on demand).
# virtio_balloon is here, not with those, for the reason below.
modprobe -qa virtio_net virtio_balloon ext4 2>/dev/null
# Under tcg the host boots the kernel on one vCPU (maxcpus=1, see vm/host/qemu-args.ts): the others
# come online here, in the background, once the kernel's boot-time code patching is done (a CPU comes
# up in about 0.3 s under emulation). Elsewhere none is offline.
# The kernel patches a static key, when it turns on, into code every CPU runs; under QEMU 7.2's
# multi-threaded tcg another vCPU can then run a stale translation of the site and die of
# "Oops: int3". So what turns on keys in hot paths is done first, on the one CPU, and kept:
# - virtio_net and virtio_balloon probed (above): XPS (every transmit), free-page reporting (every
#   page freed);
# - /berth, the container cgroups' parent (engine/containers/spec-builder.ts), made with the
#   controllers runc enables: the cpuset and memory-cgroup keys (page and slab allocators, sockets).
#   The first container's cgroup turned them on before, and crashed the guest in
#   get_page_from_freelist. /berth is never removed, so they stay on.
(
  cg=/sys/fs/cgroup
  for c in $(cat "$cg/cgroup.controllers"); do echo "+$c" > "$cg/cgroup.subtree_control"; done 2>/dev/null
  mkdir -p "$cg/berth"
  for c in /sys/devices/system/cpu/cpu[0-9]*/online; do
    [ "$(cat "$c" 2>/dev/null)" = 0 ] && echo 1 > "$c"
  done
  say cpus-online
) &
modprobe -qa virtio-rng overlay br_netfilter veth nf_tables nft_compat nft_chain_nat \
  xt_MASQUERADE xt_addrtype xt_conntrack xt_comment iptable_nat iptable_filter ip6table_nat ip6table_filter \
  button evdev gpio_keys gpio-pl061 rtc-pl031 pvpanic-pci 2>/dev/null &
say modules
hostname berth
echo berth > /etc/hostname
printf '127.0.0.1\tlocalhost berth\n::1\tlocalhost ip6-localhost ip6-loopback\n' > /etc/hosts
# QEMU's user-mode network: guest 10.0.2.15, gateway 10.0.2.2, DNS forwarder 10.0.2.3 (the host's resolver).
ip link set lo up
ip link set eth0 up
ip addr add 10.0.2.15/24 dev eth0
ip route add default via 10.0.2.2
echo 'nameserver 10.0.2.3' > /etc/resolv.conf
# An idle guest should not wake: proactive compaction (kcompactd every 500 ms, for huge pages a
# 1 GiB VM hardly gets) and the lockup detectors (a timer per CPU every 4 s; under emulation a
# busy host makes them report false lockups anyway) are off.
sysctl -qw net.ipv4.ip_forward=1 kernel.panic_on_oops=1 vm.overcommit_memory=1 vm.compaction_proactiveness=0 kernel.watchdog=0 2>/dev/null
say network

data=''
for d in /sys/block/vd*; do
  [ "$(cat "$d/serial" 2>/dev/null)" = berth-data ] && data="/dev/${d##*/}"
done
[ -n "$data" ] || fail "no data disk (serial berth-data)"
label=$(blkid -o value -s LABEL "$data" 2>/dev/null)
if [ "$label" = berth-data ]; then
  # After a crash (QEMU killed) the journal is replayed at mount; -p also repairs what is safe.
  e2fsck -p "$data" > /dev/console 2>&1
  rc=$?
  if [ $rc -ge 4 ]; then e2fsck -fy "$data" > /dev/console 2>&1 || [ $? -lt 4 ] || fail "the data disk has errors e2fsck cannot repair (code $rc)"; fi
elif blkid -p "$data" > /dev/null 2>&1; then
  fail "the data disk holds another filesystem ($(blkid -o value -s TYPE "$data")); not formatting it"
else
  say format-data
  mkfs.ext4 -q -L berth-data -E lazy_itable_init=1,lazy_journal_init=1,discard "$data" || fail "cannot format the data disk"
fi
mkdir -p /var/lib/berth
mount -t ext4 -o noatime,discard "$data" /var/lib/berth || fail "cannot mount the data disk"
# The host grew the disk (a bigger size in the settings): grow the filesystem online to fill it.
sectors=$(cat "/sys/block/${data#/dev/}/size")
if [ "$(cat /var/lib/berth/.disk-sectors 2>/dev/null)" != "$sectors" ]; then
  resize2fs "$data" > /dev/console 2>&1 && echo "$sectors" > /var/lib/berth/.disk-sectors
fi
say data-mounted
# The agent and berthd are single-file bundles started through the code-cache launcher (vm/guest/launch.ts).
export BERTH_CODE_CACHE_DIR=/var/lib/berth/code-cache
exec /usr/bin/dumb-init -- /usr/bin/node --max-semi-space-size=1 /opt/berth/launch.mjs /opt/berth/agent.cjs 2> /dev/console
