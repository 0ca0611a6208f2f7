#!/usr/bin/env bash
# Builds SegForge (installing missing packages) and launches it on the bundled
# sample project. Extra arguments are passed to the program.
set -euo pipefail
cd "$(dirname "$0")/.."

./scripts/deps.sh
BUILD_DIR="${SEGFORGE_BUILD_DIR:-build/release}"
cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release \
      -DSEGFORGE_BUILD_TESTS=OFF -DSEGFORGE_BUILD_BENCHMARKS=OFF >/dev/null
cmake --build "$BUILD_DIR" --parallel "$(nproc)"

SAMPLE=resources/projects/sample_unet.segforge
if [ -x "$BUILD_DIR/app/segforge" ] && [ -n "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ]; then
  # Without a file the app opens the sample U-Net from the user's data
  # directory, generating its sample dataset there on first run.
  exec "$BUILD_DIR/app/segforge" "$@"
fi
# No GUI (yet, or no display): check the sample project on the command line.
if [ $# -gt 0 ]; then
  exec "$BUILD_DIR/app/segforge-cli" "$@"
fi
exec "$BUILD_DIR/app/segforge-cli" check "$SAMPLE"
