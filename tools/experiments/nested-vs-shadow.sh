#!/bin/sh
# The nested-vs-shadow experiment (docs/experiments/nested-vs-shadow.md): the
# bundled NIC workload (tools/gen-default-workload.py) without its mode=, run
# in nested and shadow mode with strict and lazy guest unmap; prints a
# Markdown table from the JSON results of the "rx" phase.
# usage: tools/experiments/nested-vs-shadow.sh [BUILD_DIR] [PACKETS]
set -eu
build=${1:-build}
packets=${2:-2000}
here=$(dirname "$0")/../..
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
python3 "$here/tools/gen-default-workload.py" "$packets" | sed 's/ mode=nested//' > "$tmp/nic.ist"
for mode in nested shadow; do
    for policy in strict lazy; do
        "$build/iommusim" run "$tmp/nic.ist" --quiet --set vmm.mode=$mode --set guest.unmap_policy=$policy \
            --json "$tmp/$mode-$policy.json" > /dev/null
    done
done
python3 - "$tmp" <<'PY'
import json, sys
d = sys.argv[1]
p = "phase.rx."
print("| mode | unmap | guest inv. total p50 / p99 (us) | guest | exit | VMM | host | HW QI | devTLB (p50, us) "
      "| exposure p50 / p99 (us) | DMAs/s (simulated) | translations/s | guest invalidations |")
print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
for mode in ("nested", "shadow"):
    for pol in ("strict", "lazy"):
        j = json.load(open(f"{d}/{mode}-{pol}.json"))
        g = lambda k, default=0.0: j.get(p + k, default)
        us = lambda k: g(k) / 1000.0
        secs = g("sim.simulated_ns") / 1e9
        row = [mode, pol, f"{us('inv.e2e.total_ns.p50'):.1f} / {us('inv.e2e.total_ns.p99'):.1f}"]
        row += [f"{us('inv.e2e.' + l + '_ns.p50'):.2f}" for l in ("guest", "exit", "vmm", "host", "hw_qi", "devtlb")]
        row += [f"{us('inv.exposure_ns.p50'):.1f} / {us('inv.exposure_ns.p99'):.1f}",
                f"{g('dma.count') / secs:,.0f}", f"{g('iotlb.lookups') / secs:,.0f}",
                f"{int(g('inv.e2e.total_ns.count'))}"]
        print("| " + " | ".join(row) + " |")
PY
