"""A pre-norm Transformer encoder on torch's scaled_dot_product_attention.

Causal or not; sinusoidal or learned positions; an optional KV cache so that generation costs
one token's work per step instead of re-reading the whole prefix.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from nlpkit.encoders.config import EncoderConfig


class KVCache:
    """Keys and values of every layer for the positions seen so far: [batch, heads, time, dim].

    Buffers are allocated in blocks and written in place, so a step costs one token's copy
    instead of re-concatenating the whole history (which made batched generation O(T) per step).
    """

    BLOCK = 256
    STEP_ROOM = 16  # the positions a reordered (beam search) cache has room for before it grows

    def __init__(self, layers: int):
        self.buffers: list[tuple[torch.Tensor, torch.Tensor] | None] = [None] * layers
        self.lengths = [0] * layers

    @property
    def length(self) -> int:
        return self.lengths[0]

    def append(self, layer: int, k: torch.Tensor, v: torch.Tensor):
        start, new = self.lengths[layer], k.size(2)
        end = start + new
        buf = self.buffers[layer]
        if buf is None or buf[0].size(2) < end:
            capacity = -(-end // self.BLOCK) * self.BLOCK
            grown = tuple(t.new_empty(t.size(0), t.size(1), capacity, t.size(3)) for t in (k, v))
            if buf is not None:
                grown[0][:, :, :start] = buf[0][:, :, :start]
                grown[1][:, :, :start] = buf[1][:, :, :start]
            buf = self.buffers[layer] = grown
        buf[0][:, :, start:end] = k
        buf[1][:, :, start:end] = v
        self.lengths[layer] = end
        return buf[0][:, :, :end], buf[1][:, :, :end]

    def select(self, index: torch.Tensor) -> KVCache:
        """The cache of the rows `index` (beam search reorders it every step): only the filled
        positions are copied, not the whole preallocated block."""
        new = KVCache(len(self.buffers))
        new.buffers = [
            None if b is None else tuple(_pick_rows(t, index, n) for t in b)
            for b, n in zip(self.buffers, self.lengths, strict=True)
        ]
        new.lengths = list(self.lengths)
        return new


def _pick_rows(buffer: torch.Tensor, index: torch.Tensor, filled: int) -> torch.Tensor:
    """The rows `index` of the filled part, in a buffer with room for a few more steps: a new
    buffer as large as the old one would be fresh memory to fault in on every beam step."""
    room = -(-(filled + 1) // KVCache.STEP_ROOM) * KVCache.STEP_ROOM
    out = buffer.new_empty(index.numel(), buffer.size(1), max(room, filled), buffer.size(3))
    with torch.no_grad():  # a cache carries no graph (decoding runs without one)
        torch.index_select(buffer[:, :, :filled], 0, index, out=out[:, :, :filled])
    return out


_TABLES: dict[tuple[int, str], torch.Tensor] = {}  # (width, device): positions computed so far


def sinusoidal_positions(length: int, dim: int, offset: int = 0, device=None) -> torch.Tensor:
    """Rows offset .. offset+length-1 of the sinusoid table (read-only: a view of a table kept
    per width and device, grown in blocks, so a decoding step costs a slice, not six kernels)."""
    end = offset + length
    if torch.jit.is_tracing():  # an ONNX export: the graph computes them from its own sizes
        return _sinusoids(offset, end, dim, device)
    key = (dim, str(torch.device(device) if device is not None else torch.device("cpu")))
    table = _TABLES.get(key)
    if table is None or table.size(0) < end:
        # made outside inference mode even when generation asks first: an inference tensor
        # could never be used by a training step later in the same process
        with torch.inference_mode(False):
            table = _TABLES[key] = _sinusoids(0, -(-end // 256) * 256, dim, device)
    return table[offset:end]


def _sinusoids(begin: int, end: int, dim: int, device) -> torch.Tensor:
    position = torch.arange(begin, end, device=device, dtype=torch.float32)[:, None]
    freq = torch.exp(torch.arange(0, dim, 2, device=device, dtype=torch.float32) * (-math.log(10000.0) / dim))
    table = torch.zeros(end - begin, dim, device=device)
    table[:, 0::2] = torch.sin(position * freq)
    table[:, 1::2] = torch.cos(position * freq[: dim // 2])
    return table


class SelfAttention(nn.Module):
    def __init__(self, dim: int, heads: int, dropout: float):
        super().__init__()
        self.heads = heads
        self.qkv = nn.Linear(dim, 3 * dim)
        self.out = nn.Linear(dim, dim)
        self.dropout = dropout

    def forward(self, x, mask, causal: bool, cache: KVCache | None, layer: int, past: int):
        batch, time, dim = x.shape
        q, k, v = self.qkv(x).view(batch, time, 3, self.heads, dim // self.heads).permute(2, 0, 3, 1, 4)
        if cache is not None:
            k, v = cache.append(layer, k, v)
        if mask is None and causal and time > 1 and past > 0:
            # New queries sit at positions past..past+time-1: each sees all the cache and the
            # new keys up to itself. SDPA's is_causal aligns top-left, which is wrong here.
            keys = torch.arange(past + time, device=x.device)
            mask = keys[None, :] <= (keys[past:, None])
        # bool(): while tracing (ONNX export) sizes are tensors, and SDPA wants a Python bool
        use_causal = bool(causal and mask is None and time > 1 and past == 0)
        y = F.scaled_dot_product_attention(
            q, k, v, attn_mask=mask, is_causal=use_causal, dropout_p=self.dropout if self.training else 0.0
        )
        return self.out(y.transpose(1, 2).reshape(batch, time, dim))


class Block(nn.Module):
    def __init__(self, dim: int, heads: int, ff_size: int, dropout: float):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim)
        self.attn = SelfAttention(dim, heads, dropout)
        self.norm2 = nn.LayerNorm(dim)
        self.ff = nn.Sequential(nn.Linear(dim, ff_size), nn.GELU(), nn.Linear(ff_size, dim))
        self.drop = nn.Dropout(dropout)

    def forward(self, x, mask, causal, cache, layer, past):
        x = x + self.drop(self.attn(self.norm1(x), mask, causal, cache, layer, past))
        return x + self.drop(self.ff(self.norm2(x)))


class TransformerEncoder(nn.Module):
    def __init__(self, config: EncoderConfig):
        super().__init__()
        self.config = config
        dim = config.hidden_size
        self.input_proj = nn.Identity() if config.input_size == dim else nn.Linear(config.input_size, dim)
        self.positions = nn.Embedding(config.max_len, dim) if config.positions == "learned" else None
        # Sinusoids have unit amplitude while token embeddings start near 0.02: unscaled, the
        # positions would drown the tokens. A learnable scale starts them at the same size.
        self.position_scale = nn.Parameter(torch.tensor(0.02 * math.sqrt(2.0))) if self.positions is None else None
        self.blocks = nn.ModuleList(
            Block(dim, config.heads, config.ff_size or 4 * dim, config.dropout) for _ in range(config.layers)
        )
        self.norm = nn.LayerNorm(dim)
        self.drop = nn.Dropout(config.dropout)
        self.reset_parameters()

    @property
    def output_size(self) -> int:
        return self.config.hidden_size

    def reset_parameters(self) -> None:
        for name, p in self.named_parameters():
            if p.dim() == 2 and "norm" not in name:
                nn.init.normal_(p, std=0.02)
            elif name.endswith("bias"):
                nn.init.zeros_(p)
        # Scale the residual projections down with depth (GPT-2) so deep stacks start stable.
        for block in self.blocks:
            nn.init.normal_(block.attn.out.weight, std=0.02 / math.sqrt(2 * self.config.layers))
            nn.init.normal_(block.ff[2].weight, std=0.02 / math.sqrt(2 * self.config.layers))

    def forward(self, x: torch.Tensor, lengths: torch.Tensor | None = None, state: KVCache | None = None):
        """x: [batch, time, input]. With `state` (a KVCache, causal models) the new positions
        continue the cached ones. Returns outputs [batch, time, hidden] and the cache."""
        batch, time, _ = x.shape
        if time == 1 and state is not None and lengths is None and not self.training and self._plain():
            return self.step(x, state), state
        offset = state.length if state is not None else 0
        if offset + time > self.config.max_len and self.positions is not None:
            raise ValueError(f"sequence of {offset + time} positions exceeds the model's {self.config.max_len}")
        h = self.input_proj(x)
        if self.positions is not None:
            h = h + self.positions(torch.arange(offset, offset + time, device=x.device))
        else:
            h = h + self.position_scale * sinusoidal_positions(time, h.size(-1), offset, x.device).to(h.dtype)
        h = self.drop(h)
        mask = None
        if lengths is not None and not self.config.causal:
            # Keys beyond a sequence's length are hidden; with a causal mask, right padding can
            # never be seen by a real position, so no mask is needed there.
            # An empty sequence still gets its first key, so softmax never sees an empty row.
            valid = torch.arange(time, device=x.device)[None, :] < lengths.to(x.device).clamp(min=1)[:, None]
            mask = valid[:, None, None, :]
        for i, block in enumerate(self.blocks):
            h = block(h, mask, self.config.causal, state, i, offset)
        h = self.norm(h)
        if lengths is not None:
            h = h * (torch.arange(time, device=x.device)[None, :] < lengths.to(x.device)[:, None])[..., None]
        return h, state

    def _plain(self) -> bool:
        """Whether every linear layer is a float nn.Linear (not an int8 module from
        nlpkit.quantize, which replaces them): what the lean step reads the weights of. Checked every
        step (two dozen type checks), so a model quantized after a step is never misread."""
        layers = (m for b in self.blocks for m in (b.attn.qkv, b.attn.out, b.ff[0], b.ff[2]))
        return all(type(m) is nn.Linear for m in layers) and type(self.input_proj) in (nn.Identity, nn.Linear)

    def step(self, x: torch.Tensor, cache: KVCache) -> torch.Tensor:
        """One new position per row (x: [batch, 1, input]) after the cached ones, in eval mode:
        the arithmetic of forward() (the same kernels in the same order, so the same numbers)
        without its module calls, dropout, masks and checks, which cost as much as the
        arithmetic at batch 1 (bench/results/decode-profile.md). A single query sees every
        cached key, so attention needs no mask."""
        batch, _, _ = x.shape
        offset = cache.length
        if offset + 1 > self.config.max_len and self.positions is not None:
            raise ValueError(f"sequence of {offset + 1} positions exceeds the model's {self.config.max_len}")
        h = self.input_proj(x)
        dim = h.size(-1)
        if self.positions is not None:
            h = h + self.positions.weight[offset : offset + 1]
        else:
            h = h + self.position_scale * sinusoidal_positions(1, dim, offset, x.device).to(h.dtype)
        heads = self.config.heads
        for i, block in enumerate(self.blocks):
            attn, n1, n2, up, down = block.attn, block.norm1, block.norm2, block.ff[0], block.ff[2]
            a = F.layer_norm(h, (dim,), n1.weight, n1.bias, n1.eps)
            q, k, v = (
                F.linear(a, attn.qkv.weight, attn.qkv.bias)
                .view(batch, 1, 3, heads, dim // heads)
                .permute(2, 0, 3, 1, 4)
            )
            k, v = cache.append(i, k, v)
            y = F.scaled_dot_product_attention(q, k, v)
            h = h + F.linear(y.transpose(1, 2).reshape(batch, 1, dim), attn.out.weight, attn.out.bias)
            f = F.layer_norm(h, (dim,), n2.weight, n2.bias, n2.eps)
            h = h + F.linear(F.gelu(F.linear(f, up.weight, up.bias)), down.weight, down.bias)
        return F.layer_norm(h, (dim,), self.norm.weight, self.norm.bias, self.norm.eps)
