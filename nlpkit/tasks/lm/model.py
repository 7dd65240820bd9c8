"""Language modeling: an embedding, a causal shared encoder and a softmax over the vocabulary.

Recurrent models train with truncated back-propagation through time, carrying the hidden state
from one window to the next; the Transformer trains on context windows. Scoring and generation
both go through `LanguageModel.forward(tokens, state)`.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

import torch
import torch.nn.functional as F
from torch import nn

from nlpkit.data.batching import token_budget_groups
from nlpkit.data.streams import batchify, variable_windows, window_count, windows
from nlpkit.encoders import EncoderConfig, build_encoder
from nlpkit.encoders.regularised import locked_dropout
from nlpkit.encoders.state import detach_state
from nlpkit.errors import NlpkitError, option
from nlpkit.losses import linear_cross_entropy
from nlpkit.text.tokenizers import BOS_ID, EOS_ID, PAD_ID

TASK = "lm"


@dataclass
class LMConfig:
    vocab_size: int
    embed_size: int = 256
    encoder: EncoderConfig = field(default_factory=EncoderConfig)
    dropout: float = 0.1  # on embeddings and encoder outputs
    tie_weights: bool = False
    context: int = 128  # BPTT length (recurrent) or context window (Transformer)
    adaptive_cutoffs: list[int] = field(default_factory=list)  # empty: a full softmax
    # Training-time regularisers (AWD-LSTM, Merity et al. 2018); all off by default. Locked
    # dropout keeps one mask per sequence across time steps; embedding dropout drops whole words.
    input_dropout: float = 0.0  # locked, on the embedded input
    output_dropout: float = 0.0  # locked, on the encoder's output
    embedding_dropout: float = 0.0  # rows of the embedding matrix (words), on the input side

    def __post_init__(self) -> None:
        for name in ("input_dropout", "output_dropout", "embedding_dropout"):
            value = getattr(self, name)
            if not isinstance(value, int | float) or not 0.0 <= value < 1.0:
                raise ValueError(f"{option(name)} must lie in [0, 1), got {value!r}")

    def to_dict(self) -> dict:
        return {**asdict(self), "encoder": self.encoder.to_dict()}

    @classmethod
    def from_dict(cls, data: dict) -> LMConfig:
        return cls(**{**data, "encoder": EncoderConfig.from_dict(data["encoder"])})


class LanguageModel(nn.Module):
    def __init__(self, config: LMConfig):
        super().__init__()
        if config.encoder.bidirectional:
            raise ValueError(f"a language model reads left to right: {option('bidirectional')} does not apply")
        self.config = config
        self.embedding = nn.Embedding(config.vocab_size, config.embed_size)
        self.encoder = build_encoder(config.encoder)
        self.drop = nn.Dropout(config.dropout)
        hidden = self.encoder.output_size
        # Tying needs the decoder's input to be embedding-sized; project if the encoder is not.
        self.project = (
            nn.Linear(hidden, config.embed_size) if config.tie_weights and hidden != config.embed_size else None
        )
        out_dim = config.embed_size if self.project is not None else hidden
        nn.init.normal_(self.embedding.weight, std=0.02 if not config.encoder.is_recurrent else 0.1)
        self.decoder, self.adaptive = None, None
        if config.adaptive_cutoffs:
            # Grave et al. 2017: frequent words in a full-width head, rare ones in narrower
            # clusters; most tokens never touch the tail, so the output layer costs far less.
            self.adaptive = nn.AdaptiveLogSoftmaxWithLoss(
                out_dim, config.vocab_size, config.adaptive_cutoffs, div_value=4.0
            )
            return
        self.decoder = nn.Linear(out_dim, config.vocab_size)
        if config.tie_weights:
            self.decoder.weight = self.embedding.weight
        nn.init.zeros_(self.decoder.bias)

    @property
    def is_recurrent(self) -> bool:
        return self.config.encoder.is_recurrent

    def embed(self, tokens: torch.Tensor) -> torch.Tensor:
        """The input embedding; in training, embedding dropout removes whole words (every
        occurrence of a dropped word in the batch reads zeros), scaling the rest up."""
        p = self.config.embedding_dropout
        if not self.training or p == 0.0:
            return self.embedding(tokens)
        weight = self.embedding.weight
        keep = weight.new_empty(weight.size(0), 1).bernoulli_(1.0 - p).div_(1.0 - p)
        return F.embedding(tokens, weight * keep, padding_idx=self.embedding.padding_idx)

    def features(self, tokens: torch.Tensor, state=None, lengths: torch.Tensor | None = None, activations=None):
        """tokens [batch, time] -> the decoder's input [batch, time, dim], new state. A dict
        given as `activations` receives the encoder's last-layer output before ("raw") and after
        ("dropped") the output dropout, for activation regularisation."""
        cfg, training = self.config, self.training
        x = locked_dropout(self.drop(self.embed(tokens)), cfg.input_dropout, training)
        h, state = self.encoder(x, lengths, state)
        if activations is not None:
            activations["raw"] = h
        h = locked_dropout(self.drop(h), cfg.output_dropout, training)
        if activations is not None:
            activations["dropped"] = h
        if self.project is not None:
            h = self.project(h)
        return h, state

    def forward(self, tokens: torch.Tensor, state=None, lengths: torch.Tensor | None = None):
        """tokens [batch, time] -> logits [batch, time, vocab], new state. (With an adaptive
        softmax the "logits" are normalised log-probabilities, which every caller can treat
        as logits: softmax and cross-entropy give the same results.)"""
        h, state = self.features(tokens, state, lengths)
        if self.adaptive is not None:
            batch, time, dim = h.shape
            return self.adaptive.log_prob(h.reshape(-1, dim)).view(batch, time, -1), state
        return self.decoder(h), state

    def untie_for_inference(self) -> None:
        """Give a tied output layer its own copy of the weights, so int8 quantization can take it."""
        if self.config.tie_weights:
            self.decoder.weight = nn.Parameter(self.decoder.weight.detach().clone())

    def loss(self, h: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        """Mean cross-entropy of features h [N, dim] against targets [N], by the fastest route."""
        if self.adaptive is not None:
            return self.adaptive(h, targets).loss
        if not isinstance(self.decoder, nn.Linear):  # quantized for inference (nlpkit.quantize)
            return F.cross_entropy(self.decoder(h).float(), targets)
        return linear_cross_entropy(h, self.decoder.weight, self.decoder.bias, targets)


def build_model(config: LMConfig) -> LanguageModel:
    cutoffs = config.adaptive_cutoffs
    if cutoffs:
        if config.tie_weights:
            raise ValueError(f"{option('tie_weights')} does not combine with {option('adaptive_softmax')}")
        if cutoffs != sorted(set(cutoffs)) or cutoffs[0] < 1 or cutoffs[-1] >= config.vocab_size - 1:
            raise ValueError(
                f"adaptive softmax cutoffs must increase and stay below the vocabulary size "
                f"({config.vocab_size}); got {','.join(map(str, cutoffs))}"
            )
    config.encoder.causal = True
    config.encoder.input_size = config.embed_size
    if not config.encoder.is_recurrent:
        config.encoder.max_len = max(config.encoder.max_len, config.context)
    return LanguageModel(config)


# ----- scoring ------------------------------------------------------------------------------


@torch.no_grad()
def stream_nll(model: LanguageModel, data: torch.Tensor, window: int) -> torch.Tensor:
    """Summed negative log-likelihood of data[:, 1:] given what precedes it, per row.

    Recurrent models read the rows in windows carrying their state, so every token is scored
    with its whole history; the Transformer uses overlapping windows (stride half the context)
    and scores each token once, with at least half a context before it.
    """
    device = next(model.parameters()).device
    data = data.to(device)
    total = torch.zeros(data.size(0), device=device)
    if model.is_recurrent:
        state = None
        for x, y in windows(data, window):
            logits, state = model(x, state)
            total += F.cross_entropy(logits.float().transpose(1, 2), y, reduction="none").sum(1)
        return total
    for begin, end, skip in window_plan(data.size(1), window):
        logits, _ = model(data[:, begin:end])
        nll = F.cross_entropy(logits.float().transpose(1, 2), data[:, begin + 1 : end + 1], reduction="none")
        total += nll[:, skip:].sum(1)
    return total


def window_plan(length: int, window: int):
    """How a Transformer scores tokens 1 .. length-1 of a sequence: (begin, end, skip) triples,
    each reading tokens[begin:end] to score tokens begin+1 .. end, of which the first `skip` were
    scored already. Windows overlap by half, so every token is scored once, with at least half a
    context before it (the first ones with what there is)."""
    last, stride = length - 1, max(1, window // 2)
    begin, scored = 0, 0
    while scored < last:
        end = min(begin + window, last)
        yield begin, end, scored - begin
        scored = end
        begin = max(0, end + stride - window)


def evaluate(model: LanguageModel, ids: torch.Tensor, batch_size: int = 10) -> dict:
    """Mean loss (nats per token) and perplexity of a token stream."""
    batch_size = max(1, min(batch_size, ids.numel() // 2))
    data = batchify(ids, batch_size)
    nll = stream_nll(model, data, model.config.context).sum().item()
    count = batch_size * (data.size(1) - 1)
    loss = nll / count
    return {"loss": loss, "ppl": math.exp(min(loss, 50)), "tokens": count}


@torch.no_grad()
def score_lines(model: LanguageModel, tokenizer, lines: list[str], batch_tokens: int = 8192) -> list[tuple[float, int]]:
    """(log-likelihood in nats, token count) of each line, its line end included, in order.

    Each line is scored as if it followed a line end. Lines are sorted by length into padded
    batches; a line longer than the context is scored alone through `stream_nll`.
    """
    eos = tokenizer.eos_id
    device = next(model.parameters()).device
    encoded = [[eos, *tokenizer.encode(line), eos] for line in lines]
    results: list[tuple[float, int] | None] = [None] * len(lines)
    limit = model.config.context if not model.is_recurrent else 4 * model.config.context
    short = []
    for i, seq in enumerate(encoded):
        if len(seq) - 1 > limit:
            nll = stream_nll(model, torch.tensor([seq]), model.config.context).item()
            results[i] = (-nll, len(seq) - 1)
        else:
            short.append(i)
    for members in token_budget_groups([len(encoded[i]) for i in short], batch_tokens):
        group = [short[m] for m in members]
        longest = max(len(encoded[i]) for i in group)
        batch = torch.zeros(len(group), longest, dtype=torch.long)
        lengths = torch.tensor([len(encoded[i]) - 1 for i in group])
        for row, i in enumerate(group):
            batch[row, : len(encoded[i])] = torch.tensor(encoded[i])
        batch = batch.to(device)
        logits, _ = model(batch[:, :-1], None, lengths)
        nll = F.cross_entropy(logits.float().transpose(1, 2), batch[:, 1:], reduction="none")
        mask = torch.arange(longest - 1, device=device)[None, :] < lengths.to(device)[:, None]
        sums = (nll * mask).sum(1).tolist()
        for row, i in enumerate(group):
            results[i] = (-sums[row], int(lengths[row]))
    return results  # type: ignore[return-value]


# ----- training -----------------------------------------------------------------------------


@dataclass
class Regularisers:
    """Training-loss and data regularisers of LMTraining (the model's own are in LMConfig)."""

    ar: float = 0.0  # activation regularisation: ar * mean(output^2)
    tar: float = 0.0  # temporal activation regularisation: tar * mean((h_t - h_{t-1})^2)
    variable_bptt: bool = False  # recurrent: window lengths drawn around the context


class LMTraining:
    """The language-model side of the training engine (see nlpkit.training)."""

    metric = "valid_loss"
    higher_is_better = False

    def __init__(
        self,
        model: LanguageModel,
        train_ids: torch.Tensor,
        valid_ids: torch.Tensor | None,
        batch_size: int,
        device,
        seed: int = 0,
        regularisers: Regularisers | None = None,
    ):
        self.model = model
        self.device = device
        self.seed = seed
        self.regularisers = regularisers or Regularisers()
        self.context = model.config.context
        self.train_ids, self.batch_size = train_ids, batch_size
        self.data = batchify(train_ids, batch_size).to(device)
        self.valid_ids = valid_ids
        self.state = None

    def shard(self, rank: int, size: int) -> bool:
        """Training on `size` processes: this one reads its own contiguous part of the text
        (parts of equal length, so every process makes the same number of steps), keeping the
        carried state continuous along its own streams."""
        part = len(self.train_ids) // size
        try:
            self.data = batchify(self.train_ids[rank * part : (rank + 1) * part], self.batch_size).to(self.device)
        except ValueError as exc:
            raise NlpkitError(f"{size} processes: each one's share of the text is too small ({exc})") from None
        return True

    def _offset(self, epoch: int) -> int:
        # The Transformer sees windows at a fresh offset each epoch (more distinct contexts);
        # recurrent models keep offset 0 so the carried state stays continuous.
        if self.model.is_recurrent or epoch == 0:
            return 0
        g = torch.Generator().manual_seed(self.seed * 1000 + epoch)
        return int(torch.randint(0, self.context, (1,), generator=g))

    def steps_per_epoch(self) -> int:
        return window_count(self.data, self.context)

    def batches(self, epoch: int, start: int):
        if start == 0:
            self.state = None
        if self.regularisers.variable_bptt:
            g = torch.Generator().manual_seed(self.seed * 1000 + epoch)
            stream = variable_windows(self.data, self.context, g)
        else:
            stream = windows(self.data, self.context, self._offset(epoch))
        for i, batch in enumerate(stream):
            if i >= start:
                yield batch

    def lr_scale(self, group: list) -> float:
        """With variable BPTT a window's rate follows its length (AWD-LSTM), so a short window
        does not weigh as much as a full one."""
        if not self.regularisers.variable_bptt:
            return 1.0
        return sum(x.size(1) for x, _ in group) / (len(group) * self.context)

    def loss(self, batch):
        x, y = batch
        reg = self.regularisers
        state = detach_state(self.state) if self.model.is_recurrent else None
        activations = {} if (reg.ar or reg.tar) else None
        h, state = self.model.features(x, state, activations=activations)
        if self.model.is_recurrent:
            self.state = state
        loss = self.model.loss(h.reshape(-1, h.size(-1)), y.reshape(-1))
        if reg.ar:  # activation regularisation: keep the (dropped) outputs small
            loss = loss + reg.ar * activations["dropped"].pow(2).mean()
        if reg.tar and x.size(1) > 1:  # temporal: keep them from jumping between steps
            raw = activations["raw"]
            loss = loss + reg.tar * (raw[:, 1:] - raw[:, :-1]).pow(2).mean()
        return loss, y.numel()

    def evaluate(self) -> dict:
        if self.valid_ids is None:
            return {}
        result = evaluate(self.model, self.valid_ids)
        return {"valid_loss": round(result["loss"], 5), "valid_ppl": round(result["ppl"], 3)}

    def carry_state(self) -> dict:
        if self.state is None:
            return {}
        parts = self.state if isinstance(self.state, tuple) else (self.state,)
        return {str(i): p.detach() for i, p in enumerate(parts)}

    def restore_carry(self, tensors: dict) -> None:
        if not tensors:
            self.state = None
            return
        parts = tuple(tensors[str(i)].to(self.device) for i in range(len(tensors)))
        self.state = parts if len(parts) > 1 else parts[0]


# ----- generation ---------------------------------------------------------------------------


def prompt_ids(model: LanguageModel, tokenizer, prompt: str) -> tuple[list[int], int]:
    """The prompt as the model reads it (after a line end), and how many tokens were cut from
    its left to fit a Transformer's context (0 when it fits)."""
    ids = [tokenizer.eos_id, *tokenizer.encode(prompt)]
    if model.is_recurrent or len(ids) <= model.config.context:
        return ids, 0
    cut = len(ids) - model.config.context
    return ids[cut:], cut


PROMPT_PIECE = 4096  # prompt tokens a recurrent model reads at a time


@torch.inference_mode()
def generate(
    model: LanguageModel,
    tokenizer,
    prompt: str,
    sampling,
    *,
    num_samples: int = 1,
    use_cache: bool = True,
    stop: tuple[str, ...] = (),
    generator=None,
    on_token=None,
) -> list[str]:
    """Complete `prompt` num_samples times. Recurrent models carry their state (constant work
    per token); the Transformer keeps a KV cache, rebuilt from the last half context when full.
    With use_cache=False every step re-reads the prefix (the slow baseline, for benchmarks)."""
    from nlpkit.decoding import sample
    from nlpkit.encoders import initial_cache
    from nlpkit.encoders.state import select_state

    device = next(model.parameters()).device
    ids, _ = prompt_ids(model, tokenizer, prompt)
    limit = model.config.context
    history = torch.tensor([ids], device=device).repeat(num_samples, 1)
    # The Transformer reads the tokens from `start` on; when that would pass its context, start
    # jumps so the last half context remains. Cached and uncached runs follow the same windows,
    # so they produce the same tokens. The tokens are kept as pieces, joined only when a window
    # is read again (not one concatenation a step).
    trail = {"pieces": [history], "length": history.size(1), "start": 0}

    def read_window():
        tokens = torch.cat(trail["pieces"], dim=1)
        trail["pieces"] = [tokens]
        return model(tokens[:, trail["start"] :], initial_cache(model.encoder) if use_cache else None)

    if use_cache:
        if model.is_recurrent:  # a long prompt is read in pieces, carrying the state: flat memory
            state = None
            for piece in history[:1].split(PROMPT_PIECE, dim=1):
                logits, state = model(piece, state)
        else:
            logits, state = model(history[:1], initial_cache(model.encoder))
        state = select_state(state, torch.zeros(num_samples, dtype=torch.long, device=device))
        logits = logits[:, -1].expand(num_samples, -1)
    else:
        logits, state = read_window()
        logits = logits[:, -1]

    def step(token, state):
        trail["pieces"].append(token)
        trail["length"] += 1
        rebuild = not model.is_recurrent and trail["length"] - trail["start"] > limit
        if rebuild:
            trail["start"] = trail["length"] - limit // 2
        if not use_cache or rebuild:
            out, state = read_window()
            return out[:, -1], state
        out, state = model(token, state)
        return out[:, -1], state

    finished = None
    if stop:

        def finished(row, new):
            return any(s in tokenizer.decode(new) for s in stop)

    # Padding and sequence-start symbols are never text; a character model ends lines with
    # "\n", so its unused <eos> symbol is suppressed too.
    suppress = [PAD_ID, BOS_ID] + ([EOS_ID] if tokenizer.eos_id != EOS_ID else [])
    new = sample(step, state, logits, history, sampling, generator, finished, on_token, suppress)
    texts = []
    for tokens in new:
        text = tokenizer.decode(tokens)
        cuts = [text.find(s) for s in stop if s in text]
        texts.append(text[: min(cuts)] if cuts else text)
    return texts


# ----- model files --------------------------------------------------------------------------


def to_modelfile(model: LanguageModel, tokenizer, extra_meta: dict):
    from nlpkit.tasks.files import to_modelfile as pack

    return pack(TASK, model, tokenizer, extra_meta)


def from_modelfile(saved, device=None) -> tuple[LanguageModel, object]:
    """The model (in eval mode, on `device`) and tokenizer stored in a loaded model file."""
    from nlpkit.tasks.files import load_weights

    return load_weights(lambda: LanguageModel(LMConfig.from_dict(saved.meta["model"])), saved, device)
