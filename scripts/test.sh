#!/usr/bin/env bash
# Builds SegForge and runs the whole test suite (installs missing packages first).
# Incremental: a second run only rebuilds what changed.
set -euo pipefail
cd "$(dirname "$0")/.."

./scripts/deps.sh
BUILD_DIR="${SEGFORGE_TEST_BUILD_DIR:-build/test}"
cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
      -DSEGFORGE_BUILD_TESTS=ON -DSEGFORGE_WERROR=ON ${SEGFORGE_CMAKE_ARGS:-} >/dev/null
cmake --build "$BUILD_DIR" --parallel "$(nproc)"
export QT_QPA_PLATFORM=offscreen
# ctest prints "N% tests passed, M tests failed out of T": a run of zero tests is visible.
ctest --test-dir "$BUILD_DIR" --output-on-failure --parallel "$(nproc)" --timeout 600
