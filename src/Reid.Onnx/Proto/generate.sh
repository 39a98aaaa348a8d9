#!/usr/bin/env bash
# Regenerates Proto/Onnx.g.cs from Debian's onnx.proto (package libonnx-dev; protoc from protobuf-compiler).
# The namespace is moved from `Onnx` to `Reid.Onnx.Proto` so it cannot be confused with this library's own.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
tmp="$(mktemp -d)"; trap 'rm -rf "$tmp"' EXIT
protoc --proto_path=/usr/include/onnx --csharp_out="$tmp" /usr/include/onnx/onnx.proto
{
  echo "// Generated from /usr/include/onnx/onnx.proto (Debian libonnx-dev $(dpkg-query -W -f='${Version}' libonnx-dev 2>/dev/null || echo '?'), $(protoc --version)) by"
  echo "//   protoc --proto_path=/usr/include/onnx --csharp_out=. /usr/include/onnx/onnx.proto"
  echo "// with the namespace renamed to Reid.Onnx.Proto; rerun src/Reid.Onnx/Proto/generate.sh, do not edit."
  sed -e 's/^namespace Onnx {/namespace Reid.Onnx.Proto {/' -e 's/global::Onnx\./global::Reid.Onnx.Proto./g' "$tmp/Onnx.cs"
} > "$here/Onnx.g.cs"
