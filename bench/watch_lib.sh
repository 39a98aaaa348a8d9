# Shared by the live-camera benchmarks (watch_capacity, serve_watch_live, watch_faults, watch_pg_restart); sourced, not run.
# The shared video and detector, the reid build to run, and a record of the machine each figure came from.
shared=${REID_SHARED:-../shared}
video=$shared/data/videos/one-by-one-person-detection.mp4
detector=$shared/models/yolox_nano.onnx
reid=${REID_DLL:-src/Reid.Cli/bin/Release/net10.0/reid.dll}
[ -f "$video" ] && [ -f "$detector" ] || { echo "needs $video and $detector" >&2; exit 2; }

# machine_info FILE: CPU model, whether it has AVX-512 BF16, cores, and the start time.
machine_info() {
  { grep -m1 'model name' /proc/cpuinfo; grep -o -w -m1 avx512_bf16 /proc/cpuinfo || echo "no avx512_bf16"; nproc; date -u +%FT%TZ; } > "$1"
}
