#!/bin/bash
# Capture a real VT-d trace: boot Debian's own kernel in Debian's QEMU (TCG, no KVM) with an emulated
# intel-iommu, run a disk DMA workload behind it, and collect
#   OUT/qemu-vtd.log       QEMU's vtd_* trace events (log backend, -msg timestamp=on)
#   OUT/guest-ftrace.txt   the guest's /sys/kernel/tracing/trace (iommu:* and intel_iommu:* events)
#   OUT/console.txt        the guest serial console
#   OUT/capture.txt        versions, command lines, options, sizes, timings
#   OUT/guest-memory.elf   (--dump-memory) dump-guest-memory ELF taken right after the workload
# and, when an iommusim binary with the import command is found, OUT/qemu.ist and OUT/ftrace.ist, replayed.
# See tools/capture/README.md. Run as root on Debian 12 (bookworm); it installs what it needs with apt-get.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)

usage() {
	cat <<EOF
usage: $0 [options]
  --mode legacy|scalable   VT-d translation mode (default scalable: x-scalable-mode=on, guest intel_iommu=sm_on)
  --strict | --lazy        guest IOTLB flushing policy: iommu.strict=1 or 0 (default --strict)
  --devtlb                 device-IOTLB: intel-iommu device-iotlb=on and virtio-blk-pci ats=on
  --dump-memory            pause after the workload and write OUT/guest-memory.elf (dump-guest-memory),
                           then replay the live mappings through it (dump-check.sh + iommusim run)
  --out DIR                output directory (default ./capture-MODE)
  --workload-mb N          MiB written and read back on the disk (default 8)
  --mem MIB                guest RAM (default 384)
  --work DIR               cache for the kernel .deb and the initramfs (default /var/tmp/iommusim-capture)
  --qemu-trace PATTERN     QEMU trace event pattern (default 'vtd_*')
  --with-ir                also trace interrupt remapping (vtd_ir_*, vtd_warn_ir_*): about 50,000 lines per
                           second of guest time under TCG, so off by default
  --timeout SECONDS        kill QEMU after this long (default 1200)
  --iommusim PATH          iommusim binary for the import step (default: first of build*/iommusim)
  --no-install             do not run apt-get; fail if something is missing
  --no-import              skip the import step
EOF
}

MODE=scalable
STRICT=1
DEVTLB=0
DUMP=0
OUT=
MB=8
MEM=384
WORK=/var/tmp/iommusim-capture
QTRACE='vtd_*'
WITH_IR=0
TIMEOUT=1200
IOMMUSIM=
INSTALL=1
IMPORT=1
while [ $# -gt 0 ]; do
	case "$1" in
	--mode) MODE=$2; shift 2 ;;
	--strict) STRICT=1; shift ;;
	--lazy) STRICT=0; shift ;;
	--devtlb) DEVTLB=1; shift ;;
	--dump-memory) DUMP=1; shift ;;
	--out) OUT=$2; shift 2 ;;
	--workload-mb) MB=$2; shift 2 ;;
	--mem) MEM=$2; shift 2 ;;
	--work) WORK=$2; shift 2 ;;
	--qemu-trace) QTRACE=$2; shift 2 ;;
	--with-ir) WITH_IR=1; shift ;;
	--timeout) TIMEOUT=$2; shift 2 ;;
	--iommusim) IOMMUSIM=$2; shift 2 ;;
	--no-install) INSTALL=0; shift ;;
	--no-import) IMPORT=0; shift ;;
	-h|--help) usage; exit 0 ;;
	*) echo "capture: unknown option $1" >&2; usage >&2; exit 2 ;;
	esac
done

die() { echo "capture: ERROR: $*" >&2; exit 1; }
log() { echo "capture: $*"; }

case "$MODE" in legacy|scalable) ;; *) die "--mode must be legacy or scalable" ;; esac
case "$MB" in ''|*[!0-9]*) die "--workload-mb wants a number" ;; esac
case "$MEM" in ''|*[!0-9]*) die "--mem wants a number" ;; esac
[ "$MB" -ge 1 ] || die "--workload-mb must be at least 1"
[ -n "$OUT" ] || OUT=./capture-$MODE
mkdir -p "$OUT" "$WORK"
OUT=$(cd "$OUT" && pwd)

# ---------------------------------------------------------------- prerequisites
# command -> Debian package that provides it
PREREQS="qemu-system-x86_64:qemu-system-x86 busybox:busybox-static cpio:cpio gzip:gzip zstd:zstd
modinfo:kmod dpkg-deb:dpkg timeout:coreutils"
# dump-check.sh parses with gawk (mawk, Debian's default awk, lacks strtonum and match arrays).
[ "$DUMP" = 1 ] && PREREQS="$PREREQS gawk:gawk"
missing=()
for p in $PREREQS; do
	command -v "${p%%:*}" >/dev/null || missing+=("${p#*:}")
done
# busybox-static is required even if a dynamic busybox is installed (the initramfs has no libc).
if command -v busybox >/dev/null && ldd "$(command -v busybox)" >/dev/null 2>&1; then
	missing+=(busybox-static)
fi
if [ ${#missing[@]} -gt 0 ]; then
	[ "$INSTALL" = 1 ] || die "missing packages: ${missing[*]} (apt-get install them, or drop --no-install)"
	[ "$(id -u)" = 0 ] || die "missing packages ${missing[*]}; run as root so apt-get can install them"
	log "installing ${missing[*]} with apt-get"
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
if ! qemu-system-x86_64 -device intel-iommu,help 2>/dev/null | grep -q x-scalable-mode; then
	die "this QEMU's intel-iommu has no x-scalable-mode property (QEMU 7.2 or later needed)"
fi
# The log trace backend must be compiled in for -trace/-D to produce anything.
if ! qemu-system-x86_64 -trace help 2>/dev/null | grep -q '^vtd_'; then
	die "this QEMU lists no vtd_* trace events (built without a trace backend?)"
fi

# ---------------------------------------------------------------- guest kernel
# Debian's own kernel image: the .deb is downloaded (not installed) and unpacked under WORK/kroot.
KROOT=$WORK/kroot
kernels=("$KROOT"/boot/vmlinuz-*)
if [ ! -f "${kernels[0]}" ]; then
	log "fetching the Debian kernel package (apt-get download; nothing is installed)"
	[ "$INSTALL" = 1 ] || die "no kernel under $KROOT and --no-install given"
	KPKG=$(apt-cache depends linux-image-amd64 2>/dev/null | awk '/Depends: linux-image-[0-9]/ {print $2; exit}')
	if [ -z "$KPKG" ]; then
		apt-get update -qq
		KPKG=$(apt-cache depends linux-image-amd64 | awk '/Depends: linux-image-[0-9]/ {print $2; exit}')
	fi
	[ -n "$KPKG" ] || die "cannot resolve linux-image-amd64 to a kernel package"
	# apt-get download drops privileges to _apt: give it a directory it may write.
	DL=$WORK/deb
	mkdir -p "$DL"
	chmod 0777 "$DL"
	(cd "$DL" && apt-get download "$KPKG") 2>&1 | grep -v 'unsandboxed' || true
	debs=("$DL/${KPKG}"_*.deb)
	DEB=${debs[0]}
	[ -f "$DEB" ] || die "apt-get download $KPKG produced no .deb in $DL"
	rm -rf "$KROOT.tmp"
	mkdir -p "$KROOT.tmp"
	dpkg-deb -x "$DEB" "$KROOT.tmp"
	rm -rf "$KROOT"
	mv "$KROOT.tmp" "$KROOT"
fi
kernels=("$KROOT"/boot/vmlinuz-*)
VMLINUZ=${kernels[0]}
KVER=${VMLINUZ##*/vmlinuz-}
debs=("$WORK"/deb/linux-image-"$KVER"_*.deb)
DEB_NAME=
[ -f "${debs[0]}" ] && DEB_NAME=${debs[0]##*/}
KCONFIG=$KROOT/boot/config-$KVER
grep -q '^CONFIG_INTEL_IOMMU=y' "$KCONFIG" || die "$KCONFIG lacks CONFIG_INTEL_IOMMU=y"
grep -q '^CONFIG_EVENT_TRACING=y' "$KCONFIG" || die "$KCONFIG lacks CONFIG_EVENT_TRACING=y"

# ---------------------------------------------------------------- initramfs
INITRD=$WORK/initramfs-$KVER.cpio.gz
"$HERE/build-initramfs.sh" --kroot "$KROOT" --init "$HERE/init.sh" --out "$INITRD"

# ---------------------------------------------------------------- disk and command lines
DISK=$WORK/disk-$$.img
rm -f "$DISK"
truncate -s "$((MB + 16))M" "$DISK"

IOMMU_DEV="intel-iommu,intremap=on"
[ "$MODE" = scalable ] && IOMMU_DEV="$IOMMU_DEV,x-scalable-mode=on"
BLK_DEV="virtio-blk-pci,drive=d0,bus=rp1,disable-legacy=on,iommu_platform=on"
if [ "$DEVTLB" = 1 ]; then
	IOMMU_DEV="$IOMMU_DEV,device-iotlb=on"
	BLK_DEV="$BLK_DEV,ats=on"
fi
SM=sm_on
[ "$MODE" = legacy ] && SM=sm_off
# trace_event= switches the guest events on at boot, before any device is attached to a domain.
APPEND="console=ttyS0 rdinit=/init panic=-1 loglevel=6 intel_iommu=on,$SM iommu.strict=$STRICT"
APPEND="$APPEND iommu.passthrough=0 trace_event=iommu:*,intel_iommu:* trace_buf_size=32M"
APPEND="$APPEND ims.mb=$MB ims.dump=$DUMP"

rm -f "$OUT"/qemu-vtd.log "$OUT"/console.txt "$OUT"/ftrace-raw.txt "$OUT"/guest-ftrace.txt \
	"$OUT"/monitor.txt "$OUT"/guest-memory.elf "$OUT"/*.ist "$OUT"/dump-check.json \
	"$OUT"/import-*.txt "$OUT"/*-run.json "$OUT"/*-run.txt
# The commas below are QEMU's own option syntax, not mistaken array separators.
# shellcheck disable=SC2054
QEMU_ARGS=(
	-machine q35,accel=tcg -cpu max -smp 1 -m "$MEM"
	-nodefaults -no-user-config -display none -no-reboot
	-device "$IOMMU_DEV"
	-device pcie-root-port,id=rp1,bus=pcie.0,chassis=1,slot=1
	-drive "file=$DISK,if=none,id=d0,format=raw,cache=unsafe"
	-device "$BLK_DEV"
	-kernel "$VMLINUZ" -initrd "$INITRD" -append "$APPEND"
	-serial "file:$OUT/console.txt"
	-serial "file:$OUT/ftrace-raw.txt"
	-trace "enable=$QTRACE" -D "$OUT/qemu-vtd.log" -msg timestamp=on
)
# Interrupt remapping events fire for every timer interrupt (the i8254 IOAPIC route also logs a
# vtd_warn_ir_vector each time): a leading '-' switches a pattern off again.
[ "$WITH_IR" = 1 ] || QEMU_ARGS+=(-trace "enable=-vtd_ir_*" -trace "enable=-vtd_warn_ir_*")
FIFOS=()
if [ "$DUMP" = 1 ]; then
	# Monitor and a third serial port over named pipes: the host sends HMP commands on the first and
	# tells the guest "dump done" on the second. Only shell and fifos, no socat/python needed.
	for f in mon.in mon.out s2.in s2.out; do
		rm -f "$OUT/$f"
		mkfifo "$OUT/$f"
		FIFOS+=("$OUT/$f")
	done
	# shellcheck disable=SC2054
	QEMU_ARGS+=(-chardev "pipe,id=mon0,path=$OUT/mon" -mon chardev=mon0,mode=readline
		-chardev "pipe,id=s2,path=$OUT/s2" -serial chardev:s2)
fi

QEMU_VERSION=$(qemu-system-x86_64 --version | head -n 1)
log "QEMU: $QEMU_VERSION; guest kernel $KVER; mode=$MODE strict=$STRICT devtlb=$DEVTLB dump=$DUMP mb=$MB"
log "output: $OUT"

# ---------------------------------------------------------------- run
T0=$(date +%s)
timeout "$TIMEOUT" qemu-system-x86_64 "${QEMU_ARGS[@]}" &
QPID=$!
cleanup() {
	kill "$QPID" 2>/dev/null || true
	for j in $(jobs -p); do kill "$j" 2>/dev/null || true; done
	rm -f "${FIFOS[@]}" "$DISK"
}
trap cleanup EXIT

# Show the guest's own progress lines as they arrive.
for _ in $(seq 50); do [ -e "$OUT/console.txt" ] && break; sleep 0.1; done
tail -n +1 --pid="$QPID" -F "$OUT/console.txt" 2>/dev/null | grep --line-buffered -E 'ims-init|ims-dd|Kernel panic' &

if [ "$DUMP" = 1 ]; then
	cat "$OUT/mon.out" >"$OUT/monitor.txt" &
	cat "$OUT/s2.out" >/dev/null &
	exec 8>"$OUT/mon.in" 9>"$OUT/s2.in"
	while kill -0 "$QPID" 2>/dev/null && ! grep -q IOMMUSIM-DUMP-READY "$OUT/console.txt"; do sleep 1; done
	if kill -0 "$QPID" 2>/dev/null; then
		log "guest is ready: pausing it and writing $OUT/guest-memory.elf"
		printf 'stop\ndump-guest-memory %s\ncont\ninfo status\n' "$OUT/guest-memory.elf" >&8
		# HMP runs the commands in order; "info status" answers only after the dump has finished.
		for _ in $(seq 600); do
			grep -q 'VM status: running' "$OUT/monitor.txt" 2>/dev/null && break
			sleep 0.5
		done
		grep -q 'VM status: running' "$OUT/monitor.txt" || log "WARNING: no monitor confirmation of the dump"
		echo "done" >&9
	fi
fi

set +e
wait "$QPID"
QRC=$?
set -e
T1=$(date +%s)
trap - EXIT
cleanup
[ "$QRC" = 124 ] && die "QEMU did not finish within $TIMEOUT s (see $OUT/console.txt)"
[ "$QRC" = 0 ] || die "QEMU exited with status $QRC (see $OUT/console.txt)"
log "guest finished in $((T1 - T0)) s"

# ---------------------------------------------------------------- outputs
tr -d '\r' <"$OUT/ftrace-raw.txt" |
	sed -n '/^=== IOMMUSIM-FTRACE-BEGIN ===$/,/^=== IOMMUSIM-FTRACE-END ===$/p' |
	sed '1d;$d' >"$OUT/guest-ftrace.txt"
rm -f "$OUT/ftrace-raw.txt"
grep -q 'IOMMUSIM-DONE' "$OUT/console.txt" || die "the guest did not reach the end of init.sh (see $OUT/console.txt)"
grep -q '^# tracer:' "$OUT/guest-ftrace.txt" || die "no ftrace header received (see $OUT/console.txt)"
grep -q ':vtd_' "$OUT/qemu-vtd.log" || die "no vtd_ events in $OUT/qemu-vtd.log"
[ "$DUMP" = 0 ] || [ -s "$OUT/guest-memory.elf" ] || die "no memory dump written"

{
	echo "# iommusim capture (tools/capture/capture.sh)"
	echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
	echo "host: $(. /etc/os-release && echo "$PRETTY_NAME"), $(uname -r), $(nproc) cores"
	echo "qemu: $QEMU_VERSION"
	echo "qemu-package: $(dpkg-query -W -f '${Package} ${Version}' qemu-system-x86 2>/dev/null || echo unknown)"
	echo "guest-kernel: $KVER (from ${DEB_NAME:-an earlier download under $WORK/deb})"
	echo "busybox: $(busybox 2>&1 | head -n 1)"
	echo "options: mode=$MODE strict=$STRICT devtlb=$DEVTLB dump=$DUMP workload-mb=$MB mem=${MEM}M with-ir=$WITH_IR"
	echo "wall-seconds: $((T1 - T0))"
	echo "qemu-command: qemu-system-x86_64 ${QEMU_ARGS[*]}"
	echo "kernel-append: $APPEND"
	echo "qemu-vtd.log: $(wc -l <"$OUT/qemu-vtd.log") lines, $(wc -c <"$OUT/qemu-vtd.log") bytes"
	echo "guest-ftrace.txt: $(grep -vc '^#' "$OUT/guest-ftrace.txt") events, $(wc -c <"$OUT/guest-ftrace.txt") bytes"
	echo "qemu-events:"
	sed -E 's/^[0-9]+@[0-9.]+://' "$OUT/qemu-vtd.log" | awk '{print $1}' | sort | uniq -c | sort -rn | sed 's/^/  /'
	echo "guest-events:"
	grep -v '^#' "$OUT/guest-ftrace.txt" | grep -oE ' [a-z_]+: ' | sort | uniq -c | sort -rn | sed 's/^/  /'
	echo "guest-console:"
	tr -d '\r' <"$OUT/console.txt" | grep -E 'ims-(init|dd|dmesg)' | sed 's/^/  /'
} >"$OUT/capture.txt"
log "wrote $OUT/capture.txt"

# ---------------------------------------------------------------- import and dump check (optional)
# The newest iommusim binary in the tree's build directories, unless --iommusim named one.
if [ -z "$IOMMUSIM" ]; then
	for b in "$REPO"/build/iommusim "$REPO"/build*/iommusim; do
		[ -x "$b" ] || continue
		if [ -z "$IOMMUSIM" ] || [ "$b" -nt "$IOMMUSIM" ]; then IOMMUSIM=$b; fi
	done
fi
# `iommusim import` is newer than this kit: use it only when the binary has the command.
# The ftrace import uses --time rel (the capture's gaps): with absolute guest timestamps a replayed
# guest-level record can be due before the simulator has finished the previous one, which `run` rejects.
if [ "$IMPORT" = 1 ]; then
	if [ -n "$IOMMUSIM" ] && "$IOMMUSIM" import --help >/dev/null 2>&1; then
		log "importing and replaying with $IOMMUSIM"
		"$IOMMUSIM" import qemu-vtd "$OUT/qemu-vtd.log" -o "$OUT/qemu.ist" 2>"$OUT/import-qemu.txt" ||
			log "WARNING: qemu-vtd import failed (see $OUT/import-qemu.txt)"
		"$IOMMUSIM" import ftrace "$OUT/guest-ftrace.txt" --time rel -o "$OUT/ftrace.ist" 2>"$OUT/import-ftrace.txt" ||
			log "WARNING: ftrace import failed (see $OUT/import-ftrace.txt)"
		for t in qemu ftrace; do
			[ -s "$OUT/$t.ist" ] || continue
			"$IOMMUSIM" trace validate "$OUT/$t.ist" || { log "WARNING: $t.ist does not validate"; continue; }
			if "$IOMMUSIM" run "$OUT/$t.ist" --quiet --json "$OUT/$t-run.json" >"$OUT/$t-run.txt" 2>&1; then
				log "replayed $t.ist: $(grep -m1 "iommusim run:" "$OUT/$t-run.txt")"
			else
				log "WARNING: replaying $t.ist failed: $(head -n 3 "$OUT/$t-run.txt")"
			fi
		done
	else
		log "no iommusim with an import command found: skipped the import (see README)"
	fi
fi
# With a memory dump: replay the guest's live mappings through its own tables in the simulator.
if [ "$DUMP" = 1 ]; then
	"$HERE/dump-check.sh" "$OUT"
	if [ -n "$IOMMUSIM" ]; then
		if "$IOMMUSIM" run "$OUT/dump-check.ist" --quiet --json "$OUT/dump-check.json" >/dev/null; then
			log "dump check passed: $IOMMUSIM walked the guest's tables to the same addresses"
		else
			die "dump check FAILED: $IOMMUSIM run $OUT/dump-check.ist"
		fi
	else
		log "no iommusim binary found: run 'iommusim run $OUT/dump-check.ist' yourself"
	fi
fi
log "done"
