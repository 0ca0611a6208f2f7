#!/usr/bin/env bash
# Thread scaling of the reference U-Net on a many-core machine, in one run
# (goal 3 of the engine work): for batch 8 and 32,
#   * `segforge-cli bench --scaling`: the bound the cut of the work allows at
#     each count, and the step really measured at each count up to the cores;
#   * with Debian's python3-torch present: `compare_torch.py --threads-list`,
#     PyTorch and SegForge side by side at each count.
# Needs no network. It uses build/bench/app/segforge-cli when that exists (carry
# it over with the tree), else builds it (the CLI only: no Qt).
#
#   bench/scaling_study.sh OUT_DIR [THREADS]      THREADS: default 2,4,8,16
#
# Writes OUT_DIR/machine.txt, scaling-b8.{txt,json}, scaling-b32.{txt,json} and,
# with PyTorch, threads.md. About 3 minutes without PyTorch on 16 cores.
set -euo pipefail
cd "$(dirname "$0")/.."

out="${1:?usage: bench/scaling_study.sh OUT_DIR [THREADS]}"
threads="${2:-2,4,8,16}"
mkdir -p "$out"
cli=build/bench/app/segforge-cli
if [ ! -x "$cli" ]; then
  cmake -S . -B build/bench -G Ninja -DCMAKE_BUILD_TYPE=Release -DSEGFORGE_BUILD_GUI=OFF \
        -DSEGFORGE_BUILD_TESTS=OFF -DSEGFORGE_BUILD_BENCHMARKS=OFF >/dev/null
  cmake --build build/bench --target segforge-cli --parallel "$(nproc)"
fi

{ lscpu; echo; free -g; echo; "$cli" --version; git rev-parse HEAD 2>/dev/null || true; } \
  > "$out/machine.txt" 2>&1
project="$out/reference-unet.segforge"
"$cli" template unet --depth 4 --filters 16 --size 128 --channels 3 --classes 1 \
  --up upsample_conv -o "$project" >/dev/null

for batch in 8 32; do
  steps=$([ "$batch" = 8 ] && echo 12 || echo 6)
  "$cli" bench "$project" --threads 0 --batch "$batch" --steps "$steps" --scaling "$threads" \
    | tee "$out/scaling-b$batch.txt"
  "$cli" bench "$project" --threads 0 --batch "$batch" --steps "$steps" --scaling "$threads" \
    --json > "$out/scaling-b$batch.json"
done

if /usr/bin/python3 -c "import torch" 2>/dev/null; then
  /usr/bin/python3 bench/compare_torch.py --cli "$cli" --threads-list "1,$threads" --batch 8,32 \
    --repeat 1 --grid-seconds 8 --out "$out/threads.md"
else
  echo "no python3-torch here: PyTorch's side of the study is left out" | tee "$out/threads.md"
fi
