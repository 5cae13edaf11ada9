#!/bin/bash
# Turn a capture directory (capture.sh --out DIR) into a small test fixture: each log is cut to a prefix of at
# most MAXKB KiB that ends on a whole line. A prefix keeps the original first lines (QEMU's register set-up,
# the ftrace header and boot-time group/domain events) and one contiguous excerpt of the workload after them.
#
# usage: make-fixture.sh SRC_DIR DST_DIR [MAXKB]      (MAXKB defaults to 256)
set -euo pipefail

[ $# -ge 2 ] || { sed -n '2,6p' "$0"; exit 2; }
SRC=$1
DST=$2
MAXKB=${3:-256}
case "$MAXKB" in ''|*[!0-9]*) echo "make-fixture: MAXKB must be a number" >&2; exit 2 ;; esac
for f in qemu-vtd.log guest-ftrace.txt capture.txt; do
	[ -s "$SRC/$f" ] || { echo "make-fixture: $SRC/$f missing or empty" >&2; exit 1; }
done
mkdir -p "$DST"

# Prefix of at most MAXKB KiB, dropping a partial last line. Prints "kept/total lines".
trim() {
	local in=$1 out=$2 total kept
	head -c "$((MAXKB * 1024))" "$in" >"$out.part"
	# A cut inside a line leaves no trailing newline: drop that partial line.
	if [ -n "$(tail -c 1 "$out.part")" ]; then
		sed -i '$d' "$out.part"
	fi
	mv "$out.part" "$out"
	total=$(wc -l <"$in")
	kept=$(wc -l <"$out")
	echo "$kept/$total"
}

q=$(trim "$SRC/qemu-vtd.log" "$DST/qemu-vtd.log")
g=$(trim "$SRC/guest-ftrace.txt" "$DST/guest-ftrace.txt")

{
	cat "$SRC/capture.txt"
	echo "trimming (tools/capture/make-fixture.sh, MAXKB=$MAXKB):"
	echo "  qemu-vtd.log: first ${q%/*} of ${q#*/} lines kept (whole-line prefix of at most $MAXKB KiB)"
	echo "  guest-ftrace.txt: first ${g%/*} of ${g#*/} lines kept (whole-line prefix of at most $MAXKB KiB)"
	echo "  nothing else was edited; the event counts above are those of the untrimmed capture"
	echo "  the ftrace header's entries-in-buffer count is the untrimmed one too"
} >"$DST/capture.txt"
echo "make-fixture: $DST: qemu-vtd.log $q lines, guest-ftrace.txt $g lines"
