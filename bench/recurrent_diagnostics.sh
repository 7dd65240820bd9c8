#!/usr/bin/env bash
# The measurements behind docs/recurrent-models.md: gradient flow, memory over distance, speed
# against length. Outputs (JSON + the printed tables) go to bench/results/, plots to docs/img/.
# About 15 minutes on 2 cores; keep the machine otherwise idle.
#   bash bench/recurrent_diagnostics.sh [trained-char-lm.nlpk]
set -euo pipefail
cd "$(dirname "$0")/.."
R=bench/results/recurrent
mkdir -p "$R" docs/img
{ echo "# $(date -u '+%Y-%m-%d %H:%M UTC'); $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2); $(nproc) cores"; } > "$R/machine.txt"

run() {  # name, then the diagnose arguments
  local name=$1; shift
  echo "+ nlpkit diagnose $*" | tee "$R/$name.txt"
  nlpkit diagnose "$@" --format json > "$R/$name.json"
  nlpkit diagnose "$@" >> "$R/$name.txt" 2>/dev/null
}

run gradients-random gradients --length 200 --batch 16 --hidden 128 --plot docs/img/gradients-random.png
if [[ $# -ge 1 ]]; then
  run gradients-trained gradients --model "$1" --text ../shared/data/tinyshakespeare/input.txt --length 200 --batch 16 \
    --plot docs/img/gradients-trained.png
fi
run speed speed --lengths 16,64,256,1024 --batch 16 --hidden 256 --layers 2 --plot docs/img/speed.png --quiet
# memory trains 2 tasks x 4 encoders x 6 distances; the table run reuses nothing, so run it once as JSON
echo "+ nlpkit diagnose memory --steps 400 --distances 5,10,20,50,100,200" | tee "$R/memory.txt"
nlpkit diagnose memory --steps 400 --distances 5,10,20,50,100,200 --format json --plot docs/img/memory.png > "$R/memory.json" 2>> "$R/memory.txt"
