"""`nlpkit demo`: the main job on the bundled sample, end to end, in about a minute and a half."""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from pathlib import Path

from nlpkit.cli import common as c
from nlpkit.errors import NlpkitError
from nlpkit.options import Options, RunOptions, opt, reuse

# Files the demo runs its models on: new text in the style of data/ (written by data/make_samples.py).
INPUTS = {
    "new-reviews.txt": "The coffee at the Anchor Inn was not cold at all.\n"
    "I would never go back to the night ferry; the staff was rude.\n"
    "The rooms seemed gloomy at first, but in the end the harbour bakery was lovely.\n",
    "new-sentences.txt": "Greta Sato sailed from Gull Point to Northwick.\nThe Salt Guild opened a new office in Saltmere.\n",
    "new-english.txt": "The proud weaver walks to the green chapel .\n\nA tired dog sleeps behind the mill at night .\n",
}

# (what the step does, the command a user would type); {data}, {out}, {budget} and {common} are filled in.
STEPS = [
    ("training a character LSTM on {data}/sample.txt for {budget}",
     "lm train {data}/sample.txt --valid {data}/sample.valid.txt --out {out}/sample-lm.nlpk --tokenizer char "
     "--encoder lstm --layers 2 --hidden 256 --embed 64 --dropout 0.1 --context 96 --batch-size 32 --lr 3e-3 "
     "--warmup 20 --eval-every 100 --time-budget {budget} {common} {quiet}"),
    ("perplexity on {data}/sample.valid.txt", "lm eval {out}/sample-lm.nlpk {data}/sample.valid.txt {common}"),
    ("generating from the prompt 'At dawn, '",
     "generate {out}/sample-lm.nlpk --prompt 'At dawn, ' -n 300 --temperature 0.7 --top-p 0.95 --seed 0 {common}"),
    ("training a BiLSTM sentiment classifier on {data}/sentiment.train.tsv",
     "sentiment train {data}/sentiment.train.tsv --valid {data}/sentiment.valid.tsv --out {out}/sample-sentiment.nlpk "
     "--tokenizer unigram:400 --hidden 64 --epochs 8 --lr 3e-3 --pooling max,last {common} {quiet}"),
    ("scores on {data}/sentiment.valid.tsv", "sentiment eval {out}/sample-sentiment.nlpk {data}/sentiment.valid.tsv {common}"),
    ("labelling the reviews in {out}/new-reviews.txt",
     "sentiment predict {out}/sample-sentiment.nlpk {out}/new-reviews.txt {common}"),
    ("training a BiLSTM-CRF entity tagger on {data}/ner.train.conll",
     "ner train {data}/ner.train.conll --valid {data}/ner.valid.conll --out {out}/sample-ner.nlpk --crf --hidden 64 "
     "--embed 50 --char-size 25 --epochs 3 --lr 5e-3 {common} {quiet}"),
    ("entity scores on {data}/ner.valid.conll", "ner eval {out}/sample-ner.nlpk {data}/ner.valid.conll {common}"),
    ("tagging {out}/new-sentences.txt", "ner tag {out}/sample-ner.nlpk {out}/new-sentences.txt --format inline {common}"),
    ("training a GRU translator with attention on {data}/translate.train.en -> .fr",
     "translate train --src {data}/translate.train.en --tgt {data}/translate.train.fr --valid-src "
     "{data}/translate.valid.en --valid-tgt {data}/translate.valid.fr --out {out}/sample-translate.nlpk --encoder gru "
     "--attention luong-general --layers 1 --hidden 32 --tokenizer word --vocab separate --batch-tokens 512 "
     "--max-steps 150 --lr 1e-2 --warmup 10 --eval-every 150 {common} {quiet}"),
    ("BLEU and chrF on {data}/translate.valid.en",
     "translate eval {out}/sample-translate.nlpk --src {data}/translate.valid.en --ref {data}/translate.valid.fr {common}"),
    ("translating {out}/new-english.txt (beam 5; the empty line stays empty; attention in {out}/alignments.jsonl)",
     "translate predict {out}/sample-translate.nlpk {out}/new-english.txt --alignments {out}/alignments.jsonl {common}"),
]  # fmt: skip


def sample_dir() -> Path:
    """data/ of the source checkout (the README installs nlpkit editable), else ./data."""
    for candidate in (Path(__file__).resolve().parents[2] / "data", Path.cwd() / "data"):
        if (candidate / "sample.txt").is_file():
            return candidate
    raise NlpkitError("cannot find data/sample.txt: run the demo from the nlpkit checkout")


@dataclass
class DemoCommand(Options):
    out_dir: str = opt("runs/demo", "Where the demo writes its model files.", writes="folder")
    time_budget: str = opt("60s", "Training time for the language model.")
    device: str = reuse(RunOptions, "device")
    quiet: bool = reuse(RunOptions, "quiet")


def demo(o: DemoCommand) -> None:
    """Train a small character-level LSTM language model on data/sample.txt, evaluate it and
    generate from it; then train a sentiment classifier on data/sentiment.train.tsv, evaluate
    it and label a few new reviews; then train a named-entity tagger on data/ner.train.conll,
    score it and tag two new sentences; then train an English-to-French GRU translator with
    attention on data/translate.train.*, score it and translate two new sentences."""
    from typer._click.globals import get_current_context

    from nlpkit.outputs import write_atomically

    nlpkit = get_current_context().find_root().command  # the demo runs the same commands a user types

    out, quiet = Path(o.out_dir), o.quiet
    for name, text in INPUTS.items():  # the folder was checked and made (nlpkit.outputs.claim)
        write_atomically(out / name, text.encode("utf-8"))
    fill = {k: shlex.quote(str(v)) for k, v in {"data": sample_dir(), "out": out, "budget": o.time_budget}.items()}
    fill |= {"common": f"--device {o.device}", "quiet": "--quiet" if quiet else ""}
    for number, (title, command) in enumerate(STEPS, start=1):
        args = shlex.split(command.format(**fill))
        c.info(f"[bold]{number}/{len(STEPS)}[/bold] {title.format(**fill)}: nlpkit {shlex.join(args)}", quiet)
        nlpkit.main(args, prog_name="nlpkit", standalone_mode=False)
    models = ", ".join(str(out / f"sample-{m}.nlpk") for m in ("lm", "sentiment", "ner", "translate"))
    c.info(f"models written to {models}; try: nlpkit info {out / 'sample-lm.nlpk'}", quiet)
