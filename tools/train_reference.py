#!/usr/bin/python3
# Training fixtures for kazu-c's trainer (tests/unit/test_train_grad.c): a tiny BERT token
# classifier in plain PyTorch (tools/bert_reference.py's HF-exact modules), one padded batch,
# the multi-label BCE loss with soft targets, token mask and per-example label mask (mean over
# supervised cells), and the softmax cross-entropy loss (mean over supervised tokens), with every
# parameter gradient of both; and the masked-LM loss of BERT's prediction head (dense + GELU +
# LayerNorm, decoder tied to the word embeddings, output bias; mean cross-entropy over the
# vocabulary at the predicted positions) with its gradients, for tests/unit/test_train_mlm.c.
# Run with /usr/bin/python3 (torch 1.13 + numpy).
"""Usage: train_reference.py [--out tests/golden/train]

Writes
  model/config.json, model/vocab.txt, model/model.safetensors   the tiny model (fp32)
  batch.txt            the batch: per sequence ids, token mask, label mask, targets; both losses
  grads_bce.safetensors, grads_ce.safetensors                    d loss / d parameter (HF names)
  mlm_head.safetensors the MLM head's weights (cls.predictions.*)
  mlm_batch.txt        masked-LM batch: per sequence input ids and labels (-1: not predicted); loss
  grads_mlm.safetensors                                          d loss_mlm / d parameter (encoder + head)
"""
import argparse
import json
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bert_reference import BertForTokenClassification, safetensors_bytes  # noqa: E402

CONFIG = {
    "vocab_size": 30, "hidden_size": 16, "num_hidden_layers": 2, "num_attention_heads": 4,
    "intermediate_size": 24, "max_position_embeddings": 12, "type_vocab_size": 2,
    "layer_norm_eps": 1e-12, "hidden_act": "gelu", "pad_token_id": 0,
}
LABELS = ["B-gene", "I-gene", "B-disease", "I-disease", "B-drug"]
LENS = [7, 5, 10]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default="tests/golden/train")
    a = ap.parse_args()
    torch.manual_seed(20261125)
    g = np.random.default_rng(7)
    c = CONFIG
    m = BertForTokenClassification(c, len(LABELS))
    with torch.no_grad():
        for name, p in m.named_parameters():
            if "LayerNorm.weight" in name:
                p.copy_(1 + 0.1 * torch.randn_like(p))
            elif name.endswith("bias"):
                p.copy_(0.1 * torch.randn_like(p))
            else:
                p.copy_(0.3 * torch.randn_like(p))
    C, B, T = len(LABELS), len(LENS), max(LENS)
    ids = torch.zeros((B, T), dtype=torch.long)
    mask = torch.zeros((B, T), dtype=torch.long)
    tmask = np.zeros((B, T), dtype=np.float32)
    lmask = np.zeros((B, C), dtype=np.float32)
    targ = np.zeros((B, T, C), dtype=np.float32)
    for b, n in enumerate(LENS):
        ids[b, :n] = torch.tensor(g.integers(1, c["vocab_size"], n))
        mask[b, :n] = 1
        tmask[b, 1:n - 1] = (g.random(n - 2) < 0.8)
        lmask[b] = g.random(C) < 0.7
        lmask[b, b % C] = 1
        t = g.random((n, C)).astype(np.float32)
        t[t < 0.4] = 0
        t[t > 0.8] = 1
        targ[b, :n] = t
    _, logits = m(ids, mask)
    cell = torch.tensor(tmask)[:, :, None] * torch.tensor(lmask)[:, None, :]
    tt = torch.tensor(targ)
    bce = torch.nn.functional.binary_cross_entropy_with_logits(logits, tt, reduction="none")
    loss_bce = (bce * cell).sum() / cell.sum()
    m.zero_grad()
    loss_bce.backward()
    gb = {n: p.grad.detach().numpy().copy() for n, p in m.named_parameters()}
    # softmax CE with soft targets (rows normalised), mean over supervised tokens
    _, logits = m(ids, mask)
    tn = tt / tt.sum(-1, keepdim=True).clamp_min(1e-6)
    tn[tt.sum(-1) == 0] = torch.nn.functional.one_hot(torch.zeros(1, dtype=torch.long), C).float()
    logp = torch.log_softmax(logits, -1)
    tokm = torch.tensor(tmask)
    loss_ce = -((tn * logp).sum(-1) * tokm).sum() / tokm.sum()
    m.zero_grad()
    loss_ce.backward()
    gc = {n: p.grad.detach().numpy().copy() for n, p in m.named_parameters()}

    def strip(n):
        return n[5:] if n.startswith("bert.") else n

    os.makedirs(os.path.join(a.out, "model"), exist_ok=True)
    sd = {n: p.detach().numpy() for n, p in m.named_parameters()}
    with open(os.path.join(a.out, "model", "model.safetensors"), "wb") as f:
        f.write(safetensors_bytes(sd))
    cfg = dict(c)
    cfg.update({"architectures": ["BertForTokenClassification"], "model_type": "bert",
                "id2label": {str(i): l for i, l in enumerate(LABELS)},
                "label2id": {l: i for i, l in enumerate(LABELS)}, "use_multilabel": True})
    with open(os.path.join(a.out, "model", "config.json"), "w") as f:
        json.dump(cfg, f, indent=1, sort_keys=True)
    with open(os.path.join(a.out, "model", "vocab.txt"), "w") as f:
        toks = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] + [chr(ord("a") + i) for i in range(25)]
        f.write("\n".join(toks) + "\n")
    with open(os.path.join(a.out, "grads_bce.safetensors"), "wb") as f:
        f.write(safetensors_bytes({strip(n): v for n, v in gb.items()}))
    with open(os.path.join(a.out, "grads_ce.safetensors"), "wb") as f:
        f.write(safetensors_bytes({strip(n): v for n, v in gc.items()}))
    tnn = tn.numpy()
    with open(os.path.join(a.out, "batch.txt"), "w") as f:
        f.write("# tools/train_reference.py: batch of %d sequences, %d labels\n" % (B, C))
        f.write("loss_bce %.9g\nloss_ce %.9g\n" % (loss_bce.item(), loss_ce.item()))
        for b, n in enumerate(LENS):
            f.write("seq %d\n" % n)
            f.write("ids " + " ".join(str(int(x)) for x in ids[b, :n]) + "\n")
            f.write("tmask " + " ".join(str(int(x)) for x in tmask[b, :n]) + "\n")
            f.write("lmask " + " ".join(str(int(x)) for x in lmask[b]) + "\n")
            f.write("targets " + " ".join("%.9g" % x for x in targ[b, :n].reshape(-1)) + "\n")
            f.write("targets_ce " + " ".join("%.9g" % x for x in tnn[b, :n].reshape(-1)) + "\n")
    print("loss_bce %.6f loss_ce %.6f" % (loss_bce.item(), loss_ce.item()))
    mlm_fixture(a.out, m.bert, c)


MLM_LENS = [9, 6, 12]


def mlm_fixture(out, bert, c):
    """BertOnlyMLMHead on the encoder above (its own random streams: the files above stay as they were)."""
    gen = torch.Generator().manual_seed(20261126)
    g = np.random.default_rng(11)
    H, V = c["hidden_size"], c["vocab_size"]
    head = {
        "cls.predictions.transform.dense.weight": 0.3 * torch.randn((H, H), generator=gen),
        "cls.predictions.transform.dense.bias": 0.1 * torch.randn((H,), generator=gen),
        "cls.predictions.transform.LayerNorm.weight": 1 + 0.1 * torch.randn((H,), generator=gen),
        "cls.predictions.transform.LayerNorm.bias": 0.1 * torch.randn((H,), generator=gen),
        "cls.predictions.bias": 0.1 * torch.randn((V,), generator=gen),
    }
    hp = {k: torch.nn.Parameter(v.clone()) for k, v in head.items()}
    B, T = len(MLM_LENS), max(MLM_LENS)
    ids = torch.zeros((B, T), dtype=torch.long)
    mask = torch.zeros((B, T), dtype=torch.long)
    labels = torch.full((B, T), -100, dtype=torch.long)
    for b, n in enumerate(MLM_LENS):
        orig = g.integers(5, V, n)
        orig[0], orig[n - 1] = 2, 3  # [CLS] ... [SEP]
        inp = orig.copy()
        pick = [i for i in range(1, n - 1) if g.random() < 0.35] or [1]
        for i in pick:
            labels[b, i] = int(orig[i])
            r = g.random()
            inp[i] = 4 if r < 0.6 else (int(g.integers(5, V)) if r < 0.8 else orig[i])  # [MASK] / random / kept
        ids[b, :n] = torch.tensor(inp)
        mask[b, :n] = 1
    bert.zero_grad()
    h = bert(ids, mask)
    x = torch.nn.functional.linear(h, hp["cls.predictions.transform.dense.weight"],
                                   hp["cls.predictions.transform.dense.bias"])
    x = torch.nn.functional.gelu(x)
    x = torch.nn.functional.layer_norm(x, (H,), hp["cls.predictions.transform.LayerNorm.weight"],
                                       hp["cls.predictions.transform.LayerNorm.bias"], c["layer_norm_eps"])
    E = bert.embeddings.word_embeddings.weight  # the tied decoder
    logits = x @ E.t() + hp["cls.predictions.bias"]
    loss = torch.nn.functional.cross_entropy(logits.reshape(-1, V), labels.reshape(-1), ignore_index=-100)
    loss.backward()
    grads = {n: p.grad.detach().numpy().copy() for n, p in bert.named_parameters() if p.grad is not None}
    grads.update({n: p.grad.detach().numpy().copy() for n, p in hp.items()})
    with open(os.path.join(out, "mlm_head.safetensors"), "wb") as f:
        f.write(safetensors_bytes({n: v.numpy() for n, v in head.items()}))
    with open(os.path.join(out, "grads_mlm.safetensors"), "wb") as f:
        f.write(safetensors_bytes(grads))
    with open(os.path.join(out, "mlm_batch.txt"), "w") as f:
        f.write("# tools/train_reference.py: masked-LM batch of %d sequences (labels -1: not predicted)\n" % B)
        f.write("loss_mlm %.9g\n" % loss.item())
        for b, n in enumerate(MLM_LENS):
            f.write("seq %d\n" % n)
            f.write("ids " + " ".join(str(int(x)) for x in ids[b, :n]) + "\n")
            lab = [int(x) if x >= 0 else -1 for x in labels[b, :n]]
            f.write("labels " + " ".join(str(x) for x in lab) + "\n")
    print("loss_mlm %.6f (%d predicted tokens)" % (loss.item(), int((labels >= 0).sum())))


if __name__ == "__main__":
    main()
