"""A pre-norm Transformer decoder: causal self-attention (with the encoder stack's KV cache for
step-by-step decoding), cross-attention over an encoder's outputs, and a feed-forward layer.

Lives beside the encoders because it is built from their parts (SelfAttention, KVCache,
positions); the seq2seq task is its only user.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from nlpkit.encoders.transformer import KVCache, SelfAttention, sinusoidal_positions


class CrossAttention(nn.Module):
    def __init__(self, dim: int, heads: int, dropout: float):
        super().__init__()
        self.heads = heads
        self.q = nn.Linear(dim, dim)
        self.kv = nn.Linear(dim, 2 * dim)
        self.out = nn.Linear(dim, dim)
        self.dropout = dropout

    def memory(self, enc: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Keys and values of the encoder outputs [B, heads, S, d], computed once a sentence."""
        batch, time, dim = enc.shape
        k, v = self.kv(enc).view(batch, time, 2, self.heads, dim // self.heads).permute(2, 0, 3, 1, 4)
        return k, v

    def forward(self, x, kv, mask, need_weights: bool = False):
        """x [B, T, D]; mask [B, 1, 1, S] True where a source position is real. With
        need_weights the attention is computed explicitly and its head average returned [B, T, S]."""
        batch, time, dim = x.shape
        q = self.q(x).view(batch, time, self.heads, dim // self.heads).transpose(1, 2)
        k, v = kv
        if need_weights:
            scores = (q @ k.transpose(-1, -2)) / math.sqrt(q.size(-1))
            weights = scores.masked_fill(~mask, float("-inf")).softmax(-1)
            y = weights @ v
            average = weights.mean(1)
        else:
            p = self.dropout if self.training else 0.0
            y = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, dropout_p=p)
            average = None
        return self.out(y.transpose(1, 2).reshape(batch, time, dim)), average


class DecoderBlock(nn.Module):
    def __init__(self, dim: int, heads: int, ff_size: int, dropout: float):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim)
        self.self_attn = SelfAttention(dim, heads, dropout)
        self.norm2 = nn.LayerNorm(dim)
        self.cross = CrossAttention(dim, heads, dropout)
        self.norm3 = nn.LayerNorm(dim)
        self.ff = nn.Sequential(nn.Linear(dim, ff_size), nn.GELU(), nn.Linear(ff_size, dim))
        self.drop = nn.Dropout(dropout)

    def forward(self, x, kv, mask, cache, layer, past, need_weights):
        x = x + self.drop(self.self_attn(self.norm1(x), None, True, cache, layer, past))
        y, weights = self.cross(self.norm2(x), kv, mask, need_weights)
        x = x + self.drop(y)
        return x + self.drop(self.ff(self.norm3(x))), weights


class TransformerDecoder(nn.Module):
    def __init__(self, dim: int, layers: int, heads: int, ff_size: int, dropout: float):
        super().__init__()
        self.dim = dim
        self.blocks = nn.ModuleList(DecoderBlock(dim, heads, ff_size or 4 * dim, dropout) for _ in range(layers))
        self.position_scale = nn.Parameter(torch.tensor(0.02 * math.sqrt(2.0)))  # as in the encoder
        self.norm = nn.LayerNorm(dim)
        self.drop = nn.Dropout(dropout)
        for name, p in self.named_parameters():
            if p.dim() == 2 and "norm" not in name:
                nn.init.normal_(p, std=0.02)
            elif name.endswith("bias"):
                nn.init.zeros_(p)
        for block in self.blocks:
            for proj in (block.self_attn.out, block.cross.out, block.ff[2]):
                nn.init.normal_(proj.weight, std=0.02 / math.sqrt(3 * layers))

    def memory(self, enc: torch.Tensor) -> list[tuple[torch.Tensor, torch.Tensor]]:
        return [block.cross.memory(enc) for block in self.blocks]

    def forward(self, x, memory, mask, cache: KVCache | None = None, need_weights: bool = False):
        """x [B, T, D] target embeddings continuing `cache` (if given); returns the outputs
        [B, T, D] and, with need_weights, the last layer's cross-attention [B, T, S]."""
        past = cache.length if cache is not None else 0
        h = x + self.position_scale * sinusoidal_positions(x.size(1), self.dim, past, x.device).to(x.dtype)
        h = self.drop(h)
        weights = None
        last = len(self.blocks) - 1
        for i, block in enumerate(self.blocks):
            h, w = block(h, memory[i], mask, cache, i, past, need_weights and i == last)
            weights = w if w is not None else weights
        return self.norm(h), weights
