"""Starting a word embedding from a vectors file (`--embeddings FILE`), and growing the vocabulary
with the file's words once training is over.

Three steps, taken by a task's build and by the training lifecycle:

1. `read_for(path, vocabulary, max_words)`: before the model exists, read the rows the vocabulary
   needs (in their own case, else lower-cased) and the file's first `max_words` rows;
   `embed_size()` takes the embedding size from the file.
2. `initialise(embedding, vocabulary, vectors)`: copy the vectors in; words without one get random
   rows of the vectors' own scale. `freeze()` keeps them fixed (`--freeze-embeddings`).
3. `extend(tokenizer, embedding, vectors, ...)` (through Task.finish_embeddings): after
   training, append the file's commonest words that training never saw, so they keep a meaning
   at prediction time. Appending them after training instead of before costs nothing while
   training: those rows would get no gradient, yet the optimizer would update the whole (much
   larger) table every step. When the embedding was fine-tuned, the new rows go
   through the linear map that best takes the file's vectors of the trained words to their
   trained rows (least squares), so they land in the space the encoder learned to read
   (Madhyastha et al., 2016, "Mapping unseen words to task-trained embedding spaces").
"""

from __future__ import annotations

import torch

from nlpkit.console import warn
from nlpkit.errors import NlpkitError, option
from nlpkit.text.tokenizers import SPECIALS, UNK_ID, VocabTokenizer
from nlpkit.vectors.read import WordVectors, read_vectors


def read_for(path: str, tokenizer, max_words: int) -> WordVectors:
    """The vectors of `path` that a word vocabulary needs, and the file's first `max_words` rows
    (candidates for extend())."""
    if getattr(tokenizer, "kind", None) != "word" or not hasattr(tokenizer, "symbols"):
        kind = getattr(tokenizer, "kind", "?")
        raise NlpkitError(
            f"{option('embeddings')} needs a word vocabulary (tokenizer word), not {kind}: "
            "word vectors give one vector per whole word"
        )
    words = tokenizer.symbols[len(SPECIALS) :]
    wanted = set(words) | {w.lower() for w in words}
    return read_vectors(path, lambda word, row: row < max_words or word in wanted)


def embed_size(embed: int, vectors: WordVectors) -> int:
    """The embedding size: the file's dimension; `embed`, if given, must agree."""
    if embed and embed != vectors.dim:
        raise NlpkitError(
            f"{vectors.source} holds {vectors.dim}-dimensional vectors but {option('embed')} is {embed}; "
            f"give {option('embed')} {vectors.dim} or 0 (take the file's)"
        )
    return vectors.dim


def lookup(vectors: WordVectors, word: str) -> tuple[torch.Tensor | None, bool]:
    """The word's vector in its own case, else lower-cased; and whether lower-casing found it."""
    found = vectors.get(word)
    if found is not None:
        return found, False
    lower = vectors.get(word.lower())
    return lower, lower is not None


@torch.no_grad()
def initialise(embedding: torch.nn.Embedding, tokenizer: VocabTokenizer, vectors: WordVectors, texts=None) -> dict:
    """Copy the vectors of the vocabulary's words into `embedding`; the others get random rows
    with the vectors' standard deviation, so no row stands out by its scale. Returns what
    `nlpkit info` shows: source, fingerprint and coverage of the vocabulary (and of the training
    tokens, given `texts`: token lists)."""
    weight = embedding.weight
    mark_pretrained(embedding)
    scale = float(vectors.vectors.std()) if vectors.vectors.numel() > 1 else 0.1
    weight.normal_(0.0, scale)
    weight[0].zero_()  # <pad>
    own = lower = 0
    has_vector = torch.zeros(len(tokenizer.symbols), dtype=torch.bool)
    for i, word in enumerate(tokenizer.symbols[len(SPECIALS) :], start=len(SPECIALS)):
        vector, by_lowercase = lookup(vectors, word)
        if vector is not None:
            weight[i] = vector.to(weight.dtype)
            has_vector[i] = True
            own += not by_lowercase
            lower += by_lowercase
    size = len(tokenizer.symbols) - len(SPECIALS)
    report = {
        **vectors.describe(),
        "vocabulary": size,
        "found": own,
        "found_lowercased": lower,
        "type_coverage": round((own + lower) / max(1, size), 4),
    }
    if texts is not None:
        total = covered = 0
        for tokens in texts:
            ids = [tokenizer.index.get(t, UNK_ID) for t in tokens]
            total += len(ids)
            covered += int(has_vector[ids].sum()) if ids else 0
        report["token_coverage"] = round(covered / max(1, total), 4)
    if own + lower == 0:
        raise NlpkitError(
            f"{vectors.source}: none of the {size:,} vocabulary words has a vector (a file for another "
            "language, or another tokenization?)"
        )
    if (own + lower) / max(1, size) < 0.3:
        warn(f"{vectors.source}: only {own + lower:,} of {size:,} vocabulary words have a vector")
    return report


def mark_pretrained(embedding: torch.nn.Embedding) -> None:
    """Exempt the embedding from weight decay (nlpkit.optimizers.build_optimizer): decay would pull
    the vectors of words seldom seen in training toward zero."""
    embedding.weight.pretrained = True


def freeze(embedding: torch.nn.Embedding) -> None:
    """Keep the embedding fixed while training (gradual unfreezing leaves it alone too)."""
    embedding.weight.requires_grad_(False)
    embedding.weight.frozen = True


@torch.no_grad()
def extend(
    tokenizer: VocabTokenizer,
    embedding: torch.nn.Embedding,
    vectors: WordVectors,
    report: dict,
    max_words: int,
    lowercase: bool = False,
):
    """(tokenizer, embedding) grown by the words of the file's first `max_words` rows that the
    vocabulary lacks (lower-cased for a lower-cased vocabulary); `report` gains how many were
    added and how."""
    known = set(tokenizer.symbols)
    added_words, added_rows = [], []
    for row, (word, position) in enumerate(zip(vectors.words, vectors.positions, strict=True)):
        if position >= max_words:
            break  # rows are kept in file order
        form = word.lower() if lowercase else word
        if form in known:
            continue
        known.add(form)
        added_words.append(form)
        added_rows.append(row)
    if not added_words:
        report["added_words"] = 0
        return tokenizer, embedding
    new = vectors.vectors[added_rows]
    if getattr(embedding.weight, "frozen", False):
        report["added_words_through"] = "nothing: the embedding stayed as in the file"
    else:
        new, fit = _map_to_trained(tokenizer, embedding.weight, vectors, new)
        report["added_words_through"] = (
            f"a least-squares map to the trained embedding (R² {fit:.3f})"
            if fit is not None
            else "nothing: too few vocabulary words with vectors to fit a map"
        )
    grown = torch.nn.Embedding(len(known), embedding.embedding_dim, padding_idx=embedding.padding_idx)
    grown = grown.to(embedding.weight.device, embedding.weight.dtype)
    grown.weight.copy_(torch.cat([embedding.weight, new.to(embedding.weight)]))
    grown.weight.requires_grad_(embedding.weight.requires_grad)
    report["added_words"] = len(added_words)
    return VocabTokenizer("word", [*tokenizer.symbols, *added_words]), grown


def _map_to_trained(tokenizer, weight: torch.Tensor, vectors: WordVectors, new: torch.Tensor):
    """`new` through the least-squares linear map from the file's vectors of the vocabulary's
    words to their trained rows; and the share of the trained rows' variance the map explains."""
    rows, targets = [], []
    for i, word in enumerate(tokenizer.symbols[len(SPECIALS) :], start=len(SPECIALS)):
        vector, _ = lookup(vectors, word)
        if vector is not None:
            rows.append(vector)
            targets.append(weight[i].float().cpu())
    x, y = torch.stack(rows), torch.stack(targets)
    if len(rows) < 2 * x.shape[1]:  # too few pairs for a dim x dim map: keep the file's vectors
        return new, None
    ridge = 1e-3 * float((x * x).mean()) * len(rows)
    w = torch.linalg.solve(x.T @ x + ridge * torch.eye(x.shape[1]), x.T @ y)
    residual = ((x @ w - y) ** 2).sum()
    explained = 1.0 - float(residual / ((y - y.mean(0)) ** 2).sum().clamp_min(1e-12))
    return new @ w, round(explained, 4)
