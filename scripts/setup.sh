#!/usr/bin/env bash
# One idempotent set-up for the whole project: Debian packages and a dotnet build, whose restore brings
# ONNX Runtime (the Microsoft.ML.OnnxRuntime NuGet package, version pinned in Directory.Packages.props).
# Fast when everything is already there (a stamp file remembers a good run).
#   scripts/setup.sh            everything the CLI, server and tests need
#   scripts/setup.sh --bench    also Debian's python3-torch, for the side-by-side training benchmark
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

APT_PACKAGES=(libturbojpeg0 libdnnl2 libdnnl-dev ffmpeg chromium protobuf-compiler libonnx-dev libgomp1 postgresql rtsp-server-perl)
[[ " $* " == *" --bench "* ]] && APT_PACKAGES+=(python3-torch)

say() { printf '[setup] %s\n' "$*" >&2; }

# 1. .NET SDK: a precondition no reachable registry ships.
if ! command -v dotnet >/dev/null 2>&1 || [[ "$(dotnet --version 2>/dev/null)" != 10.* ]]; then
  say "the .NET 10 SDK is required (found: $(dotnet --version 2>/dev/null || echo none))."
  say "Install it from Microsoft's packages, then run this script again."
  exit 1
fi

# 2. Debian packages, checked one by one with dpkg -s (never assumed).
missing=()
for p in "${APT_PACKAGES[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if ((${#missing[@]})); then
  say "installing Debian packages: ${missing[*]}"
  sudo_cmd=""; [[ $(id -u) -ne 0 ]] && sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# 3. Build (restore included: NuGet packages, ONNX Runtime's native library among them, which the build copies
#    to runtimes/linux-x64/native/ beside every program). Skipped when no source changed since the last good build.
stamp="$root/.build.stamp"
newest=$(find src tests bench -type f \( -name '*.cs' -o -name '*.csproj' -o -name '*.props' -o -name '*.html' -o -name '*.js' -o -name '*.css' \) -newer "$stamp" -print -quit 2>/dev/null || true)
if [[ ! -f "$stamp" || -n "$newest" || "$root/Directory.Build.props" -nt "$stamp" || "$root/Directory.Packages.props" -nt "$stamp" ]]; then
  say "building (dotnet build -c Release)"
  dotnet build "$root/Reid.slnx" -c Release -nologo -v quiet -clp:ErrorsOnly >&2
  touch "$stamp"
fi
