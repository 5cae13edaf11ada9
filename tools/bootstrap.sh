#!/usr/bin/env bash
# Install the Debian 12 packages iommusim needs to build, test and run.
# Idempotent: when everything is present it changes nothing and prints one line.
set -euo pipefail

packages=(
  cmake make gcc g++ pkg-config git   # toolchain
  googletest libgtest-dev             # unit tests (GoogleTest)
  libzstd-dev zstd                    # compressed traces
  libelf-dev                          # ELF memory snapshots (mem.load)
  libsystemc-dev                      # SystemC/TLM-2.0 adapter
  libinih-dev                         # INI configuration files
  libcjson-dev                        # JSON results
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q '^install ok installed$'; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "bootstrap: all ${#packages[@]} packages present"
  exit 0
fi

echo "bootstrap: installing ${missing[*]}"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
