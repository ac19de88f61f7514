#!/usr/bin/python3
# Reference BERT forward pass in plain PyTorch (the math of Hugging Face's BertModel /
# BertForTokenClassification, written out; no transformers package) producing the fixtures
# in tests/golden/bert/ for kazu-c's engine parity tests.
"""Usage: bert_reference.py [--out tests/golden/bert] [--kazu-model DIR] [--write-safetensors PATH]
       bert_reference.py --int8-study

Writes
  kazu_test_model.txt  hidden states + logits of a seeded random token-classification head on
                       the Kazu test checkpoint (hidden 8, 12 layers, 4 heads), for a padded batch;
  prng_model.txt       logits (+ mean-pooled output) of a 4-layer / 312 / 1200 / 12-head model
                       with a 512-token vocabulary and a 13-label head whose weights come from
                       the splitmix64 generator below (the C test regenerates the same bytes and
                       checks their SHA-256 before comparing).
Run with /usr/bin/python3 (torch 1.13 + numpy).

PRNG contract (mirrored by tests/unit/test_bert_parity.c):
  splitmix64 with state = fnv1a64(tensor name) ^ 0x4B415A55; one draw per element in row-major
  order; u = (z >> 40) - 2**23 (an integer in [-2**23, 2**23)); value = u * 2**-(23 + shift)
  (exact in float32), or 1 + u * 2**-26 rounded to float32 for LayerNorm weights.
"""
import argparse
import hashlib
import json
import math
import os
import struct
import sys

import numpy as np
import torch
from torch import nn

MASK64 = (1 << 64) - 1
GOLDEN = 0x9E3779B97F4A7C15


def fnv1a64(s):
    h = 0xCBF29CE484222325
    for b in s.encode():
        h = ((h ^ b) * 0x100000001B3) & MASK64
    return h


def splitmix_u24(seed, n):
    """n draws of (z >> 40) - 2**23 from splitmix64 seeded with `seed` (vectorised)."""
    with np.errstate(over="ignore"):
        i = np.arange(1, n + 1, dtype=np.uint64)
        z = np.uint64(seed) + i * np.uint64(GOLDEN)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        z = z ^ (z >> np.uint64(31))
    return (z >> np.uint64(40)).astype(np.int64) - (1 << 23)


def prng_tensor(name, shape, kind):
    n = int(np.prod(shape))
    u = splitmix_u24(fnv1a64(name) ^ 0x4B415A55, n)
    if kind == "ln_gamma":
        v = (1.0 + u.astype(np.float64) * 2.0 ** -26).astype(np.float32)
    else:
        v = (u.astype(np.float64) * 2.0 ** -(23 + kind)).astype(np.float32)
    return v.reshape(shape)


# ---- the model: HF BertModel math, module names = HF state_dict keys ---------------------
class Embeddings(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.word_embeddings = nn.Embedding(c["vocab_size"], c["hidden_size"])
        self.position_embeddings = nn.Embedding(c["max_position_embeddings"], c["hidden_size"])
        self.token_type_embeddings = nn.Embedding(c["type_vocab_size"], c["hidden_size"])
        self.LayerNorm = nn.LayerNorm(c["hidden_size"], eps=c["layer_norm_eps"])
        self.register_buffer("position_ids", torch.arange(c["max_position_embeddings"]).expand((1, -1)))

    def forward(self, ids, types):
        pos = self.position_ids[:, : ids.shape[1]]
        x = self.word_embeddings(ids) + self.token_type_embeddings(types) + self.position_embeddings(pos)
        return self.LayerNorm(x)


class SelfAttention(nn.Module):
    def __init__(self, c):
        super().__init__()
        h = c["hidden_size"]
        self.heads = c["num_attention_heads"]
        self.dh = h // self.heads
        self.query, self.key, self.value = nn.Linear(h, h), nn.Linear(h, h), nn.Linear(h, h)

    def split(self, x):
        b, t, _ = x.shape
        return x.view(b, t, self.heads, self.dh).permute(0, 2, 1, 3)

    def forward(self, x, ext_mask):
        q, k, v = self.split(self.query(x)), self.split(self.key(x)), self.split(self.value(x))
        scores = torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(self.dh) + ext_mask
        probs = torch.softmax(scores, dim=-1)
        ctx = torch.matmul(probs, v).permute(0, 2, 1, 3).contiguous()
        return ctx.view(x.shape)


class DenseLN(nn.Module):
    def __init__(self, i, h, eps):
        super().__init__()
        self.dense = nn.Linear(i, h)
        self.LayerNorm = nn.LayerNorm(h, eps=eps)

    def forward(self, x, res):
        return self.LayerNorm(self.dense(x) + res)


class Attention(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.self = SelfAttention(c)
        self.output = DenseLN(c["hidden_size"], c["hidden_size"], c["layer_norm_eps"])

    def forward(self, x, m):
        return self.output(self.self(x, m), x)


class Intermediate(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.dense = nn.Linear(c["hidden_size"], c["intermediate_size"])
        self.act = c["hidden_act"]

    def forward(self, x):
        x = self.dense(x)
        if self.act == "gelu":
            return nn.functional.gelu(x)
        if self.act in ("gelu_new", "gelu_pytorch_tanh"):
            return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * torch.pow(x, 3.0))))
        if self.act == "relu":
            return torch.relu(x)
        raise ValueError(self.act)


class Layer(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.attention = Attention(c)
        self.intermediate = Intermediate(c)
        self.output = DenseLN(c["intermediate_size"], c["hidden_size"], c["layer_norm_eps"])

    def forward(self, x, m):
        a = self.attention(x, m)
        return self.output(self.intermediate(a), a)


class Encoder(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.layer = nn.ModuleList([Layer(c) for _ in range(c["num_hidden_layers"])])


class Pooler(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.dense = nn.Linear(c["hidden_size"], c["hidden_size"])


class BertModel(nn.Module):
    def __init__(self, c, pooler=True):
        super().__init__()
        self.embeddings = Embeddings(c)
        self.encoder = Encoder(c)
        if pooler:
            self.pooler = Pooler(c)

    def forward(self, ids, mask, types=None):
        if types is None:
            types = torch.zeros_like(ids)
        ext = (1.0 - mask[:, None, None, :].to(torch.float32)) * torch.finfo(torch.float32).min
        x = self.embeddings(ids, types)
        for layer in self.encoder.layer:
            x = layer(x, ext)
        return x


class BertForTokenClassification(nn.Module):
    def __init__(self, c, num_labels):
        super().__init__()
        self.bert = BertModel(c, pooler=False)
        self.classifier = nn.Linear(c["hidden_size"], num_labels)

    def forward(self, ids, mask, types=None):
        h = self.bert(ids, mask, types)
        return h, self.classifier(h)


# ---- fixtures --------------------------------------------------------------------------------
def fmt(v):
    return " ".join("%.9g" % float(x) for x in v)


def padded_batch(seqs, stride, pad=0):
    ids = torch.full((len(seqs), stride), pad, dtype=torch.long)
    mask = torch.zeros((len(seqs), stride), dtype=torch.long)
    for b, s in enumerate(seqs):
        ids[b, : len(s)] = torch.tensor(s)
        mask[b, : len(s)] = 1
    return ids, mask


PRNG_CONFIG = {
    "vocab_size": 512, "hidden_size": 312, "num_hidden_layers": 4, "num_attention_heads": 12,
    "intermediate_size": 1200, "max_position_embeddings": 128, "type_vocab_size": 2,
    "layer_norm_eps": 1e-12, "hidden_act": "gelu", "pad_token_id": 0,
}
PRNG_LABELS = 13


def prng_state_dict(c, num_labels):
    """name -> (shape, kind) in the order of HF's parameter registration."""
    h, i = c["hidden_size"], c["intermediate_size"]
    spec = [("bert.embeddings.word_embeddings.weight", (c["vocab_size"], h), 1),
            ("bert.embeddings.position_embeddings.weight", (c["max_position_embeddings"], h), 1),
            ("bert.embeddings.token_type_embeddings.weight", (c["type_vocab_size"], h), 1),
            ("bert.embeddings.LayerNorm.weight", (h,), "ln_gamma"),
            ("bert.embeddings.LayerNorm.bias", (h,), 4)]
    for l in range(c["num_hidden_layers"]):
        p = "bert.encoder.layer.%d." % l
        for lin, (o, n) in (("attention.self.query", (h, h)), ("attention.self.key", (h, h)),
                            ("attention.self.value", (h, h)), ("attention.output.dense", (h, h)),
                            ("intermediate.dense", (i, h)), ("output.dense", (h, i))):
            spec += [(p + lin + ".weight", (o, n), 4), (p + lin + ".bias", (o,), 5)]
            if lin in ("attention.output.dense", "output.dense"):
                ln = p + lin.rsplit(".", 1)[0] + ".LayerNorm"
                spec += [(ln + ".weight", (h,), "ln_gamma"), (ln + ".bias", (h,), 4)]
    spec += [("classifier.weight", (num_labels, h), 2), ("classifier.bias", (num_labels,), 2)]
    return spec


def safetensors_bytes(tensors):
    """Deterministic safetensors: names sorted, compact JSON header padded with spaces to 8."""
    names = sorted(tensors)
    header, off, blobs = {"__metadata__": {"format": "pt"}}, 0, []
    for n in names:
        a = np.ascontiguousarray(tensors[n], dtype="<f4")
        header[n] = {"dtype": "F32", "shape": list(a.shape), "data_offsets": [off, off + a.nbytes]}
        off += a.nbytes
        blobs.append(a.tobytes())
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * (-len(h) % 8)
    return struct.pack("<Q", len(h)) + h + b"".join(blobs)


def prng_ids(name, n, vocab):
    u = splitmix_u24(fnv1a64(name) ^ 0x4B415A55, n)
    return [int((x + (1 << 23)) % vocab) for x in u]


def write_prng_fixture(out_dir, st_path):
    c = PRNG_CONFIG
    spec = prng_state_dict(c, PRNG_LABELS)
    tensors = {n: prng_tensor(n, s, k) for n, s, k in spec}
    blob = safetensors_bytes(tensors)
    if st_path:
        with open(st_path, "wb") as f:
            f.write(blob)
    model = BertForTokenClassification(c, PRNG_LABELS)
    sd = {n: torch.from_numpy(t.copy()) for n, t in tensors.items()}
    sd["bert.embeddings.position_ids"] = model.bert.embeddings.position_ids.clone()
    model.load_state_dict(sd, strict=True)
    model.eval()
    lens = [26, 1, 60, 13, 128, 2, 40, 26]
    stride = 128
    seqs = [prng_ids("ids.%d" % b, n, c["vocab_size"]) for b, n in enumerate(lens)]
    types = torch.zeros((len(lens), stride), dtype=torch.long)
    types[3, 7:13] = 1  # a sentence pair in sequence 3
    ids, mask = padded_batch(seqs, stride)
    with torch.no_grad():
        h, logits = model(ids, mask, types)
    lines = ["# kazu-c BERT parity fixture: PRNG model (tools/bert_reference.py, torch %s)" % torch.__version__,
             "config vocab %d hidden %d layers %d heads %d intermediate %d max_positions %d type_vocab %d labels %d"
             % (c["vocab_size"], c["hidden_size"], c["num_hidden_layers"], c["num_attention_heads"],
                c["intermediate_size"], c["max_position_embeddings"], c["type_vocab_size"], PRNG_LABELS),
             "safetensors_sha256 %s %d" % (hashlib.sha256(blob).hexdigest(), len(blob)),
             "batch %d stride %d" % (len(lens), stride), "lens " + " ".join(map(str, lens))]
    for b, s in enumerate(seqs):
        lines.append("ids %d %s" % (b, " ".join(map(str, s))))
        lines.append("types %d %s" % (b, " ".join(str(int(x)) for x in types[b, : len(s)])))
    for b, n in enumerate(lens):
        for t in range(n):
            lines.append("logits %d %d %s" % (b, t, fmt(logits[b, t])))
    for b, n in enumerate(lens):
        lines.append("pooled_mean %d %s" % (b, fmt(h[b, :n].mean(0))))
        lines.append("pooled_cls %d %s" % (b, fmt(h[b, 0])))
    with open(os.path.join(out_dir, "prng_model.txt"), "w") as f:
        f.write("\n".join(lines) + "\n")


def write_kazu_fixture(out_dir, model_dir):
    with open(os.path.join(model_dir, "config.json")) as f:
        c = json.load(f)
    model = BertModel(c, pooler=True)
    sd = torch.load(os.path.join(model_dir, "pytorch_model.bin"), map_location="cpu")
    model.load_state_dict(sd, strict=True)  # every tensor of the checkpoint, nothing else
    model.eval()
    nl = 5
    hw = prng_tensor("kazu_test_head.weight", (nl, c["hidden_size"]), 2)
    hb = prng_tensor("kazu_test_head.bias", (nl,), 2)
    # [CLS]=101 ... [SEP]=102 in the bert-base-cased vocabulary; ids stay below its 28,996 tokens
    seqs = [[101, 1109, 2049, 7209, 1110, 170, 18311, 1104, 1103, 2284, 1107, 102],
            [101, 23120, 1118, 1142, 102], [101]]
    stride = 12
    types = torch.zeros((len(seqs), stride), dtype=torch.long)
    types[0, 6:12] = 1
    ids, mask = padded_batch(seqs, stride)
    with torch.no_grad():
        h = model(ids, mask, types)
        logits = torch.nn.functional.linear(h, torch.from_numpy(hw), torch.from_numpy(hb))
    lines = ["# kazu-c BERT parity fixture: Kazu test checkpoint (tools/bert_reference.py, torch %s)" % torch.__version__,
             "config vocab %d hidden %d layers %d heads %d intermediate %d max_positions %d type_vocab %d labels %d"
             % (c["vocab_size"], c["hidden_size"], c["num_hidden_layers"], c["num_attention_heads"],
                c["intermediate_size"], c["max_position_embeddings"], c["type_vocab_size"], nl),
             "head_weight " + fmt(hw.reshape(-1)), "head_bias " + fmt(hb),
             "batch %d stride %d" % (len(seqs), stride), "lens " + " ".join(str(len(s)) for s in seqs)]
    for b, s in enumerate(seqs):
        lines.append("ids %d %s" % (b, " ".join(map(str, s))))
        lines.append("types %d %s" % (b, " ".join(str(int(x)) for x in types[b, : len(s)])))
    for b, s in enumerate(seqs):
        for t in range(len(s)):
            lines.append("hidden %d %d %s" % (b, t, fmt(h[b, t])))
            lines.append("logits %d %d %s" % (b, t, fmt(logits[b, t])))
    with open(os.path.join(out_dir, "kazu_test_model.txt"), "w") as f:
        f.write("\n".join(lines) + "\n")


def quant_study():
    """Int8 context for docs/nn.md: agreement with fp32 on the PRNG fixture batch of torch's
    quantize_dynamic and of fake-quantised variants of kazu-c's scheme (per-token asymmetric
    activations, per-channel symmetric weights)."""
    c = PRNG_CONFIG
    tensors = {n: prng_tensor(n, s, k) for n, s, k in prng_state_dict(c, PRNG_LABELS)}
    model = BertForTokenClassification(c, PRNG_LABELS)
    sd = {n: torch.from_numpy(t.copy()) for n, t in tensors.items()}
    sd["bert.embeddings.position_ids"] = model.bert.embeddings.position_ids.clone()
    model.load_state_dict(sd, strict=True)
    model.eval()
    lens = [26, 1, 60, 13, 128, 2, 40, 26]
    seqs = [prng_ids("ids.%d" % b, n, c["vocab_size"]) for b, n in enumerate(lens)]
    types = torch.zeros((len(lens), 128), dtype=torch.long)
    types[3, 7:13] = 1
    ids, mask = padded_batch(seqs, 128)
    with torch.no_grad():
        ref = model(ids, mask, types)[1]

    def report(name, lg):
        am = dec = 0
        dmax = 0.0
        for b, n in enumerate(lens):
            a, r = lg[b, :n], ref[b, :n]
            dmax = max(dmax, (a - r).abs().max().item())
            am += int((a.argmax(1) == r.argmax(1)).sum())
            dec += int(((a > 0) == (r > 0)).sum())
        print("%-44s max|dlogit| %.4f  argmax %d/%d  sigmoid>0.5 %d/%d" %
              (name, dmax, am, sum(lens), dec, sum(lens) * PRNG_LABELS))

    def qw(w, bits=8):
        m = (1 << (bits - 1)) - 1
        s = w.abs().amax(1, keepdim=True) / m
        return torch.round(w / s).clamp(-m, m) * s

    def qa(x, bits):
        top = (1 << bits) - 1
        mn, mx = x.amin(-1, keepdim=True).clamp(max=0), x.amax(-1, keepdim=True).clamp(min=0)
        s = (mx - mn) / top
        z = torch.round(-mn / s)
        return (torch.round(x / s) + z).clamp(0, top).sub(z) * s

    orig = nn.Linear.forward
    for bits in (7, 8):
        def fwd(self, x, bits=bits):
            if self.weight.shape[0] == PRNG_LABELS:  # the classifier stays fp32, as in kazu-c
                return orig(self, x)
            return nn.functional.linear(qa(x, bits), qw(self.weight), self.bias)
        nn.Linear.forward = fwd
        with torch.no_grad():
            report("fake-quant: %d-bit act./token, 8-bit w./channel" % bits, model(ids, mask, types)[1])
        nn.Linear.forward = orig
    qm = torch.quantization.quantize_dynamic(model, {nn.Linear}, dtype=torch.qint8)
    with torch.no_grad():
        report("torch quantize_dynamic (%s)" % torch.backends.quantized.engine, qm(ids, mask, types)[1])


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=os.path.join(here, "..", "tests", "golden", "bert"))
    ap.add_argument("--kazu-model", default=os.path.join(here, "..", "..", "shared", "data", "models",
                                                         "kazu_bert_test_model"))
    ap.add_argument("--write-safetensors", default=None, help="also write the PRNG model's model.safetensors")
    ap.add_argument("--int8-study", action="store_true", help="print int8 agreement figures; write nothing")
    a = ap.parse_args()
    torch.set_num_threads(1)
    if a.int8_study:
        quant_study()
        return
    os.makedirs(a.out, exist_ok=True)
    write_prng_fixture(a.out, a.write_safetensors)
    if os.path.isdir(a.kazu_model):
        write_kazu_fixture(a.out, a.kazu_model)
    else:
        print("no Kazu test checkpoint at %s: kazu_test_model.txt not written" % a.kazu_model, file=sys.stderr)


if __name__ == "__main__":
    main()
