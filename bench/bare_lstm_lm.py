"""A bare PyTorch LSTM language-model training loop: the overhead baseline for nlpkit.

The same model nlpkit builds for `--encoder lstm --tie-weights` (embedding, nn.LSTM, dropout,
tied decoder), the same batching (rows of one token stream, BPTT windows with carried state)
and the same optimizer step (SGD, global-norm clipping), written as plainly as the PyTorch
word_language_model example. Prints the training tokens/s as JSON.

    python bench/bare_lstm_lm.py TRAIN.txt --steps 300
"""

import argparse
import json
import time

import torch
import torch.nn.functional as F
from torch import nn

p = argparse.ArgumentParser()
p.add_argument("train")
p.add_argument("--steps", type=int, default=300)
p.add_argument("--hidden", type=int, default=200)
p.add_argument("--layers", type=int, default=2)
p.add_argument("--bptt", type=int, default=35)
p.add_argument("--batch", type=int, default=20)
p.add_argument("--lr", type=float, default=20.0)
p.add_argument("--clip", type=float, default=0.25)
p.add_argument("--dropout", type=float, default=0.2)
args = p.parse_args()
torch.manual_seed(0)

vocab = {"<eos>": 0}
ids = []
with open(args.train, encoding="utf-8") as f:
    for line in f:
        for w in line.split() + ["<eos>"]:
            ids.append(vocab.setdefault(w, len(vocab)))
data = torch.tensor(ids)
cols = data.numel() // args.batch
data = data[: cols * args.batch].view(args.batch, cols)


class Model(nn.Module):
    def __init__(self, v, h, layers, dropout):
        super().__init__()
        self.emb = nn.Embedding(v, h)
        self.rnn = nn.LSTM(h, h, layers, dropout=dropout, batch_first=True)
        self.drop = nn.Dropout(dropout)
        self.out = nn.Linear(h, v)
        self.out.weight = self.emb.weight

    def forward(self, x, state):
        h, state = self.rnn(self.drop(self.emb(x)), state)
        return self.out(self.drop(h)), state


model = Model(len(vocab), args.hidden, args.layers, args.dropout)
opt = torch.optim.SGD(model.parameters(), lr=args.lr)
model.train()
state, step, tokens = None, 0, 0
start = time.perf_counter()
while step < args.steps:
    for i in range(0, cols - 1, args.bptt):
        if step == args.steps:
            break
        x, y = data[:, i : i + args.bptt], data[:, i + 1 : i + 1 + args.bptt]
        x = x[:, : y.size(1)]
        if state is not None:
            state = tuple(s.detach() for s in state)
        logits, state = model(x, state)
        loss = F.cross_entropy(logits.reshape(-1, logits.size(-1)), y.reshape(-1))
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), args.clip)
        opt.step()
        step += 1
        tokens += y.numel()
    state = None
elapsed = time.perf_counter() - start
print(
    json.dumps(
        {
            "steps": step,
            "tokens": tokens,
            "seconds": round(elapsed, 2),
            "tokens_per_s": round(tokens / elapsed, 1),
            "final_loss": round(loss.item(), 4),
        }
    )
)
