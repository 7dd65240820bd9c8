from nlpkit.metrics import translation_scores


def test_translation_scores_are_sacrebleu_with_signatures():
    scores = translation_scores(
        ["A man in an orange hat.", "Two dogs play."], ["A man in an orange hat.", "Two dogs play."]
    )
    assert scores["bleu"] == 100.0 and scores["chrf"] == 100.0
    assert scores["bleu_signature"].startswith("nrefs:1|case:mixed") and "tok:13a" in scores["bleu_signature"]
    assert "nc:6" in scores["chrf_signature"]
    worse = translation_scores(["A dog."], ["A man in an orange hat."])
    assert worse["bleu"] < 50
