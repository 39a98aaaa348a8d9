#!/usr/bin/env bash
# One idempotent set-up for the whole project: Debian packages, the pinned ONNX Runtime library,
# and a dotnet build. Fast when everything is already there (a stamp file remembers a good run).
#   scripts/setup.sh            everything the CLI, server and tests need
#   scripts/setup.sh --bench    also Debian's python3-torch, for the side-by-side training benchmark
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

ORT_VERSION=1.30.0
APT_PACKAGES=(libturbojpeg0 libdnnl2 libdnnl-dev ffmpeg chromium protobuf-compiler libonnx-dev libgomp1 postgresql)
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

# 3. ONNX Runtime's shared library from the pinned npm package (its install script would fetch CUDA: skip it).
ort_dir="$root/.deps/ort"
ort_lib="$ort_dir/node_modules/onnxruntime-node/bin/napi-v6/linux/x64/libonnxruntime.so.1"
if [[ ! -f "$ort_lib" ]] || ! grep -q "\"version\": \"$ORT_VERSION\"" "$ort_dir/node_modules/onnxruntime-node/package.json" 2>/dev/null; then
  say "installing onnxruntime-node@$ORT_VERSION (npm, --ignore-scripts)"
  mkdir -p "$ort_dir"
  (cd "$ort_dir" && [[ -f package.json ]] || echo '{"name":"reid-deps","private":true}' > "$ort_dir/package.json"
   cd "$ort_dir" && npm install --ignore-scripts --no-audit --no-fund --silent "onnxruntime-node@$ORT_VERSION" >/dev/null)
fi
[[ -f "$ort_lib" ]] || { say "ONNX Runtime library not found at $ort_lib"; exit 1; }

# 4. Build (restore included). Skipped when no source changed since the last good build.
stamp="$root/.build.stamp"
newest=$(find src tests bench -type f \( -name '*.cs' -o -name '*.csproj' -o -name '*.props' -o -name '*.html' -o -name '*.js' -o -name '*.css' \) -newer "$stamp" -print -quit 2>/dev/null || true)
if [[ ! -f "$stamp" || -n "$newest" || "$root/Directory.Build.props" -nt "$stamp" ]]; then
  say "building (dotnet build -c Release)"
  dotnet build "$root/Reid.slnx" -c Release -nologo -v quiet -clp:ErrorsOnly >&2
  touch "$stamp"
fi
