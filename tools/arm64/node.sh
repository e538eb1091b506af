#!/usr/bin/env bash
# Runs an arm64 Node.js under qemu-user: `tools/arm64/node.sh <node args>`.
# The first call unpacks Debian's arm64 nodejs into $ITOKIT_ARM64_ROOT (default /opt/itokit-arm64):
# `apt-get download` + `dpkg-deb -x`, never `apt-get install nodejs:arm64`, because Debian's nodejs
# is not co-installable across architectures: installing the arm64 one removes the host's x64 Node.
# Its shared libraries (libc6, libstdc++6, libuv1, libicu72, libssl3, ... :arm64) are co-installable
# and come from apt with `dpkg --add-architecture arm64` (.ci/run installs them). Debian keeps some
# of Node's built-in JS modules outside the binary (/usr/share/nodejs/{acorn,cjs-module-lexer,undici});
# qemu's -L prefix makes the unpacked copies visible at those paths.
set -euo pipefail
prefix=${ITOKIT_ARM64_ROOT:-/opt/itokit-arm64}
if [ ! -x "$prefix/usr/bin/node" ]; then
  tmp=$(mktemp -d) && chmod 755 "$tmp"   # apt downloads as _apt
  trap 'rm -rf "$tmp"' EXIT
  # the explicit version also works where an apt pin keeps nodejs from ever being installed
  ver=$(apt-cache madison nodejs | awk -F'|' 'NR == 1 { gsub(/ /, "", $2); print $2 }')
  (cd "$tmp" && apt-get download -qq "nodejs:arm64=$ver" "libnode108:arm64=$ver" node-acorn node-cjs-module-lexer node-undici node-busboy node-xtend >&2)
  mkdir -p "$prefix"
  for deb in "$tmp"/*.deb; do dpkg-deb -x "$deb" "$prefix"; done
fi
exec qemu-aarch64 -L "$prefix" -E LD_LIBRARY_PATH="$prefix/usr/lib/aarch64-linux-gnu" "$prefix/usr/bin/node" "$@"
