"""Translation scores: sacreBLEU's BLEU and chrF over detokenized text, with their signatures
(the settings that make a score comparable with a published one)."""

from __future__ import annotations

TOKENIZERS = ("13a", "intl", "char", "none", "zh")  # sacreBLEU's, for the variant score


def check_tokenize(tokenize: str | None) -> None:
    if tokenize is not None and tokenize not in TOKENIZERS:
        from nlpkit.errors import NlpkitError, option

        raise NlpkitError(f"{option('tokenize')} {tokenize!r}: use one of {', '.join(TOKENIZERS)}")


def translation_scores(
    hypotheses: list[str], references: list[str], lowercase: bool = False, tokenize: str | None = None
) -> dict:
    """BLEU and chrF, cased and with sacreBLEU's default 13a tokenization (the comparable
    figure), and with `lowercase` or `tokenize` also a variant BLEU ("bleu_variant" and its
    signature) for papers and tutorials that report lower-cased or otherwise tokenized BLEU;
    tokenize "none" scores text the user tokenized beforehand."""
    from sacrebleu.metrics import BLEU, CHRF

    check_tokenize(tokenize)
    bleu, chrf = BLEU(), CHRF()
    b = bleu.corpus_score(hypotheses, [references])
    c = chrf.corpus_score(hypotheses, [references])
    return {
        "bleu": round(b.score, 2),
        "chrf": round(c.score, 2),
        "bleu_detail": str(b),
        "bleu_signature": str(bleu.get_signature()),
        "chrf_signature": str(chrf.get_signature()),
        "sentences": len(hypotheses),
        **(_variant(hypotheses, references, lowercase, tokenize or "13a") if lowercase or tokenize else {}),
    }


def _variant(hypotheses, references, lowercase: bool, tokenize: str) -> dict:
    from sacrebleu.metrics import BLEU

    bleu = BLEU(lowercase=lowercase, tokenize=tokenize)
    score = bleu.corpus_score(hypotheses, [references])
    return {"bleu_variant": round(score.score, 2), "bleu_variant_signature": str(bleu.get_signature())}
