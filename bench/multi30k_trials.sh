#!/usr/bin/env bash
# Multi30k recipe trials (bench/results/multi30k-trials.md): pairs of 20-minute de->en runs started
# together, one thread each, so both runs of a pair share the machine, load and clock. ~75 minutes.
cd "$(dirname "$0")"
mkdir -p work/logs
log=work/logs/pairs.log
trial() {  # model tag flags
  python multi30k.py --pair de-en --model "$1" --budget 20m --eval-every 250 --tag "$2" --flags "--threads 1 $3" \
    --sweep 0.6,1.0 --no-speed --results multi30k-recipe-trials >> "work/logs/trial-$2.log" 2>&1
}
pair() {
  echo "pair $1 / $4 start $(date +%T) load $(cut -d' ' -f1-3 /proc/loadavg)" >> $log
  trial "$1" "$2" "$3" & a=$!
  trial "$4" "$5" "$6" & b=$!
  wait $a $b
  echo "pair end $(date +%T) load $(cut -d' ' -f1-3 /proc/loadavg)" >> $log
}
pair transformer t20-base "" transformer t20-scaled "--scale-embeddings"
pair transformer t20-bpe3000 "--tokenizer bpe:3000" transformer t20-lr2e-3 "--lr 2e-3 --warmup 800"
pair gru g20-base "" gru g20-luong "--attention luong-general"
