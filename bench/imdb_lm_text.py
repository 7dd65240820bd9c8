"""Write IMDB review text (labels dropped) in SST-2's form, for language-model pretraining.

SST-2 sentences are lowercased and PTB-tokenized ("wo n't", "-lrb-", "``"); a language model
meant to start a SST-2 classifier should read text spelled the same way, or most of its
vocabulary would never meet the classifier's words. One review per output line.

    python bench/imdb_lm_text.py ../shared/data/imdb/train.tsv.gz ../shared/data/imdb/test.tsv.gz \
        -o bench/work/imdb-lm.txt
"""

from __future__ import annotations

import argparse
import csv
import gzip
import re
import sys

CLITIC = re.compile(r"(?i)(\w)('s|'re|'ve|'ll|'d|'m)\b")
PUNCT = re.compile(r"(\.\.\.|--|[.,!?;:&/])")
SPECIAL_NT = {"won": "wo", "can": "ca", "shan": "sha"}


def ptb_like(text: str) -> str:
    text = text.replace("<br />", " ").replace("<br/>", " ").lower()
    text = re.sub(r"\s+", " ", text)
    # Alternate straight double quotes into `` and '' as the PTB does.
    parts = text.split('"')
    text = "".join(p + ((" `` " if i % 2 == 0 else " '' ") if i < len(parts) - 1 else "") for i, p in enumerate(parts))
    text = text.replace("(", " -lrb- ").replace(")", " -rrb- ")

    text = re.sub(r"(?i)\b(\w+?)n't\b", lambda m: f"{SPECIAL_NT.get(m.group(1), m.group(1))} n't", text)
    text = CLITIC.sub(r"\1 \2", text)
    text = PUNCT.sub(r" \1 ", text)
    return " ".join(text.split())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("inputs", nargs="+", help="IMDB TSV(.gz) files with a 'text' column")
    parser.add_argument("-o", "--out", required=True)
    args = parser.parse_args()
    csv.field_size_limit(sys.maxsize)
    count = 0
    with open(args.out, "w", encoding="utf-8") as out:
        for path in args.inputs:
            opener = gzip.open if path.endswith(".gz") else open
            with opener(path, "rt", encoding="utf-8", newline="") as f:
                for row in csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE):
                    out.write(ptb_like(row["text"]) + "\n")
                    count += 1
    print(f"{count:,} reviews -> {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
