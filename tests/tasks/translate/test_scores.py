from nlpkit.tasks.translate.scores import translation_scores


def test_translation_scores_are_sacrebleu_with_signatures():
    scores = translation_scores(
        ["A man in an orange hat.", "Two dogs play."], ["A man in an orange hat.", "Two dogs play."]
    )
    assert scores["bleu"] == 100.0 and scores["chrf"] == 100.0
    assert scores["bleu_signature"].startswith("nrefs:1|case:mixed") and "tok:13a" in scores["bleu_signature"]
    assert "nc:6" in scores["chrf_signature"]
    worse = translation_scores(["A dog."], ["A man in an orange hat."])
    assert worse["bleu"] < 50


def test_a_lower_cased_or_tokenized_variant_beside_the_standard_bleu():
    import pytest

    from nlpkit.errors import NlpkitError

    hyps, refs = ["The Cat sat on the mat ."], ["the cat sat on the mat ."]
    plain = translation_scores(hyps, refs)
    assert "bleu_variant" not in plain and plain["bleu"] < 100
    lower = translation_scores(hyps, refs, lowercase=True)
    assert lower["bleu_variant"] == 100.0 and "case:lc" in lower["bleu_variant_signature"]
    assert lower["bleu"] == plain["bleu"]  # the standard figure is unchanged
    assert "tok:none" in translation_scores(hyps, refs, tokenize="none")["bleu_variant_signature"]
    with pytest.raises(NlpkitError, match="tokenize 'moses'"):
        translation_scores(hyps, refs, tokenize="moses")
