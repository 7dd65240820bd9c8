"""Classification scores: accuracy, per-class precision, recall and F1, and the confusion matrix."""

from __future__ import annotations

import torch


def classification_scores(gold: list[int], predicted: list[int], n_classes: int) -> dict:
    """Accuracy, per-class precision/recall/F1/support, macro averages and the confusion matrix
    (rows gold, columns predicted)."""
    matrix = torch.zeros(n_classes, n_classes, dtype=torch.long)
    for g, p in zip(gold, predicted, strict=True):
        matrix[g, p] += 1
    tp = matrix.diag().double()
    support = matrix.sum(1).double()
    predicted_count = matrix.sum(0).double()
    precision = torch.where(predicted_count > 0, tp / predicted_count.clamp(min=1), torch.zeros_like(tp))
    recall = torch.where(support > 0, tp / support.clamp(min=1), torch.zeros_like(tp))
    f1 = torch.where(
        precision + recall > 0, 2 * precision * recall / (precision + recall).clamp(min=1e-12), torch.zeros_like(tp)
    )
    present = support > 0  # classes absent from the gold data do not enter macro averages
    n = max(1, int(present.sum()))
    return {
        "accuracy": float(tp.sum() / max(1, len(gold))),
        "macro_precision": float(precision[present].sum() / n),
        "macro_recall": float(recall[present].sum() / n),
        "macro_f1": float(f1[present].sum() / n),
        "per_class": [
            {
                "precision": float(precision[i]),
                "recall": float(recall[i]),
                "f1": float(f1[i]),
                "support": int(support[i]),
            }
            for i in range(n_classes)
        ],
        "confusion": matrix.tolist(),
        "count": len(gold),
    }
