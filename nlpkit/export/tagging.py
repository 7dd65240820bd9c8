"""Tagging with an exported graph, torch never imported: numpy pads the batch, onnxruntime
computes the emissions, and numpy decodes them as nlpkit.crf does (Viterbi under the CRF's
transitions, or under the scheme's constraints over the softmax; CRF marginals by
forward-backward). `import torch` is about a second of every command's start-up (measured,
bench/results/ner-speed.md), more than tagging a few thousand sentences takes.

Viterbi repeats torch's float32 operations in the same order, so a CRF tagger's tags are the
same; a softmax tagger's log-probabilities and the CRF marginals (forward-backward here,
autograd there) agree to float rounding (tested within 1e-5).
"""

from __future__ import annotations

import numpy as np

from nlpkit.data.batching import pad_arrays, token_budget_groups

FORBIDDEN = -1e4  # nlpkit.crf.FORBIDDEN (a test keeps them equal): a score no path follows


class GraphTagger:
    """What NERTask asks of its model, over an onnxruntime session of the tagger's emissions:
    its config, and predict(encoded, batch_tokens, with_probs) as nlpkit.tasks.ner.model.predict."""

    def __init__(self, session, config, crf: dict | None):
        from nlpkit.text.schemes import allowed_transitions

        self.session = session
        self.config = config
        self.crf = crf is not None
        # a tagger without character features reads no chars (its graph has no such input)
        self.reads_chars = session is None or "chars" in {i.name for i in session.get_inputs()}
        allowed = [np.asarray(flags, dtype=bool) for flags in allowed_transitions(config.tags)]
        learned = (crf["transitions"], crf["start"], crf["end"]) if crf else [np.zeros(a.shape) for a in allowed]
        # [from, to], [first tag], [last tag]: forbidden moves pushed down as the CRF does
        self.scores = [np.where(ok, s, FORBIDDEN).astype(np.float32) for s, ok in zip(learned, allowed, strict=True)]

    def predict(self, encoded: list, batch_tokens: int = 8192, with_probs: bool = True) -> list:
        """(tag ids, probability of each chosen tag) per encoded sentence, in input order; an empty
        sentence gives empty lists; without with_probs a CRF's probabilities are left empty."""
        results: list = [([], [])] * len(encoded)
        nonempty = [i for i, (ids, _) in enumerate(encoded) if ids]
        for group in token_budget_groups([len(encoded[i][0]) for i in nonempty], batch_tokens):
            indices = [nonempty[g] for g in group]
            words, chars, lengths = padded([encoded[i] for i in indices])
            feed = (
                {"words": words, "chars": chars, "lengths": lengths}
                if self.reads_chars
                else {"words": words, "lengths": lengths}
            )
            emissions = self.session.run(None, feed)[0].astype(np.float32, copy=False)
            paths, probs = self.decode(emissions, lengths, with_probs)
            for row, i in enumerate(indices):
                path = paths[row]
                chosen = probs[row, np.arange(len(path)), path].tolist() if probs is not None else []
                results[i] = (path, chosen)
        return results

    def decode(self, emissions: np.ndarray, lengths: np.ndarray, with_probs: bool):
        mask = np.arange(emissions.shape[1])[None] < lengths[:, None]
        if self.crf:
            probs = marginals(emissions, mask, *self.scores) if with_probs else None
            return viterbi(emissions, mask, *self.scores), probs
        log_probs = emissions - logsumexp(emissions, axis=-1)[..., None]
        return viterbi(log_probs, mask, *self.scores), np.exp(log_probs)


def padded(encoded: list) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Word ids [B, T], character ids [B, T, longest word] and lengths [B], 0-padded (int64, as
    the graph was traced)."""
    words, lengths = pad_arrays([ids for ids, _ in encoded], 0)
    longest = max(len(w) for _, chars in encoded for w in chars)
    chars = np.zeros((len(encoded), words.shape[1], longest), dtype=np.int64)
    for row, (_, word_chars) in enumerate(encoded):
        for t, w in enumerate(word_chars):
            chars[row, t, : len(w)] = w
    return words, chars, lengths


def logsumexp(x: np.ndarray, axis: int) -> np.ndarray:
    top = x.max(axis=axis, keepdims=True)
    return (top + np.log(np.exp(x - top).sum(axis=axis, keepdims=True))).squeeze(axis)


def viterbi(emissions, mask, trans, start, end) -> list[list[int]]:
    """Best tag path per row of emissions [B, T, N] under transition scores [N, N]
    (nlpkit.crf.viterbi, step for step)."""
    batch, time, tags = emissions.shape
    score = start + emissions[:, 0]
    stay = np.arange(tags)[None]
    history = []
    for t in range(1, time):
        candidates = score[:, :, None] + trans[None]  # [B, from, to]
        index = candidates.argmax(axis=1)
        best = np.take_along_axis(candidates, index[:, None], axis=1)[:, 0]
        on = mask[:, t, None]
        score = np.where(on, best + emissions[:, t], score)
        history.append(np.where(on, index, stay))
    tag = (score + end).argmax(axis=1)
    path = np.empty((batch, time), dtype=np.int64)
    path[:, time - 1] = tag
    rows = np.arange(batch)
    for t in range(time - 2, -1, -1):
        tag = history[t][rows, tag]
        path[:, t] = tag
    lengths = mask.sum(axis=1).tolist()
    return [p[:n] for p, n in zip(path.tolist(), lengths, strict=True)]


def marginals(emissions, mask, trans, start, end) -> np.ndarray:
    """P(tag at t = k | sentence) [B, T, N] by forward-backward in log space (what autograd of
    log Z gives in nlpkit.crf.CRF.marginals); zero past each row's length."""
    batch, time, _ = emissions.shape
    alphas = [start + emissions[:, 0]]
    for t in range(1, time):
        step = logsumexp(alphas[-1][:, :, None] + trans[None], axis=1) + emissions[:, t]
        alphas.append(np.where(mask[:, t, None], step, alphas[-1]))
    log_z = logsumexp(alphas[-1] + end, axis=1)
    beta = np.broadcast_to(end, alphas[0].shape)
    betas = [beta]
    for t in range(time - 2, -1, -1):
        step = logsumexp(trans[None] + (emissions[:, t + 1] + beta)[:, None, :], axis=2)
        beta = np.where(mask[:, t + 1, None], step, end)
        betas.append(beta)
    betas.reverse()
    out = np.exp(np.stack(alphas, axis=1) + np.stack(betas, axis=1) - log_z[:, None, None])
    return np.where(mask[:, :, None], out, 0.0).astype(np.float32)
