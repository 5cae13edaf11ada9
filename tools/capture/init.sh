#!/bin/sh
# /init of the capture guest (busybox sh, PID 1). build-initramfs.sh copies this file into the initramfs.
#
# It loads the virtio modules, runs a DMA workload on /dev/vda (a disk behind the emulated VT-d unit),
# stops ftrace and sends /sys/kernel/tracing/trace to the host on the second serial port (ttyS1) between
# marker lines, optionally waits for the host to take a memory dump, then powers the guest off.
#
# Parameters come from the kernel command line (all optional):
#   ims.mb=N       workload size in MiB (default 8)
#   ims.bskb=N     dd block size of the O_DIRECT passes in KiB (default 64)
#   ims.dump=1     print IOMMUSIM-DUMP-READY and pause so the host can run dump-guest-memory
#   ims.dumpwait=S seconds to pause for the dump (default 60; the host resumes us sooner by sending a line)
# The trace events themselves are switched on by the kernel command line (trace_event=iommu:*,...) so that
# boot-time events (group creation, default-domain attach) are in the buffer too.

PATH=/bin:/sbin
export PATH

say() { echo "ims-init: $*"; }

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
mount -t tracefs tracefs /sys/kernel/tracing 2>/dev/null

MB=8
BSKB=64
DUMP=0
DUMPWAIT=60
while read -r arg; do
	case "$arg" in
	ims.mb=*) MB=${arg#ims.mb=} ;;
	ims.bskb=*) BSKB=${arg#ims.bskb=} ;;
	ims.dump=*) DUMP=${arg#ims.dump=} ;;
	ims.dumpwait=*) DUMPWAIT=${arg#ims.dumpwait=} ;;
	esac
done <<EOF
$(tr ' ' '\n' </proc/cmdline)
EOF

T=/sys/kernel/tracing
say "kernel $(uname -r); cmdline: $(cat /proc/cmdline)"
say "trace events enabled: $(grep -c . $T/set_event 2>/dev/null)"

# Modules in dependency order (virtio is modular in Debian's kernel; the list is written by build-initramfs.sh).
while read -r mod; do
	[ -n "$mod" ] || continue
	insmod "/lib/modules/$mod" || say "insmod $mod failed"
done </lib/modules/load-order

# Wait for the disk (virtio probing is asynchronous to insmod returning).
n=0
while [ ! -b /dev/vda ] && [ $n -lt 100 ]; do
	sleep 0.1
	n=$((n + 1))
done
if [ ! -b /dev/vda ]; then
	say "ERROR: /dev/vda did not appear"
	ls /sys/bus/pci/devices /sys/block
fi

# Record which IOMMU mode the guest kernel chose, for capture.txt.
dmesg | grep -iE 'DMAR|iommu' | sed 's/^/ims-dmesg: /'
for g in /sys/kernel/iommu_groups/*; do
	[ -d "$g" ] || continue
	devs=
	for d in "$g"/devices/*; do devs="$devs ${d##*/}"; done
	say "group ${g##*/}: type=$(cat "$g/type" 2>/dev/null) devices:$devs"
done

# The DMA workload: O_DIRECT so every block goes through a fresh dma map/unmap and a device DMA.
say "workload: ${MB} MiB write + read on /dev/vda, bs=${BSKB}k, O_DIRECT; then ${MB} MiB buffered read"
echo "ims workload begin" >$T/trace_marker
count=$((MB * 1024 / BSKB))
dd if=/dev/zero of=/dev/vda bs="${BSKB}k" count="$count" oflag=direct 2>&1 | sed 's/^/ims-dd: /'
dd if=/dev/vda of=/dev/null bs="${BSKB}k" count="$count" iflag=direct 2>&1 | sed 's/^/ims-dd: /'
# A buffered pass too: the page cache issues larger, differently aligned requests.
echo 3 >/proc/sys/vm/drop_caches
dd if=/dev/vda of=/dev/null bs=1M count="$MB" 2>&1 | sed 's/^/ims-dd: /'
echo "ims workload end" >$T/trace_marker
sync

echo 0 >$T/tracing_on
say "trace lines: $(grep -vc '^#' $T/trace)"
say "ftrace overruns: $(grep -h overrun $T/per_cpu/cpu*/stats 2>/dev/null | tr '\n' ' ')"

# ttyS1 is a plain file on the host: raw mode so the tty layer does not turn \n into \r\n.
stty -F /dev/ttyS1 raw -echo 2>/dev/null
{
	echo "=== IOMMUSIM-FTRACE-BEGIN ==="
	cat $T/trace
	echo "=== IOMMUSIM-FTRACE-END ==="
} >/dev/ttyS1
say "trace sent"

if [ "$DUMP" = "1" ]; then
	# The host watches the console for this line, pauses the VM, dumps its memory and resumes it; it then
	# writes a line to ttyS2 (a pipe) so we do not have to sleep the full DUMPWAIT.
	# Open ttyS2 before announcing: bytes that arrive while the port is closed are dropped.
	if [ -c /dev/ttyS2 ]; then
		exec 3</dev/ttyS2
		stty -F /dev/ttyS2 raw -echo 2>/dev/null
		say "IOMMUSIM-DUMP-READY"
		# busybox ash has read -t.
		# shellcheck disable=SC3045
		read -t "$DUMPWAIT" -r _ <&3
		exec 3<&-
	else
		say "IOMMUSIM-DUMP-READY"
		sleep "$DUMPWAIT"
	fi
	say "dump window over"
fi

say "IOMMUSIM-DONE"
sync
poweroff -f
