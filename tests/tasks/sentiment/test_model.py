import pytest
import torch

from nlpkit.data.batching import length_batches, pad
from nlpkit.encoders import EncoderConfig
from nlpkit.tasks.lm import model as lm
from nlpkit.tasks.sentiment import model as cl
from nlpkit.tasks.sentiment.prediction import predict_proba
from nlpkit.tasks.sentiment.scores import classification_scores
from nlpkit.tasks.sentiment.task import encode
from nlpkit.tasks.sentiment.training import ClassifierTraining, balanced_weights
from nlpkit.text.tokenizers import VocabTokenizer


def build(kind="lstm", pooling=("max",), bidirectional=True, layers=1, **extra):
    enc = EncoderConfig(
        kind=kind, hidden_size=16, layers=layers, heads=2, bidirectional=bidirectional and kind != "transformer"
    )
    cfg = cl.ClassifierConfig(
        vocab_size=30, labels=["neg", "pos"], embed_size=8, encoder=enc, pooling=list(pooling), **extra
    )
    return cl.build_model(cfg).eval()


@pytest.mark.parametrize("kind", ["lstm", "gru", "transformer"])
@pytest.mark.parametrize("pooling", ["last", "mean", "max", "attention", "last,max,mean"])
def test_padding_does_not_change_a_prediction(kind, pooling):
    torch.manual_seed(0)
    model = build(kind, pooling.split(","))
    short = [3, 7, 9]
    long = [3, 5, 6, 7, 8, 9, 10]
    alone = model(*pad([short]))
    batched = model(*pad([long, short]))
    assert torch.allclose(alone[0], batched[1], atol=1e-5)


def test_last_pooling_of_a_bidirectional_encoder_reads_both_ends():
    torch.manual_seed(0)
    model = build("lstm", ["last"])
    tokens, lengths = pad([[3, 4, 5, 6], [3, 4]])
    h, _ = model.encoder(model.embedding(tokens), lengths)
    pooled = model.pool(h, lengths)
    assert torch.equal(pooled[1, :16], h[1, 1, :16])  # forward half at the last real token
    assert torch.equal(pooled[1, 16:], h[1, 0, 16:])  # backward half at the first


def test_unknown_pooling_and_single_label_are_rejected():
    with pytest.raises(ValueError, match="unknown pooling sum"):
        build(pooling=["sum"])
    with pytest.raises(ValueError, match="at least 2 labels"):
        cl.ClassifierConfig(vocab_size=5, labels=["only"])


def test_scores_match_hand_computation():
    gold = [0, 0, 0, 1, 1, 2]
    pred = [0, 0, 1, 1, 0, 2]
    s = classification_scores(gold, pred, 3)
    assert s["accuracy"] == pytest.approx(4 / 6)
    assert s["confusion"] == [[2, 1, 0], [1, 1, 0], [0, 0, 1]]
    p0, r0 = 2 / 3, 2 / 3
    p1, r1 = 1 / 2, 1 / 2
    assert s["per_class"][0]["f1"] == pytest.approx(2 * p0 * r0 / (p0 + r0))
    assert s["per_class"][1]["precision"] == pytest.approx(p1)
    assert s["per_class"][1]["recall"] == pytest.approx(r1)
    assert s["macro_f1"] == pytest.approx((2 / 3 + 1 / 2 + 1) / 3)
    assert [c["support"] for c in s["per_class"]] == [3, 2, 1]


def test_length_batches_cover_every_example_once_and_repeat_with_the_seed():
    lengths = [5, 1, 9, 3, 3, 7, 2, 8, 4, 6, 1]
    plain = length_batches(lengths, 3)
    assert sorted(i for b in plain for i in b) == list(range(11))
    assert [lengths[i] for b in plain for i in b] == sorted(lengths)
    a = length_batches(lengths, 3, torch.Generator().manual_seed(1))
    b = length_batches(lengths, 3, torch.Generator().manual_seed(1))
    assert a == b and sorted(i for batch in a for i in batch) == list(range(11))


def test_predict_proba_keeps_input_order():
    torch.manual_seed(0)
    model = build()
    seqs = [[3, 4, 5, 6, 7], [3], [3, 8, 9], [3, 4, 5, 6, 7, 8, 9, 10]]
    together = predict_proba(model, seqs, batch_tokens=10)
    for i, seq in enumerate(seqs):
        assert torch.allclose(together[i], predict_proba(model, [seq])[0], atol=1e-5)
    assert torch.allclose(together.sum(-1), torch.ones(4))


def test_balanced_weights():
    w = balanced_weights([0, 0, 0, 1], 2)
    assert w.tolist() == pytest.approx([4 / 6, 2.0])


def test_layer_wise_rates_and_gradual_unfreezing():
    model = build(layers=2, bidirectional=False)
    task = ClassifierTraining(model, ([[3, 4]], [0]), None, 1, "cpu", lr_decay=0.5, gradual_unfreeze=True)
    scales = [scale for _, scale in task.param_groups()]
    assert scales == [0.125, 0.25, 0.5, 1.0]  # embedding, layer 1, layer 2, output
    frozen = lambda: [all(not p.requires_grad for p in g) for g in task.groups]  # noqa: E731
    task.before_step(0.0)
    assert frozen() == [True, True, True, False]
    task.before_step(0.2)
    assert frozen() == [True, True, False, False]
    task.before_step(0.5)
    assert frozen() == [False, False, False, False]


def test_init_from_language_model_copies_embedding_and_encoder():
    torch.manual_seed(0)
    lm_model = lm.build_model(
        lm.LMConfig(vocab_size=30, embed_size=8, encoder=EncoderConfig(kind="lstm", hidden_size=16, layers=2))
    )
    enc = EncoderConfig.from_dict(lm_model.config.encoder.to_dict())
    model = cl.build_model(cl.ClassifierConfig(vocab_size=30, labels=["a", "b"], embed_size=8, encoder=enc))
    cl.init_from_lm(model, lm_model)
    assert torch.equal(model.embedding.weight, lm_model.embedding.weight)
    for (name, a), (_, b) in zip(
        model.encoder.state_dict().items(), lm_model.encoder.state_dict().items(), strict=True
    ):
        assert torch.equal(a, b), name


def test_a_small_model_learns_a_separable_task():
    torch.manual_seed(0)
    tok = VocabTokenizer.train("word", ["good fine nice bad awful poor the a film"])
    words_pos, words_neg, filler = ["good", "fine", "nice"], ["bad", "awful", "poor"], ["the", "a", "film"]
    g = torch.Generator().manual_seed(0)

    def example(label):
        words = [filler[int(i)] for i in torch.randint(0, 3, (4,), generator=g)]
        pick = (words_pos if label else words_neg)[int(torch.randint(0, 3, (1,), generator=g))]
        words.insert(int(torch.randint(0, 5, (1,), generator=g)), pick)
        return " ".join(words)

    labels = [i % 2 for i in range(200)]
    ids = [encode(tok, example(y), 64)[0] for y in labels]
    model = cl.build_model(
        cl.ClassifierConfig(
            vocab_size=tok.vocab_size,
            labels=["neg", "pos"],
            embed_size=16,
            encoder=EncoderConfig(kind="gru", hidden_size=16, layers=1, bidirectional=True),
        )
    )
    from nlpkit.training import TrainConfig, Trainer

    task = ClassifierTraining(model, (ids[:160], labels[:160]), (ids[160:], labels[160:]), 16, torch.device("cpu"))
    result = Trainer(task, TrainConfig.make(lr=1e-2, epochs=8), torch.device("cpu"), quiet=True).fit()
    assert result.best["valid_accuracy"] >= 0.9


def bag(ngrams=2, buckets=64, pooling=("mean",)):
    enc = EncoderConfig(kind="bag", input_size=8, hidden_size=8, layers=1)
    cfg = cl.ClassifierConfig(
        vocab_size=30, labels=["neg", "pos"], embed_size=8, encoder=enc, pooling=list(pooling), ngrams=ngrams,
        ngram_buckets=buckets,
    )  # fmt: skip
    return cl.build_model(cfg).eval()


@pytest.mark.parametrize("pooling", ["mean", "max", "last,max,mean"])
def test_a_bag_classifier_ignores_padding_and_reads_word_order_through_its_ngrams(pooling):
    torch.manual_seed(0)
    model = bag(pooling=pooling.split(","))
    short, long = [3, 7, 9], [3, 5, 6, 7, 8, 9, 10]
    assert torch.allclose(model(*pad([short]))[0], model(*pad([long, short]))[1], atol=1e-6)
    swapped = model(*pad([[3, 9, 7]]))[0]
    assert not torch.allclose(model(*pad([short]))[0], swapped)  # "not good" is not "good not"
    if "last" not in pooling:  # (last pooling reads the last word: order again)
        words_only = bag(ngrams=1, buckets=0, pooling=pooling.split(","))
        words_only.load_state_dict({k: v for k, v in model.state_dict().items() if not k.startswith("ngrams")})
        assert torch.allclose(words_only(*pad([[3, 9, 7]]))[0], words_only(*pad([short]))[0])  # a bag of words


def test_bag_config_bounds_and_ngrams_without_the_bag_are_refused():
    with pytest.raises(ValueError, match="n-grams 1..4"):
        bag(ngrams=9)
    with pytest.raises(ValueError, match="buckets"):
        bag(buckets=(1 << 24) + 1)
    with pytest.raises(ValueError, match="go with encoder bag"):
        build(ngrams=2, ngram_buckets=8)


def test_a_bag_classifier_learns_word_order_from_bigrams():
    torch.manual_seed(0)
    # the same words in both classes; only the order tells them apart
    texts = [([3, 4, 5], 1), ([4, 3, 5], 0), ([5, 3, 4], 1), ([5, 4, 3], 0)] * 8
    model = bag(buckets=256).train()
    optimizer = torch.optim.Adam(model.parameters(), lr=0.05)
    tokens, lengths = pad([t for t, _ in texts])
    labels = torch.tensor([y for _, y in texts])
    for _ in range(60):
        optimizer.zero_grad()
        torch.nn.functional.cross_entropy(model(tokens, lengths), labels).backward()
        optimizer.step()
    assert (model.eval()(tokens, lengths).argmax(-1) == labels).all()
