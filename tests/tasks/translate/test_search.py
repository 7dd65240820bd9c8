"""The translation task: pair encoding, order-keeping batch translation, model files."""

import torch

from nlpkit.encoders import EncoderConfig
from nlpkit.modelfile import load, save
from nlpkit.tasks.translate import files, training
from nlpkit.tasks.translate import model as s2s
from nlpkit.tasks.translate import search as sr
from nlpkit.tasks.translate.options import SearchOptions
from nlpkit.text.tokenizers import EOS_ID, train_tokenizer

SRC = ["the cat sleeps", "a dog runs to the mill", "the mill", "a cat"]
TGT = ["le chat dort", "un chien court vers le moulin", "le moulin", "un chat"]


def toks(separate: bool) -> files.Tokenizers:
    if separate:
        return files.Tokenizers(train_tokenizer("word", SRC), train_tokenizer("word", TGT))
    shared = train_tokenizer("word", SRC + TGT)
    return files.Tokenizers(shared, shared)


def model_for(t: files.Tokenizers, kind: str = "gru") -> s2s.Seq2Seq:
    torch.manual_seed(0)
    enc = EncoderConfig(kind=kind, hidden_size=16, layers=1, bidirectional=kind != "transformer", heads=2)
    cfg = s2s.Seq2SeqConfig(
        src_vocab=t.src.vocab_size,
        tgt_vocab=t.tgt.vocab_size,
        shared_vocab=t.shared,
        embed_size=16,
        encoder=enc,
        decoder_hidden=16,
    )
    return s2s.build_model(cfg).eval()


def test_encode_pairs_filters_long_and_empty_pairs():
    t = toks(False)
    kept, dropped = training.encode_pairs(t, SRC + ["", "the cat"], TGT + ["le chat", ""], max_src=5, max_tgt=10)
    assert dropped == 3  # one source of 6 words, and the two half-empty pairs
    assert all(src[-1] == EOS_ID and EOS_ID not in tgt for src, tgt in kept)


def test_translate_keeps_order_and_gives_empty_lines_no_hypotheses():
    t = toks(True)
    model = model_for(t)
    lines = ["a dog runs to the mill", "", "the cat", "   ", "the mill the mill the mill"]
    search = SearchOptions(beam=3, n_best=2, max_src_len=4, batch_size=2)
    found = sr.translate(model, t, lines, search)
    assert len(found) == 5
    assert found[1].hypotheses == [] and found[3].hypotheses == []
    assert len(found[0].hypotheses) == 2 and found[0].cut and not found[2].cut
    assert len(found[4].source_ids) == 4  # cut to --max-src-len, the end token included
    # the same sentence translated alone gives the same result as inside a batch
    alone = sr.translate(model, t, ["the cat"], search)[0]
    assert alone.hypotheses[0].tokens == found[2].hypotheses[0].tokens


def test_model_file_round_trip_with_separate_vocabularies(tmp_path):
    t = toks(True)
    model = model_for(t, "transformer")
    path = tmp_path / "t.nlpk"
    save(path, files.to_modelfile(model, t, {"label_smoothing": 0.1}))
    loaded, t2 = files.from_modelfile(load(path, task=files.TASK))
    assert not t2.shared and t2.tgt.symbols == t.tgt.symbols and t2.src.symbols == t.src.symbols
    search = SearchOptions(beam=2)
    a = sr.translate(model, t, SRC, search)
    b = sr.translate(loaded, t2, SRC, search)
    assert [x.hypotheses[0].tokens for x in a] == [y.hypotheses[0].tokens for y in b]


def test_training_adapter_learns_to_copy_a_tiny_corpus():
    t = toks(False)
    model = model_for(t).train()
    pairs, _ = training.encode_pairs(t, SRC, TGT, 20, 20)
    task = training.TranslationTraining(model, t, pairs, (SRC, TGT), batch_tokens=64, device="cpu", label_smoothing=0.0)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    for epoch in range(40):
        for batch in task.batches(epoch, 0):
            loss, _ = task.loss(batch)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    model.eval()
    scores = task.evaluate()
    assert scores["valid_bleu"] > 80 and scores["valid_loss"] < 0.5
