import pytest
import torch

from nlpkit.encoders import EncoderConfig
from nlpkit.tasks.ner import model as tg
from nlpkit.tasks.ner.config import MAX_WORD_CHARS, TaggerConfig, encode_sentence
from nlpkit.tasks.ner.scores import entity_scores
from nlpkit.tasks.ner.tagging import predict
from nlpkit.text.schemes import bioes_tags, to_spans


def build(crf: bool, char_features: str = "cnn"):
    torch.manual_seed(0)
    cfg = TaggerConfig(
        vocab_size=20,
        tags=bioes_tags(["LOC", "PER"]),
        chars=list("abcdefghij"),
        embed_size=8,
        char_features=char_features,
        char_size=4,
        encoder=EncoderConfig(kind="lstm", hidden_size=8, layers=1, bidirectional=True),
        crf=crf,
    )
    return tg.build_model(cfg).eval()


def test_encode_sentence_lowercases_words_and_keeps_character_case():
    model = build(False)
    vocab = {"mara": 5}
    char_index = {ch: i + 2 for i, ch in enumerate(model.config.chars)}
    ids, chars = encode_sentence(["Mara", "x" * 40, ""], vocab, char_index, model.config)
    assert ids == [5, 1, 1]  # unknown words are <unk> (id 1)
    assert chars[0] == [1, 2, 1, 2]  # 'M' is not in the character set, 'a' is
    assert len(chars[1]) == MAX_WORD_CHARS and chars[2] == [1]


@pytest.mark.parametrize("crf", [False, True])
@pytest.mark.parametrize("char_features", ["cnn", "lstm", "none"])
def test_predict_gives_well_formed_bioes_in_input_order(crf, char_features):
    model = build(crf, char_features)
    torch.manual_seed(1)
    with torch.no_grad():  # random weights: any tag scores, the constraints must still hold
        model.out.weight.normal_(0, 3)
    encoded = [([3, 4, 5, 6, 7], [[2], [3], [4], [5], [6]]), ([], []), ([8, 9], [[2, 3], [4]])]
    results = predict(model, encoded, batch_tokens=4)
    assert [len(path) for path, _ in results] == [5, 0, 2]
    for path, probs in results:
        tags = [model.config.tags[k] for k in path]
        assert to_spans(tags, "bioes")[1] == 0  # nothing to repair: valid BIOES
        assert all(0 <= p <= 1 for p in probs)


def test_crf_loss_is_a_finite_positive_number_and_trains():
    model = build(True).train()
    words, chars, lengths, gold = tg.make_batch([([3, 4, 5], [[2], [3], [4]])], [0], [[1, 3, 0]])
    optimizer = torch.optim.Adam(model.parameters(), lr=0.05)
    first = None
    for _ in range(30):
        loss = model.loss(words, chars, lengths, gold)
        first = first if first is not None else loss.item()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    assert 0 < loss.item() < first


def test_entity_scores_read_bioes_spans():
    gold = [["B-PER", "E-PER", "O", "S-LOC"]]
    predicted = [["B-PER", "E-PER", "O", "O"]]
    scores = entity_scores(gold, predicted)
    assert scores["precision"] == 1.0 and scores["recall"] == 0.5 and scores["per_type"]["LOC"]["recall"] == 0.0
