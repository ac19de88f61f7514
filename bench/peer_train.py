#!/usr/bin/python3
# PyTorch 1.13 peer of bench/bench_train.c: the same plain BERT token classifier
# (tools/bert_reference.py, HF BertForTokenClassification math), full training steps
# (zero_grad, forward, multi-label BCE-with-logits, backward, clip_grad_norm_ 1.0, AdamW with
# no decay on biases / LayerNorm) on random windows of exactly --seq tokens with a full
# attention mask. Prints tokens/s per run and the median.
import argparse
import os
import statistics
import sys
import time

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools"))
from bert_reference import BertForTokenClassification  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    for k, v in (("layers", 4), ("hidden", 312), ("heads", 12), ("inter", 1200), ("vocab", 30522),
                 ("labels", 13), ("seq", 128), ("batch", 16), ("steps", 4), ("runs", 3), ("threads", 1)):
        ap.add_argument("--" + k, type=int, default=v)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(1)
    c = {"vocab_size": a.vocab, "hidden_size": a.hidden, "num_hidden_layers": a.layers,
         "num_attention_heads": a.heads, "intermediate_size": a.inter, "max_position_embeddings": a.seq,
         "type_vocab_size": 2, "layer_norm_eps": 1e-12, "hidden_act": "gelu", "pad_token_id": 0}
    m = BertForTokenClassification(c, a.labels)
    m.train()
    decay = [p for n, p in m.named_parameters() if not (n.endswith("bias") or "LayerNorm" in n)]
    nodecay = [p for n, p in m.named_parameters() if n.endswith("bias") or "LayerNorm" in n]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.01}, {"params": nodecay, "weight_decay": 0.0}],
                            lr=5e-5)
    ids = torch.randint(0, a.vocab, (a.batch, a.seq))
    mask = torch.ones((a.batch, a.seq), dtype=torch.long)
    tg = torch.nn.functional.one_hot(torch.randint(0, a.labels, (a.batch, a.seq)), a.labels).float()
    print("# peer_train (torch %s): %dL-%d-%dh-%d, vocab %d, %d labels, seq %d, batch %d, threads %d" %
          (torch.__version__, a.layers, a.hidden, a.heads, a.inter, a.vocab, a.labels, a.seq, a.batch, a.threads))
    rates, crates = [], []
    for r in range(a.runs + 1):
        t0, c0 = time.perf_counter(), time.process_time()
        for _ in range(a.steps if r else 1):
            opt.zero_grad()
            _, logits = m(ids, mask)
            loss = torch.nn.functional.binary_cross_entropy_with_logits(logits, tg)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(m.parameters(), 1.0)
            opt.step()
        dt, dc = time.perf_counter() - t0, time.process_time() - c0
        if r:
            rates.append(a.steps * a.batch * a.seq / dt)
            crates.append(a.steps * a.batch * a.seq / dc)
            print("run %d: %d steps in %.2f s (%.2f CPU-s), %.1f tokens/s, %.1f tokens/CPU-s (loss %.4f)" %
                  (r, a.steps, dt, dc, rates[-1], crates[-1], loss.item()))
    print("median tokens/s %.1f tokens/CPU-s %.1f" % (statistics.median(rates), statistics.median(crates)))


if __name__ == "__main__":
    main()
