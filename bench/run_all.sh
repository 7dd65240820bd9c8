#!/usr/bin/env bash
# Every benchmark of the foundation issue, in sequence (about 85 minutes on 2 cores).
# Keep the machine otherwise idle while it runs: the figures are timings.
set -euo pipefail
cd "$(dirname "$0")"
python startup.py
python ptb.py speed --steps 150 --rounds 3
python ptb.py quality --budget 10m --tag full-softmax                      # the issue's model, tied
python ptb.py quality --budget 10m --dropout 0.2 --tag adaptive --untied -- --adaptive-softmax 2000,6000
python shakespeare.py --budget 10m
python generation.py
python ptb.py quality --budget 30m --dropout 0.25 --tag adaptive --untied -- --adaptive-softmax 2000,6000
