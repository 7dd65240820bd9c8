"""Peer: nanoGPT's shakespeare_char recipe, written plainly (a GPT, random windows, AdamW).

The model: learned token and position embeddings, pre-norm blocks of causal self-attention and a
4x GELU MLP (LayerNorm and linear layers without biases), a final LayerNorm and an output layer
tied to the token embedding; weights drawn from N(0, 0.02), the residual projections scaled by
1/sqrt(2 * layers). Training: batches of random windows, AdamW (betas 0.9/0.99, weight decay 0.1
on matrices), clipping at 1.0, 100 warm-up steps then cosine decay to a tenth of the rate.

Defaults are nanoGPT's published CPU command (block 64, batch 12, 4 layers, 4 heads, width 128,
2,000 iterations, no dropout). With --budget the decay follows the clock instead of a step count.
The validation loss is measured on the whole last 10% of the text, each character scored once
with at least half a window before it (how nlpkit's `lm eval` scores a Transformer).

    python bench/peers/nanogpt_char.py input.txt [--budget 600]
"""

import argparse
import json
import math
import time

import torch
import torch.nn.functional as F
from torch import nn

p = argparse.ArgumentParser()
p.add_argument("text")
p.add_argument("--block", type=int, default=64)
p.add_argument("--batch", type=int, default=12)
p.add_argument("--layers", type=int, default=4)
p.add_argument("--heads", type=int, default=4)
p.add_argument("--width", type=int, default=128)
p.add_argument("--dropout", type=float, default=0.0)
p.add_argument("--iters", type=int, default=2000)
p.add_argument("--budget", type=float, default=0.0, help="seconds of training; 0: --iters")
p.add_argument("--lr", type=float, default=1e-3)
p.add_argument("--seed", type=int, default=1337)
args = p.parse_args()
torch.manual_seed(args.seed)

text = open(args.text, encoding="utf-8").read()
chars = sorted(set(text))
index = {c: i for i, c in enumerate(chars)}
data = torch.tensor([index[c] for c in text])
cut = int(len(data) * 0.9)
train, valid = data[:cut], data[cut:]


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        w = args.width
        self.ln1, self.ln2 = nn.LayerNorm(w, bias=False), nn.LayerNorm(w, bias=False)
        self.qkv, self.proj = nn.Linear(w, 3 * w, bias=False), nn.Linear(w, w, bias=False)
        self.up, self.down = nn.Linear(w, 4 * w, bias=False), nn.Linear(4 * w, w, bias=False)
        self.drop = nn.Dropout(args.dropout)

    def forward(self, x):
        b, t, w = x.shape
        q, k, v = self.qkv(self.ln1(x)).split(w, dim=2)
        q, k, v = (z.view(b, t, args.heads, w // args.heads).transpose(1, 2) for z in (q, k, v))
        a = F.scaled_dot_product_attention(q, k, v, is_causal=True, dropout_p=args.dropout if self.training else 0)
        x = x + self.drop(self.proj(a.transpose(1, 2).reshape(b, t, w)))
        return x + self.drop(self.down(F.gelu(self.up(self.ln2(x)))))


class GPT(nn.Module):
    def __init__(self):
        super().__init__()
        self.tok, self.pos = nn.Embedding(len(chars), args.width), nn.Embedding(args.block, args.width)
        self.drop = nn.Dropout(args.dropout)
        self.blocks = nn.ModuleList(Block() for _ in range(args.layers))
        self.ln = nn.LayerNorm(args.width, bias=False)
        self.head = nn.Linear(args.width, len(chars), bias=False)
        self.head.weight = self.tok.weight
        for name, param in self.named_parameters():
            if param.dim() == 2:
                std = 0.02 / math.sqrt(2 * args.layers) if name.endswith(("proj.weight", "down.weight")) else 0.02
                nn.init.normal_(param, std=std)

    def forward(self, x):
        h = self.drop(self.tok(x) + self.pos(torch.arange(x.size(1))))
        for block in self.blocks:
            h = block(h)
        return self.head(self.ln(h))


def batch():
    starts = torch.randint(len(train) - args.block - 1, (args.batch,))
    x = torch.stack([train[s : s + args.block] for s in starts])
    y = torch.stack([train[s + 1 : s + 1 + args.block] for s in starts])
    return x, y


def rate(step, progress):
    if step < 100:
        return args.lr * (step + 1) / 101
    return args.lr / 10 + 0.5 * (1 + math.cos(math.pi * min(1.0, progress))) * (args.lr - args.lr / 10)


@torch.no_grad()
def full_valid(model):
    model.eval()
    total, scored, begin, n = 0.0, 0, 0, len(valid) - 1
    stride = args.block // 2
    while scored < n:
        end = min(begin + args.block, n)
        logits = model(valid[begin:end][None])
        nll = F.cross_entropy(logits[0], valid[begin + 1 : end + 1], reduction="none")
        total += nll[scored - begin :].sum().item()
        scored = end
        begin = max(0, end + stride - args.block)
    model.train()
    return total / n


@torch.no_grad()
def sample(model, prompt="ROMEO:", n=200):
    model.eval()
    g = torch.Generator().manual_seed(1)
    ids = torch.tensor([[index[c] for c in prompt]])
    for _ in range(n):
        logits = model(ids[:, -args.block :])[0, -1] / 0.8
        ids = torch.cat([ids, torch.multinomial(F.softmax(logits, -1), 1, generator=g)[None]], dim=1)
    return "".join(chars[i] for i in ids[0].tolist())


model = GPT()
matrices = [q for q in model.parameters() if q.dim() >= 2]
others = [q for q in model.parameters() if q.dim() < 2]
opt = torch.optim.AdamW(
    [{"params": matrices, "weight_decay": 0.1}, {"params": others, "weight_decay": 0.0}], lr=args.lr, betas=(0.9, 0.99)
)
start, step = time.perf_counter(), 0
while True:
    elapsed = time.perf_counter() - start
    if (args.budget and elapsed >= args.budget) or (not args.budget and step >= args.iters):
        break
    for group in opt.param_groups:
        group["lr"] = rate(step, elapsed / args.budget if args.budget else step / args.iters)
    x, y = batch()
    loss = F.cross_entropy(model(x).reshape(-1, len(chars)), y.reshape(-1))
    opt.zero_grad(set_to_none=True)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    opt.step()
    step += 1
seconds = time.perf_counter() - start
summary = {
    "peer": "nanoGPT shakespeare_char",
    "iters": step,
    "train_seconds": round(seconds, 1),
    "tokens_per_s": round(step * args.batch * args.block / seconds, 1),
    "valid_loss": round(full_valid(model), 4),
    "args": vars(args),
    "sample": sample(model),
}
print(json.dumps(summary), flush=True)
