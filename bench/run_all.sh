#!/usr/bin/env bash
# Runs every benchmark of the foundation issue in sequence (about 40 minutes on 2 cores).
# Keep the machine otherwise idle while it runs: the figures are timings.
set -euo pipefail
cd "$(dirname "$0")"
python ptb.py speed --steps 150 --rounds 3
python ptb.py quality --budget 10m
python shakespeare.py --budget 10m
python generation.py
