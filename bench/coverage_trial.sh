#!/usr/bin/env bash
# The GNMT coverage penalty on trained Multi30k models: validation BLEU per (length penalty, beta),
# beam 5 (bench/results/multi30k-trials.md). Usage: bash bench/coverage_trial.sh MODEL.nlpk [SRC TGT]
cd "$(dirname "$0")"
D=../../shared/data/multi30k
model=$1 src=${2:-de} tgt=${3:-en}
for ab in "0 0" "0 0.2" "0 0.4" "0.6 0" "0.6 0.2" "0.6 0.4"; do
  set -- $ab
  nlpkit translate eval "$model" --src $D/val.$src --ref $D/val.$tgt --beam 5 --length-penalty "$1" \
    --coverage-penalty "$2" --format json --device cpu --quiet |
    python -c "import json,sys; d=json.load(sys.stdin); print('$model alpha $1 beta $2 valid', d['bleu'], d['chrf'])"
done
