#!/usr/bin/env bash
# Second round (after the positions fix and the generation speed-ups): Shakespeare, generation,
# then PTB's best perplexity within 30 minutes.
set -euo pipefail
cd "$(dirname "$0")"
python shakespeare.py --budget 10m
python generation.py
python ptb.py quality --budget 30m --dropout 0.25 --tag adaptive --untied -- --adaptive-softmax 2000,6000
