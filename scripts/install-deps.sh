#!/usr/bin/env bash
# Installs Weir's build and test dependencies from Debian's packages.
# Safe to run repeatedly: it only calls apt-get when a package is missing.
set -euo pipefail

packages=(
  g++ cmake make pkg-config
  libcaf-dev
  libprotobuf-dev protobuf-compiler
  liblz4-dev
  doctest-dev
  libboost-program-options-dev
  libyaml-cpp-dev
  libspdlog-dev
  libcpp-httplib-dev nlohmann-json3-dev libssl-dev
  chromium chromium-driver fonts-dejavu-core
  prometheus
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed"; then
    missing+=("$p")
  fi
done

if ((${#missing[@]})); then
  echo "installing: ${missing[*]}" >&2
  sudo_cmd=()
  if [[ $(id -u) -ne 0 ]]; then sudo_cmd=(sudo); fi
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq \
    --no-install-recommends "${missing[@]}" >/dev/null
fi
