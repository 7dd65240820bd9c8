"""`nlpkit export MODEL --format ctranslate2`: a Transformer translation model or language model
as a CTranslate2 model directory, built through CTranslate2's own specification API.

nlpkit's Transformers map onto CTranslate2's pre-norm ones layer for layer. What CTranslate2
has no place for is folded into what it has, exactly: the input projection (embedding size to
width) into the embedding table, a learned or scaled sinusoidal position table into its
position encodings, and a tied output layer behind a projection into one output matrix.

The directory holds CTranslate2's files (model.bin, config.json, the vocabulary) and
`nlpkit.nlpk`, the model file less its weights (tokenizer, config, metadata, nlpkit version),
so `nlpkit.load(DIR)` and the commands run it like the .nlpk (nlpkit.export.ct2_runtime).
Vocabulary entries are token ids written as text ("0", "1", ...): nlpkit's tokenizer makes them.
"""

from __future__ import annotations

import copy
import os
import shutil
import tempfile
from pathlib import Path

import numpy as np
import torch

from nlpkit.errors import NlpkitError
from nlpkit.outputs import umask
from nlpkit.text.tokenizers import EOS_ID as EOS

MODEL_FILE = "nlpkit.nlpk"  # the model file less its weights, inside the directory
EXPORT_VERSION = 1  # what this nlpkit writes; a directory with a larger one is refused
POSITIONS = 1024  # rows of a sinusoidal position table (a translation's longest source and output)
EXTRA = "pip install 'nlpkit[ct2]'"
SUPPORTED = "Transformer translation models and Transformer language models (full softmax)"


def require() -> None:
    import importlib.util

    if importlib.util.find_spec("ctranslate2") is None:
        raise NlpkitError(f"the ctranslate2 format needs CTranslate2: {EXTRA}")


def refuse_unsupported(task) -> None:
    """A one-line refusal for whatever CTranslate2 cannot run, naming what it can."""
    name, model = task.name, task.model
    if name not in ("lm", "translate"):
        raise NlpkitError(f"CTranslate2 runs {SUPPORTED}; this is a {name} model (use --format onnx)")
    recurrent = model.is_recurrent if name == "lm" else model.config.recurrent
    if recurrent:
        kind = model.config.encoder.kind
        raise NlpkitError(f"CTranslate2 runs {SUPPORTED}; this is a {kind} model (nlpkit runs it in PyTorch)")
    if name == "lm" and model.adaptive is not None:
        raise NlpkitError(f"CTranslate2 runs {SUPPORTED}; this model has an adaptive softmax")
    if name == "lm" and getattr(task, "direction", "forward") == "backward":
        raise NlpkitError("CTranslate2 generates text: a backward language model has nothing to generate")


def _np(t: torch.Tensor) -> np.ndarray:
    return np.ascontiguousarray(t.detach().float().cpu().numpy())


def _linear(spec, layer) -> None:
    spec.weight = _np(layer.weight)
    if layer.bias is not None:
        spec.bias = _np(layer.bias)


def _norm(spec, layer) -> None:
    spec.gamma, spec.beta = _np(layer.weight), _np(layer.bias)


def _through(layer, table: torch.Tensor) -> torch.Tensor:
    """An embedding table passed through a projection (or nn.Identity): the projected table."""
    with torch.no_grad():
        return layer(table)


def _position_table(positions, scale, rows: int, dim: int) -> np.ndarray:
    from nlpkit.encoders.transformer import sinusoidal_positions

    if positions is not None:  # learned
        return _np(positions.weight)
    return _np(scale.detach() * sinusoidal_positions(rows, dim))


def _self_attention(spec, attention, norm) -> None:
    _norm(spec.layer_norm, norm)
    _linear(spec.linear[0], attention.qkv)  # rows q, k, v: the fused layout CTranslate2 expects
    _linear(spec.linear[1], attention.out)


def _feed_forward(spec, ff, norm) -> None:
    _norm(spec.layer_norm, norm)
    _linear(spec.linear_0, ff[0])
    _linear(spec.linear_1, ff[2])


def _decoder_spec(layers: int, heads: int, cross: bool):
    from ctranslate2.specs import common_spec, transformer_spec

    spec = transformer_spec.TransformerDecoderSpec(
        layers, heads, pre_norm=True, activation=common_spec.Activation.GELU, with_encoder_attention=cross,
        alignment_layer=-1, alignment_heads=heads,  # the last layer's heads averaged, as nlpkit's alignments
    )  # fmt: skip
    spec.scale_embeddings = False
    return spec


def translation_spec(model):
    """The CTranslate2 TransformerSpec of an nlpkit Transformer Seq2Seq model."""
    from ctranslate2.specs import common_spec, transformer_spec

    enc, dec, cfg = model.encoder, model.decoder, model.config
    width, heads = cfg.encoder.hidden_size, cfg.encoder.heads
    encoder = transformer_spec.TransformerEncoderSpec(
        len(enc.blocks), heads, pre_norm=True, activation=common_spec.Activation.GELU
    )
    encoder.scale_embeddings = False
    src = _through(enc.input_proj, model.src_embedding.weight * model.embed_scale)
    encoder.embeddings[0].weight = _np(src)
    encoder.position_encodings.encodings = _position_table(enc.positions, enc.position_scale, POSITIONS, width)
    for layer, block in zip(encoder.layer, enc.blocks, strict=True):
        _self_attention(layer.self_attention, block.attn, block.norm1)
        _feed_forward(layer.ffn, block.ff, block.norm2)
    _norm(encoder.layer_norm, enc.norm)

    decoder = _decoder_spec(len(dec.blocks), heads, cross=True)
    decoder.embeddings.weight = _np(_through(model.tgt_in, model.tgt_embedding.weight * model.embed_scale))
    decoder.position_encodings.encodings = _position_table(None, dec.position_scale, POSITIONS, width)
    for layer, block in zip(decoder.layer, dec.blocks, strict=True):
        _self_attention(layer.self_attention, block.self_attn, block.norm1)
        _norm(layer.attention.layer_norm, block.norm2)
        _linear(layer.attention.linear[0], block.cross.q)
        _linear(layer.attention.linear[1], block.cross.kv)  # rows k, v
        _linear(layer.attention.linear[2], block.cross.out)
        _feed_forward(layer.ffn, block.ff, block.norm3)
    _norm(decoder.layer_norm, dec.norm)
    # logits = final_proj(h) @ E^T + b = h @ (E W)^T + (E b_proj + b): one matrix
    weight, bias = model.tgt_embedding.weight, model.out_bias
    if isinstance(model.final_proj, torch.nn.Linear):
        weight, bias = weight @ model.final_proj.weight, bias + weight @ model.final_proj.bias
    decoder.projection.weight, decoder.projection.bias = _np(weight), _np(bias)

    spec = transformer_spec.TransformerSpec(encoder, decoder)
    spec.register_source_vocabulary([str(i) for i in range(cfg.src_vocab)])
    spec.register_target_vocabulary([str(i) for i in range(cfg.tgt_vocab)])
    return spec


def language_model_spec(model):
    """The CTranslate2 TransformerDecoderModelSpec of an nlpkit Transformer language model."""
    from ctranslate2.specs import transformer_spec

    enc, cfg = model.encoder, model.config
    decoder = _decoder_spec(len(enc.blocks), cfg.encoder.heads, cross=False)
    decoder.embeddings.weight = _np(_through(enc.input_proj, model.embedding.weight))
    rows = cfg.context if enc.positions is None else cfg.encoder.max_len
    decoder.position_encodings.encodings = _position_table(enc.positions, enc.position_scale, rows, enc.output_size)
    for layer, block in zip(decoder.layer, enc.blocks, strict=True):
        _self_attention(layer.self_attention, block.attn, block.norm1)
        _feed_forward(layer.ffn, block.ff, block.norm2)
    _norm(decoder.layer_norm, enc.norm)
    weight, bias = model.decoder.weight, model.decoder.bias
    if model.project is not None:  # tied through a projection: W_out @ (W_p h + b_p) + b
        weight, bias = weight @ model.project.weight, bias + weight @ model.project.bias
    decoder.projection.weight, decoder.projection.bias = _np(weight), _np(bias)
    spec = transformer_spec.TransformerDecoderModelSpec(decoder)
    spec.register_vocabulary([str(i) for i in range(cfg.vocab_size)])
    return spec


def _set_config(spec, task) -> None:
    from nlpkit.text.tokenizers import BOS_ID, EOS_ID, UNK_ID

    spec.config.unk_token, spec.config.bos_token, spec.config.eos_token = str(UNK_ID), str(BOS_ID), str(EOS_ID)
    if task.name == "translate":
        spec.config.decoder_start_token = str(BOS_ID)
    spec.config.layer_norm_epsilon = 1e-5  # torch's LayerNorm default, which every nlpkit norm uses


def export_ct2(task, out: str | Path, int8: bool = False, verify=None) -> dict:
    """Write `task`'s model to the directory `out` (replaced whole if it is an earlier export; a
    symlink's target is replaced, the link kept); returns {"positions", "int8", "files"}.
    `verify(folder)`, when given, checks the finished export before it replaces anything (an
    error leaves the earlier export as it was)."""
    import ctranslate2

    from nlpkit.export.graphs import modelfile_without_weights
    from nlpkit.outputs import write_atomically

    require()
    refuse_unsupported(task)
    model = copy.deepcopy(task.model).cpu().float().eval()  # the caller's model stays where it is
    with torch.no_grad():
        spec = translation_spec(model) if task.name == "translate" else language_model_spec(model)
    _set_config(spec, task)
    try:
        spec.validate()
        spec.optimize(quantization="int8" if int8 else None)
    except (ValueError, TypeError) as exc:
        raise NlpkitError(f"CTranslate2 refused the model: {str(exc).splitlines()[0][:200]}") from None
    target = Path(os.path.realpath(out))
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        spec.save(str(staging))
        rows = int(spec.decoder.position_encodings.encodings.shape[0])
        about = {
            "export_version": EXPORT_VERSION,
            "int8": int8,
            "positions": rows,
            "ctranslate2": ctranslate2.__version__,
        }
        write_atomically(staging / MODEL_FILE, modelfile_without_weights(task, (), {"ctranslate2": about}))
        if verify is not None:
            about = {**about, **verify(staging)}
        _replace(staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return {**about, "files": sorted(p.name for p in target.iterdir())}


def _owned(name: str) -> bool:
    """Whether a file of that name is one an export writes (so replacing the folder loses nothing else)."""
    return name in (MODEL_FILE, "model.bin", "config.json") or name.endswith(("vocabulary.json", "vocabulary.txt"))


def _replace(staging: Path, target: Path) -> None:
    """Move the finished directory into place; an earlier export there goes only once it has."""
    old = None
    if target.exists():
        old = target.with_name(f".{target.name}.old-{os.getpid()}")
        target.rename(old)
    staging.rename(target)
    os.chmod(target, 0o777 & ~umask())
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def check_target(out: str | Path, model_path: str | Path) -> None:
    """Refused before the model is read: a file where the directory should go, a directory that
    is not an earlier export, a target inside a missing folder, a missing CTranslate2."""
    from nlpkit.outputs import Output, claim

    target = Path(out)
    if target.exists() and not target.is_dir():
        raise NlpkitError(f"{out}: exists and is not a directory (a CTranslate2 model is a directory)")
    if target.is_dir() and any(target.iterdir()) and not (target / MODEL_FILE).is_file():
        raise NlpkitError(f"{out}: a directory that is not an nlpkit CTranslate2 export; give a new name")
    if target.is_dir():
        foreign = sorted(p.name for p in target.iterdir() if not (_owned(p.name) and p.is_file()))
        if foreign:
            raise NlpkitError(
                f"{out}: an earlier export that also holds {foreign[0]!r}, which replacing it would delete; "
                "move that away or give a new name"
            )
    if not target.resolve().parent.is_dir():
        raise NlpkitError(f"{out}: its folder {target.resolve().parent} does not exist")
    claim(inputs=[model_path], outputs=[Output("out", str(target), "export", required=True)], make_folder=False)
    require()


TOLERANCE = 1e-3  # largest log-probability difference allowed between a float32 export and PyTorch


def check_export(task, target: Path) -> float:
    """The largest difference between the log-probabilities CTranslate2 and PyTorch give the same
    random token sequences (of several lengths, in one batch): CTranslate2's score_batch against
    the model's own forward pass."""
    import ctranslate2

    g = torch.Generator().manual_seed(0)
    model, low = task.model, 4  # ids below 4 are padding and the special symbols
    text = lambda ids: [str(i) for i in ids]  # noqa: E731
    if task.name == "translate":
        from nlpkit.data.batching import pad
        from nlpkit.text.tokenizers import BOS_ID

        cfg = model.config
        sources = [torch.randint(low, cfg.src_vocab, (n,), generator=g).tolist() + [EOS] for n in (3, 9, 14)]
        targets = [torch.randint(low, cfg.tgt_vocab, (n,), generator=g).tolist() for n in (5, 2, 11)]
        found = ctranslate2.Translator(str(target), device="cpu").score_batch(
            [text(s) for s in sources], [text(t) for t in targets]
        )
        src, lengths = pad(sources)
        tgt_in, _ = pad([[BOS_ID, *t] for t in targets])
        with torch.no_grad():
            logp = torch.log_softmax(model(src, lengths, tgt_in).float(), -1)
        wanted = [[float(logp[b, i, x]) for i, x in enumerate([*t, EOS])] for b, t in enumerate(targets)]
    else:
        rows = [torch.randint(low, model.config.vocab_size, (n,), generator=g).tolist() for n in (4, 12)]
        rows.append(torch.randint(low, model.config.vocab_size, (model.config.context + 1,), generator=g).tolist())
        found = ctranslate2.Generator(str(target), device="cpu").score_batch([text(r) for r in rows])
        wanted = []
        for r in rows:
            with torch.no_grad():
                logits, _ = model(torch.tensor([r[:-1]]))
            logp = torch.log_softmax(logits[0].float(), -1)
            wanted.append([float(logp[i, x]) for i, x in enumerate(r[1:])])
    return max(abs(a - b) for f, w in zip(found, wanted, strict=True) for a, b in zip(f.log_probs, w, strict=True))


def export_file(model_path: str | Path, out: str | Path = "", int8: bool = False) -> tuple[Path, dict]:
    """Export the model file at `model_path` (`nlpkit export --format ctranslate2`): the
    directory's path (default: the model's name less .nlpk, plus -ct2) and what export_ct2 wrote."""
    import nlpkit

    source = Path(model_path)
    target = Path(out) if out else source.with_name(source.stem + "-ct2")
    if source.is_dir() or source.suffix == ".onnx":
        raise NlpkitError(f"{model_path}: already exported; export the .nlpk file it came from")
    check_target(target, source)
    model = nlpkit.load(model_path, device="cpu", threads=0, quantize="none", runtime="torch")

    def verify(folder: Path) -> dict:
        difference = check_export(model, folder)
        if not int8 and not difference <= TOLERANCE:
            raise NlpkitError(f"{target}: CTranslate2 and PyTorch disagree by {difference:.2g}; nothing was written")
        return {"difference": difference}

    return target, export_ct2(model, target, int8=int8, verify=verify)


def summary(target: Path, wrote: dict) -> str:
    """What `nlpkit export` says of a directory it wrote."""
    size = sum(f.stat().st_size for f in target.iterdir())
    kind = "int8" if wrote["int8"] else "float32"
    agreement = f"log-probabilities within {wrote['difference']:.2g} of PyTorch's"
    return f"{target}: {size / 1e6:,.2f} MB CTranslate2 model ({kind}; {agreement})"
