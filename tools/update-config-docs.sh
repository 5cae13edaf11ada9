#!/usr/bin/env bash
# Regenerate configs/default.ini and the schema tables in docs/config.md from the
# schema compiled into iommusim (tests fail when either is out of date).
# usage: tools/update-config-docs.sh [path/to/iommusim]
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${1:-build/iommusim}
"$bin" config --dump > configs/default.ini
md=$("$bin" config --markdown)
python3 - "$md" <<'PY'
import sys
md = sys.argv[1] + "\n"
path = "docs/config.md"
doc = open(path).read()
b, e = "<!-- BEGIN SCHEMA -->\n", "<!-- END SCHEMA -->"
i, j = doc.index(b) + len(b), doc.index(e)
open(path, "w").write(doc[:i] + md + doc[j:])
PY
echo "updated configs/default.ini and docs/config.md"
