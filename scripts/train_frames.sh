#!/usr/bin/env bash
# Trains the page's frame predictor from scratch on the CPU: the dataset `world gen` writes,
# the width-32 teacher and the width-16 student side by side, one core each, the student
# distilling on its own rollouts from each new version of the teacher as it trains, then the
# student given the move that led to the last frame (its move biases looked up by the pair of
# moves, every pair starting from its move's row) and trained on for PAIRS_MINUTES more on
# both cores. Each run checkpoints its weights and writes its log and held-out scores (drawn
# `--compose conserve`; `eval --nets-only` scores them as the page draws) beside them.
#
#   bash scripts/train_frames.sh      # the page's weights: 72 + 34 minutes, into runs/frames
#   OUT=runs/b3 LAYOUT=chain TEACHER_MINUTES=38 STUDENT_MINUTES=45 PAIRS_MINUTES=22 bash scripts/train_frames.sh
#   BACKEND=flex bash scripts/train_frames.sh   # burn's pure-Rust backend, 3-4x slower
#
# The first line trained the page's weights on LibTorch in 107 minutes of wall clock
# (docs/training/TRIES.md, "LibTorch"). LAYOUT=chain trains the teacher, then the student,
# then the move pairs, each on both cores (burn's flex backend keeps only about 1.2 of them
# busy in one run, hence the side-by-side layout).
#
# Anything built beside a run goes at `chrt -i 0` (SCHED_IDLE): it then costs the run nothing
# measurable, where at nice 19 it took a third of the teacher's throughput.
#
# Then export the student beside the state nets for the page, and score what the page runs:
#   cargo run -p model --release --bin export -- --frames runs/frames/pairs/frames.bin \
#     --frames-move-pairs --state checkpoints/next/state
#   cat runs/frames/student/log.txt runs/frames/pairs/log.txt > runs/frames/log.txt
#   cargo run -p model --release --bin eval -- --nets-only --update-manifest \
#     --frames-teacher runs/frames/teacher --frames-student-log runs/frames/log.txt
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
OUT=${OUT:-runs/frames}
DATA=${DATA:-data/train}
TEACHER_MINUTES=${TEACHER_MINUTES:-60}
STUDENT_MINUTES=${STUDENT_MINUTES:-52}
PAIRS_MINUTES=${PAIRS_MINUTES:-34}
PAIRS_LR=${PAIRS_LR:-5e-4}
# chain: teacher, then student, then the student with move pairs (the *_MINUTES above);
# parallel: teacher and student side by side for SIDE_MINUTES, then the move pairs.
LAYOUT=${LAYOUT:-parallel}
SIDE_MINUTES=${SIDE_MINUTES:-72}
started=$SECONDS

say() { printf '==> [%dm%02ds] %s\n' $(((SECONDS - started) / 60)) $(((SECONDS - started) % 60)) "$*"; }

# libtorch: burn's LibTorch backend, linked against a Python PyTorch 2.9.0 installed once into
# TORCH_ENV (about 4 GB with its CUDA libraries, which stay unused: training runs on the CPU),
# built into a target folder of its own; several times faster here than flex, burn's
# pure-Rust CPU backend (docs/BENCHMARKS.md). BACKEND=flex needs nothing more.
BACKEND=${BACKEND:-libtorch}
target=${CARGO_TARGET_DIR:-target}
features=()
threads=RAYON_NUM_THREADS
if [[ $BACKEND == libtorch ]]; then
  TORCH_ENV=${TORCH_ENV:-$HOME/.cache/world-model-playground/torch-2.9.0}
  if [[ ! -x "$TORCH_ENV/bin/python3" ]]; then
    say "installing PyTorch 2.9.0 into $TORCH_ENV (its libtorch is what burn's tch backend links)"
    python3 -m venv "$TORCH_ENV"
    "$TORCH_ENV/bin/python3" -m pip install --quiet torch==2.9.0
  fi
  export PATH="$TORCH_ENV/bin:$PATH" LIBTORCH_USE_PYTORCH=1
  LD_LIBRARY_PATH="$("$TORCH_ENV/bin/python3" -c 'import os, torch; print(os.path.dirname(torch.__file__))')/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
  export LD_LIBRARY_PATH
  target=$target/libtorch
  features=(--features tch)
  threads=OMP_NUM_THREADS
fi
CARGO_TARGET_DIR=$target cargo build --release -p world -p model "${features[@]}" --bin world --bin dream
bin=$target/release
started=$SECONDS

if [[ ! -f "$DATA/manifest.json" ]]; then
  say "generating the dataset in $DATA"
  "$bin/world" gen --seed 1 --episodes 4000 --out "$DATA"
fi

# What every part reads and how it is scored; the side-by-side or chained parts start from seed
# 1, the move pairs from seed 3.
data=(--data "$DATA" --backend "$BACKEND" --w-counts 0 --w-centroids 0 --compose conserve)
common=("${data[@]}" --seed 1)

# Each part's output goes to the terminal and to log.txt beside its weights (`eval` reads the
# WALL lines for the training budget: runs side by side count once).
part() {
  local dir=$1
  shift
  mkdir -p "$dir"
  "$@" --out "$dir" 2>&1 | tee "$dir/log.txt"
}

if [[ $LAYOUT == parallel ]]; then
  # burn's flex backend keeps about 1.2 of the 2 cores busy in one run, and two runs of one
  # thread each train as fast each as one run on both: so the teacher and the student train
  # side by side, one core each, for SIDE_MINUTES of wall clock. The student reads each new
  # version of the teacher's weights (written every 10 minutes) and distils from it, training
  # on the data alone until the first. Then the student with the last move, as in the chain.
  say "teacher (width 32) and student (width 16) side by side, $SIDE_MINUTES minutes -> $OUT/teacher, $OUT/student"
  part "$OUT/teacher" env "$threads=1" "$bin/dream" "${common[@]}" --eval-every 1800 \
    --save-every 600 --minutes "$SIDE_MINUTES" &
  teacher=$!
  part "$OUT/student" env "$threads=1" "$bin/dream" "${common[@]}" --eval-every 900 \
    --width 16 --bottleneck 1 --teacher "$OUT/teacher/frames.bin" --teacher-width 32 --teacher-reload 60 \
    --minutes "$SIDE_MINUTES"
  wait "$teacher"
else
  say "teacher: width 32, $TEACHER_MINUTES minutes -> $OUT/teacher"
  part "$OUT/teacher" "$bin/dream" "${common[@]}" --eval-every 900 --minutes "$TEACHER_MINUTES"

  say "student: width 16, one 8x8 block, distilled for $STUDENT_MINUTES minutes -> $OUT/student"
  part "$OUT/student" "$bin/dream" "${common[@]}" --eval-every 900 --width 16 --bottleneck 1 \
    --teacher "$OUT/teacher/frames.bin" --teacher-width 32 --minutes "$STUDENT_MINUTES"
fi

# The student given the move that led to the last frame, from the student's weights.
say "student with the last move: $PAIRS_MINUTES more minutes -> $OUT/pairs"
part "$OUT/pairs" "$bin/dream" "${data[@]}" --eval-every 600 --eval-episodes 20 --seed 3 --width 16 --bottleneck 1 \
  --init "$OUT/student/frames.bin" --move-pairs --expand-moves --lr "$PAIRS_LR" --kmin 3 \
  --rollout 6 --minutes "$PAIRS_MINUTES"

say "done: teacher and student trained in $(((SECONDS - started) / 60)) minutes of wall clock"
