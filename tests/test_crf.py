import itertools

import torch

from nlpkit.crf import CRF, FORBIDDEN, constraint_scores, viterbi
from nlpkit.text.schemes import allowed_transitions, bioes_tags


def make_crf(seed=0):
    torch.manual_seed(seed)
    crf = CRF(*allowed_transitions(bioes_tags(["PER"])))
    with torch.no_grad():
        for p in crf.parameters():
            p.normal_()
    return crf


def brute_force(crf, emissions):
    trans, start, end = crf.scores()
    scores = {}
    for seq in itertools.product(range(emissions.size(1)), repeat=emissions.size(0)):
        s = start[seq[0]] + emissions[0, seq[0]] + end[seq[-1]]
        s = s + sum(trans[seq[i - 1], seq[i]] + emissions[i, seq[i]] for i in range(1, len(seq)))
        scores[seq] = s.detach()
    return scores


def test_partition_viterbi_and_marginals_match_brute_force():
    crf = make_crf()
    emissions = torch.randn(2, 4, 5)
    mask = torch.tensor([[True] * 4, [True, True, True, False]])
    paths = crf.decode(emissions, mask)
    marginals = crf.marginals(emissions, mask)
    log_z = crf.log_partition(emissions, mask)
    for row, length in enumerate([4, 3]):
        scores = brute_force(crf, emissions[row, :length])
        total = torch.logsumexp(torch.stack(list(scores.values())), 0)
        assert torch.allclose(log_z[row], total, atol=1e-4)
        assert tuple(paths[row]) == max(scores, key=lambda s: scores[s])
        probs = {s: (v - total).exp() for s, v in scores.items()}
        for t in range(length):
            expected = torch.tensor([sum(p for s, p in probs.items() if s[t] == k) for k in range(5)])
            assert torch.allclose(marginals[row, t], expected, atol=1e-4)


def test_nll_is_the_gold_sequence_negative_log_probability():
    crf = make_crf(1)
    emissions = torch.randn(1, 3, 5)
    tags = torch.tensor([[1, 3, 0]])  # B-PER E-PER O
    scores = brute_force(crf, emissions[0])
    total = torch.logsumexp(torch.stack(list(scores.values())), 0)
    nll = crf.nll(emissions, tags, torch.ones(1, 3, dtype=torch.bool))
    assert torch.allclose(nll, total - scores[(1, 3, 0)], atol=1e-4)


def test_constrained_viterbi_never_produces_a_forbidden_sequence():
    tags = bioes_tags(["LOC", "PER"])
    allowed, start, end = allowed_transitions(tags)
    trans, s, e = constraint_scores(allowed, start, end)
    assert trans.max() == 0 and trans.min() == FORBIDDEN
    emissions = torch.randn(8, 12, len(tags)) * 5
    for path in viterbi(emissions, torch.ones(8, 12, dtype=torch.bool), trans, s, e):
        assert start[path[0]] and end[path[-1]]
        assert all(allowed[a][b] for a, b in zip(path, path[1:], strict=False))
