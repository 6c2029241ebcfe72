#!/usr/bin/env bash
# Installs the Debian 12 packages tinyelf needs that are missing (nothing is downloaded any other
# way). Extra package names given as arguments are installed too.
set -euo pipefail

packages=(
  cmake ninja-build g++ clang libclang-rt-14-dev  # toolchains (clang: sanitizers, fuzzers)
  libasmjit-dev libfmt-dev catch2 libbenchmark-dev # libraries
  elfutils binutils file nasm python3 pkg-config   # tools the tests and the demo run
  "$@"
)

missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "installing: ${missing[*]}"
sudo=()
[ "$(id -u)" -eq 0 ] || sudo=(sudo)
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -q
"${sudo[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
