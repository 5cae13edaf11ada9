#!/bin/bash
# Build the capture guest's initramfs: busybox-static, the kernel modules the guest needs (with their
# dependencies, in load order) and tools/capture/init.sh as /init. No root filesystem, no debootstrap.
#
# usage: build-initramfs.sh --kroot DIR --init FILE --out FILE [--modules "virtio_blk virtio_pci"]
#   --kroot   the extracted linux-image .deb (holds boot/ and lib/modules/VERSION/)
#   --init    the init script to install as /init
#   --out     the gzip-compressed cpio archive to write
set -euo pipefail

die() { echo "build-initramfs: $*" >&2; exit 1; }

KROOT=
INIT=
OUT=
MODULES="virtio_pci virtio_blk"
while [ $# -gt 0 ]; do
	case "$1" in
	--kroot) KROOT=$2; shift 2 ;;
	--init) INIT=$2; shift 2 ;;
	--out) OUT=$2; shift 2 ;;
	--modules) MODULES=$2; shift 2 ;;
	-h|--help) sed -n '2,9p' "$0"; exit 0 ;;
	*) die "unknown argument $1" ;;
	esac
done
if [ -z "$KROOT" ] || [ -z "$INIT" ] || [ -z "$OUT" ]; then
	die "need --kroot, --init and --out (see --help)"
fi
[ -f "$INIT" ] || die "no init script $INIT"
BUSYBOX=$(command -v busybox) || die "busybox not found (apt-get install busybox-static)"
# A dynamically linked busybox would need its libraries in the initramfs too.
if ldd "$BUSYBOX" >/dev/null 2>&1; then
	die "$BUSYBOX is dynamically linked; install busybox-static"
fi
command -v cpio >/dev/null || die "cpio not found (apt-get install cpio)"
command -v modinfo >/dev/null || die "modinfo not found (apt-get install kmod)"

kdirs=("$KROOT"/lib/modules/*)
[ -d "${kdirs[0]}" ] || die "no lib/modules/VERSION under $KROOT"
KVER=${kdirs[0]##*/}
MODDIR=$KROOT/lib/modules/$KVER
CONFIG=$KROOT/boot/config-$KVER

STAGE=$(mktemp -d)
trap 'rm -rf "$STAGE"' EXIT
mkdir -p "$STAGE"/{bin,sbin,proc,sys,dev,tmp,lib/modules}
cp "$BUSYBOX" "$STAGE/bin/busybox"
for applet in $("$BUSYBOX" --list); do
	[ -e "$STAGE/bin/$applet" ] || ln -s busybox "$STAGE/bin/$applet"
done
install -m 0755 "$INIT" "$STAGE/init"

# Resolve a module name to its file (names use '_' but files may use '-').
modfile() {
	local n=$1 alt=${1//_/-}
	find "$MODDIR/kernel" \( -name "$n.ko*" -o -name "$alt.ko*" \) -print -quit
}

# Depth-first over modinfo's "depends" so every module comes after what it needs.
ORDER=()
declare -A SEEN=()
visit() {
	local name=$1 file deps d
	[ -z "${SEEN[$name]:-}" ] || return 0
	SEEN[$name]=1
	# Built into the kernel: nothing to load.
	if grep -q "/$name.ko" "$MODDIR/modules.builtin" 2>/dev/null; then
		return 0
	fi
	file=$(modfile "$name")
	[ -n "$file" ] || die "module $name neither built in nor found under $MODDIR (check $CONFIG)"
	deps=$(modinfo -F depends "$file" | tr ',' ' ')
	for d in $deps; do visit "$d"; done
	ORDER+=("$file")
}
for m in $MODULES; do visit "$m"; done

: >"$STAGE/lib/modules/load-order"
for f in "${ORDER[@]}"; do
	base=$(basename "$f")
	# busybox insmod wants plain ELF objects: undo the .xz/.zst compression newer Debian kernels use.
	case "$base" in
	*.ko) cp "$f" "$STAGE/lib/modules/$base" ;;
	*.ko.xz) base=${base%.xz}; xz -dc "$f" >"$STAGE/lib/modules/$base" ;;
	*.ko.zst) base=${base%.zst}; zstd -qdc "$f" >"$STAGE/lib/modules/$base" ;;
	*) die "unexpected module file $f" ;;
	esac
	echo "$base" >>"$STAGE/lib/modules/load-order"
done

(cd "$STAGE" && find . -print0 | cpio --null -o -H newc --quiet) | gzip -9 >"$OUT.tmp.$$"
mv "$OUT.tmp.$$" "$OUT"
echo "build-initramfs: $OUT ($(du -h "$OUT" | cut -f1)); modules: $(tr '\n' ' ' <"$STAGE/lib/modules/load-order")"
