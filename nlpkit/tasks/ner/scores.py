"""Entity scores: seqeval's precision, recall and F1, per type and overall."""

from __future__ import annotations


def entity_scores(gold: list[list[str]], predicted: list[list[str]]) -> dict:
    """seqeval span scores of BIOES tag lists: micro precision/recall/F1, per type and the
    micro and macro averages. Both sides go to IOB2 first, which seqeval reads as conlleval does."""
    from seqeval.metrics import classification_report

    from nlpkit.text.schemes import convert

    def iob2(seqs):
        return [convert(tags, "bioes", "iob2")[0] for tags in seqs]

    report = classification_report(iob2(gold), iob2(predicted), output_dict=True, zero_division=0)
    per_type = {
        k: {
            "precision": float(v["precision"]),
            "recall": float(v["recall"]),
            "f1": float(v["f1-score"]),
            "support": int(v["support"]),
        }
        for k, v in report.items()
        if not k.endswith(" avg")
    }
    micro, macro = report["micro avg"], report["macro avg"]
    return {
        "precision": float(micro["precision"]),
        "recall": float(micro["recall"]),
        "f1": float(micro["f1-score"]),
        "macro_precision": float(macro["precision"]),
        "macro_recall": float(macro["recall"]),
        "macro_f1": float(macro["f1-score"]),
        "per_type": per_type,
        "entities": int(micro["support"]),
    }
