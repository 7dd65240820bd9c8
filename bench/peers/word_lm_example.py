"""Peer: the PyTorch word_language_model example's recipe, written plainly, under a time budget.

What the example does (its README's small tied model): embedding 200, 2-layer LSTM 200, dropout
0.2 on the embedding and the LSTM output (and between layers), tied output layer, batch 20, BPTT
35, plain SGD at lr 20 with global-norm clipping 0.25, the hidden state carried between windows,
validation at every epoch's end and the rate divided by 4 when validation does not improve; the
best model is tested. The budget counts evaluation, as nlpkit's does; an epoch cut by the budget
is validated once more. Prints one JSON line per validation and a final JSON summary.

    python bench/peers/word_lm_example.py PTB_DIR --budget 1800
"""

import argparse
import copy
import json
import math
import time

import torch
import torch.nn.functional as F
from torch import nn

p = argparse.ArgumentParser()
p.add_argument("ptb", help="folder with ptb.{train,valid,test}.txt")
p.add_argument("--budget", type=float, default=1800.0, help="seconds, evaluation included")
p.add_argument("--size", type=int, default=200)
p.add_argument("--dropout", type=float, default=0.2)
p.add_argument("--lr", type=float, default=20.0)
p.add_argument("--seed", type=int, default=1111)
args = p.parse_args()
torch.manual_seed(args.seed)

vocab: dict[str, int] = {}


def read(name):
    ids = []
    with open(f"{args.ptb}/ptb.{name}.txt", encoding="utf-8") as f:
        for line in f:
            ids.extend(vocab.setdefault(w, len(vocab)) for w in line.split() + ["<eos>"])
    return torch.tensor(ids)


def batchify(ids, rows):
    cols = ids.numel() // rows
    return ids[: cols * rows].view(rows, cols)


train, valid, test = batchify(read("train"), 20), batchify(read("valid"), 10), batchify(read("test"), 1)


class Model(nn.Module):
    def __init__(self):
        super().__init__()
        n = args.size
        self.drop = nn.Dropout(args.dropout)
        self.emb = nn.Embedding(len(vocab), n)
        self.rnn = nn.LSTM(n, n, 2, dropout=args.dropout, batch_first=True)
        self.out = nn.Linear(n, len(vocab))
        self.out.weight = self.emb.weight
        nn.init.uniform_(self.emb.weight, -0.1, 0.1)
        nn.init.zeros_(self.out.bias)

    def forward(self, x, state):
        h, state = self.rnn(self.drop(self.emb(x)), state)
        return self.out(self.drop(h)), state


def windows(data):
    for i in range(0, data.size(1) - 1, 35):
        y = data[:, i + 1 : i + 36]
        yield data[:, i : i + y.size(1)], y


@torch.no_grad()
def evaluate(model, data):
    model.eval()
    total, count, state = 0.0, 0, None
    for x, y in windows(data):
        logits, state = model(x, state)
        total += F.cross_entropy(logits.reshape(-1, logits.size(-1)), y.reshape(-1), reduction="sum").item()
        count += y.numel()
    model.train()
    return total / count


model = Model()
lr, best, best_state = args.lr, math.inf, None
start = time.perf_counter()
tokens, epoch, out_of_time = 0, 0, False
while not out_of_time:
    epoch += 1
    state = None
    for x, y in windows(train):
        if time.perf_counter() - start >= args.budget:
            out_of_time = True
            break
        if state is not None:
            state = tuple(s.detach() for s in state)
        logits, state = model(x, state)
        loss = F.cross_entropy(logits.reshape(-1, logits.size(-1)), y.reshape(-1))
        model.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 0.25)
        with torch.no_grad():
            for param in model.parameters():
                param.add_(param.grad, alpha=-lr)
        tokens += y.numel()
    val = evaluate(model, valid)
    seconds = time.perf_counter() - start
    print(
        json.dumps({"epoch": epoch, "seconds": round(seconds, 1), "valid_ppl": round(math.exp(val), 2), "lr": lr}),
        flush=True,
    )
    if val < best:
        best, best_state = val, copy.deepcopy(model.state_dict())
    else:
        lr /= 4.0
model.load_state_dict(best_state)
test_loss = evaluate(model, test)
summary = {
    "peer": "pytorch word_language_model (small, tied)",
    "budget_s": args.budget,
    "epochs": epoch,
    "tokens_per_s": round(tokens / (time.perf_counter() - start), 1),
    "best_valid_ppl": round(math.exp(best), 2),
    "test_ppl": round(math.exp(test_loss), 2),
}
print(json.dumps(summary), flush=True)
