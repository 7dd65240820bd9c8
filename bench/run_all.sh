#!/usr/bin/env bash
# Every benchmark, in sequence (about 9 hours on 2 cores).
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
# Sentiment (issue 4): SST-2 against TF-IDF + LR and spaCy, with IMDB LM pretraining if needed (~60 min)
python sst2.py --budget 10m --ft-budget 8m --lm-budget 20m
python mr_cv.py --fold-budget 75s
# Transfer (issue 12): IMDB word vectors for SST-2 and MR, news+IMDB vectors for CoNLL-2003 (~80 min)
python sst2.py --budget 10m --only tfidf,spacy,scratch,vectors --tag vectors
python mr_cv.py --fold-budget 75s --vectors work/vectors/imdb-300.txt
python sst2_ensemble.py --plan mixed   # from scratch: 9 members of 2,000 steps and their ensembles (~45 min)
python conll.py --budget 20m --only nlpkit,vectors
# NER (issue 3): CoNLL-2003 nlpkit vs spaCy on the same wall clock, then WNUT-17 (~40 min)
python conll.py --budget 15m --wnut-budget 5m
python ner_speed.py --rounds 3
# Recurrent diagnostics (issue 6): docs/recurrent-models.md (~15 min)
bash recurrent_diagnostics.sh "$PWD/work/shakespeare-lstm.nlpk"
# Translation (issues 5, 14): Multi30k, the 2,048-token recipe with the last 4 validations averaged,
# 60 minutes each: Transformer and GRU + Bahdanau de->en, Transformer fr->en and en->fr (~4.5 h)
python multi30k.py --pair de-en --model transformer --budget 60m --eval-every 250 --tag b2048-avg4 --flags '--average-last 4'
python multi30k.py --pair de-en --model gru --budget 60m --eval-every 250 --tag b2048-avg4 --flags '--batch-tokens 2048 --average-last 4'
python multi30k.py --pair fr-en --model transformer --budget 60m --eval-every 250 --tag b2048-avg4 --flags '--average-last 4'
python multi30k.py --pair en-fr --model transformer --budget 60m --eval-every 250 --tag b2048-avg4 --flags '--average-last 4'
# Translation runtimes (issue 13): float32, int8, ONNX and ONNX int8 of the fr->en model (~10 min)
python translate_speed.py --model work/multi30k-fr-en-transformer-b2048-avg4.nlpk --pair fr-en
