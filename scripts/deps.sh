#!/usr/bin/env bash
# Installs the Debian packages kazu-c builds and tests with; idempotent (does
# nothing when they are present). Needs root (or sudo) only when something is missing.
set -euo pipefail
pkgs=(build-essential cmake pkg-config clang libclang-rt-dev
      libjansson-dev libxml2-dev libyaml-dev zlib1g-dev libutf8proc-dev python3
      libdnnl-dev libsqlite3-dev libzip-dev libssl-dev liblzma-dev libbz2-dev libcurl4-openssl-dev
      libmicrohttpd-dev libjwt-dev wrk libopenmpi-dev openmpi-bin chromium nodejs jq curl openssl)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then exit 0; fi
echo "installing: ${missing[*]}" >&2
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
