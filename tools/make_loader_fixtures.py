#!/usr/bin/python3
"""Fixtures for the BERT model loaders (tests/unit/test_nn_load.c): a tiny
BERT token classifier and encoder written by torch.save (zip format, fp32 /
fp16 / bf16 storages, a non-contiguous tensor, the legacy format, tied
weights), the same weights as safetensors by a stdlib writer that follows the
reference layout, a pickle that names os.system, and the expected fp32 values.

Run:  /usr/bin/python3 tools/make_loader_fixtures.py   (torch 1.13; writes
tests/golden/nn_load/ and seeds in tests/fuzz/corpus/{safetensors,torch_pickle}/)
Outputs are deterministic (fixed seed) except torch's zip timestamps, which
torch fixes itself."""
import io
import json
import os
import pickle
import struct
import sys
import zipfile
from collections import OrderedDict

import torch

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "tests", "golden", "nn_load")
FUZZ = os.path.join(ROOT, "tests", "fuzz", "corpus")

H, L, HEADS, I, V, P, T = 8, 2, 2, 16, 40, 16, 2
LABELS = ["O", "B-gene", "I-gene"]
LAYER = [  # (suffix, shape) in kazu-c's canonical order
    ("attention.self.query.weight", (H, H)), ("attention.self.query.bias", (H,)),
    ("attention.self.key.weight", (H, H)), ("attention.self.key.bias", (H,)),
    ("attention.self.value.weight", (H, H)), ("attention.self.value.bias", (H,)),
    ("attention.output.dense.weight", (H, H)), ("attention.output.dense.bias", (H,)),
    ("attention.output.LayerNorm.weight", (H,)), ("attention.output.LayerNorm.bias", (H,)),
    ("intermediate.dense.weight", (I, H)), ("intermediate.dense.bias", (I,)),
    ("output.dense.weight", (H, I)), ("output.dense.bias", (H,)),
    ("output.LayerNorm.weight", (H,)), ("output.LayerNorm.bias", (H,)),
]


def canonical_tensors():
    """name -> tensor in the order kazu-c resolves them (no 'bert.' prefix)."""
    g = torch.Generator().manual_seed(20240601)
    out = OrderedDict()

    def rnd(*shape):
        return (torch.randn(*shape, generator=g) * 0.5).float()

    out["embeddings.word_embeddings.weight"] = rnd(V, H)
    out["embeddings.position_embeddings.weight"] = rnd(P, H)
    out["embeddings.token_type_embeddings.weight"] = rnd(T, H)
    out["embeddings.LayerNorm.weight"] = 1 + rnd(H) * 0.1
    out["embeddings.LayerNorm.bias"] = rnd(H) * 0.1
    for l in range(L):
        for sfx, shape in LAYER:
            out[f"encoder.layer.{l}.{sfx}"] = rnd(*shape)
    out["classifier.weight"] = rnd(len(LABELS), H)
    out["classifier.bias"] = rnd(len(LABELS))
    return out


def config(arch, labels=True):
    c = {
        "architectures": [arch], "model_type": "bert", "hidden_size": H, "num_hidden_layers": L,
        "num_attention_heads": HEADS, "intermediate_size": I, "max_position_embeddings": P,
        "type_vocab_size": T, "vocab_size": V, "hidden_act": "gelu", "layer_norm_eps": 1e-12,
        "pad_token_id": 0, "position_embedding_type": "absolute", "hidden_dropout_prob": 0.1,
    }
    if labels:
        c["id2label"] = {str(i): l for i, l in enumerate(LABELS)}
        c["label2id"] = {l: i for i, l in enumerate(LABELS)}
    return json.dumps(c, indent=2, sort_keys=True) + "\n"


VOCAB = ["[PAD]", "[unused0]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "the", "gene", "egfr", "mut", "##ation",
         "##s", "cancer", "lung", ",", ".", "(", ")", "a", "b", "c", "d", "e", "is", "in", "of", "and", "brca",
         "##1", "##2", "protein", "cell", "disease", "drug", "tumour", "patients"]  # 36 < 40 rows


def write(path, data, mode="wb"):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, mode) as f:
        f.write(data)


def torch_bytes(sd, **kw):
    buf = io.BytesIO()
    torch.save(sd, buf, **kw)
    return buf.getvalue()


def safetensors_bytes(tensors, metadata=None):
    """The reference layout: header sorted by (alignment desc, name), data in that order,
    header padded with spaces to a multiple of 8."""
    dt = {torch.float32: ("F32", 4), torch.float16: ("F16", 2), torch.bfloat16: ("BF16", 2),
          torch.int64: ("I64", 8), torch.int8: ("I8", 1)}
    items = sorted(tensors.items(), key=lambda kv: (-dt[kv[1].dtype][1], kv[0]))
    header, blobs, at = {}, [], 0
    if metadata:
        header["__metadata__"] = metadata
    for name, t in items:
        t = t.contiguous()
        if t.dtype == torch.bfloat16:
            raw = t.view(torch.int16).numpy().tobytes()
        else:
            raw = t.numpy().tobytes()
        header[name] = {"dtype": dt[t.dtype][0], "shape": list(t.shape), "data_offsets": [at, at + len(raw)]}
        blobs.append(raw)
        at += len(raw)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * (-len(h) % 8)
    return struct.pack("<Q", len(h)) + h + b"".join(blobs)


class Evil:
    """Pickles as os.system("echo pwned"): the loader must refuse it without running it."""

    def __reduce__(self):
        return (os.system, ("echo pwned > /tmp/kazu_c_pwned",))


def evil_zip():
    pkl = pickle.dumps(OrderedDict([("embeddings.word_embeddings.weight", Evil())]), protocol=2)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as z:
        for name, data in (("archive/data.pkl", pkl), ("archive/version", b"3\n")):
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            z.writestr(info, data)
    return buf.getvalue(), pkl


def main():
    torch.manual_seed(0)
    t = canonical_tensors()
    expected = b"".join(v.contiguous().numpy().astype("<f4").tobytes() for v in t.values())
    write(os.path.join(OUT, "tiny_expected.f32"), expected)

    # 1. BertForTokenClassification as save_pretrained writes it: "bert." prefix, classifier, no pooler.
    tc = OrderedDict()
    for k, v in t.items():
        tc[k if k.startswith("classifier") else "bert." + k] = v.clone()
    d = os.path.join(OUT, "tiny_tc")
    write(os.path.join(d, "config.json"), config("BertForTokenClassification"), "w")
    write(os.path.join(d, "vocab.txt"), "\n".join(VOCAB) + "\n", "w")
    write(os.path.join(d, "tokenizer_config.json"),
          json.dumps({"do_lower_case": True, "tokenizer_class": "BertTokenizer", "unk_token": "[UNK]",
                      "strip_accents": None, "never_split": None}, indent=2) + "\n", "w")
    write(os.path.join(d, "pytorch_model.bin"), torch_bytes(tc))
    write(os.path.join(d, "model_f16.bin"), torch_bytes(OrderedDict((k, v.half()) for k, v in tc.items())))
    write(os.path.join(d, "model_bf16.bin"), torch_bytes(OrderedDict((k, v.bfloat16()) for k, v in tc.items())))
    nc = OrderedDict((k, v.clone()) for k, v in tc.items())
    w = nc["bert.encoder.layer.0.intermediate.dense.weight"]
    nc["bert.encoder.layer.0.intermediate.dense.weight"] = w.t().contiguous().t()  # same values, column-major
    write(os.path.join(d, "noncontig.bin"), torch_bytes(nc))
    # Legacy (pre-1.6) serialisation of a one-tensor dict: refused with a clear message.
    write(os.path.join(d, "legacy.bin"),
          torch_bytes(OrderedDict([("x", torch.zeros(2))]), _use_new_zipfile_serialization=False))
    evil, evil_pkl = evil_zip()
    write(os.path.join(d, "evil_os_system.bin"), evil)

    # 2. BertModel (no prefix) as safetensors, with the pooler and the position_ids buffer HF keeps.
    enc = OrderedDict((k, v.clone()) for k, v in t.items() if not k.startswith("classifier"))
    enc["embeddings.position_ids"] = torch.arange(P, dtype=torch.int64).unsqueeze(0)
    g = torch.Generator().manual_seed(7)
    enc["pooler.dense.weight"] = torch.randn(H, H, generator=g)
    enc["pooler.dense.bias"] = torch.randn(H, generator=g)
    d = os.path.join(OUT, "tiny_st")
    write(os.path.join(d, "config.json"), config("BertModel", labels=False), "w")
    write(os.path.join(d, "vocab.txt"), "\n".join(VOCAB) + "\n", "w")
    write(os.path.join(d, "model.safetensors"), safetensors_bytes(enc, {"format": "pt"}))
    half = OrderedDict((k, v.half() if v.is_floating_point() else v) for k, v in enc.items())
    write(os.path.join(d, "model_f16.safetensors"), safetensors_bytes(half, {"format": "pt"}))
    bf = OrderedDict((k, v.bfloat16() if v.is_floating_point() else v) for k, v in enc.items())
    write(os.path.join(d, "model_bf16.safetensors"), safetensors_bytes(bf, {"format": "pt"}))

    # 3. BertForMaskedLM: the decoder weight shares the word embeddings' storage (tied).
    mlm = OrderedDict(("bert." + k, v.clone()) for k, v in enc.items() if not k.startswith("pooler"))
    mlm["cls.predictions.bias"] = torch.zeros(V)
    mlm["cls.predictions.transform.dense.weight"] = torch.eye(H)
    mlm["cls.predictions.transform.dense.bias"] = torch.zeros(H)
    mlm["cls.predictions.transform.LayerNorm.weight"] = torch.ones(H)
    mlm["cls.predictions.transform.LayerNorm.bias"] = torch.zeros(H)
    mlm["cls.predictions.decoder.weight"] = mlm["bert.embeddings.word_embeddings.weight"]  # same storage
    d = os.path.join(OUT, "tiny_mlm")
    write(os.path.join(d, "config.json"), config("BertForMaskedLM", labels=False), "w")
    write(os.path.join(d, "pytorch_model.bin"), torch_bytes(mlm))

    # Fuzz seeds.
    with zipfile.ZipFile(os.path.join(OUT, "tiny_tc", "pytorch_model.bin")) as z:
        write(os.path.join(FUZZ, "torch_pickle", "tiny_tc.pkl"), z.read("archive/data.pkl"))
    with zipfile.ZipFile(os.path.join(OUT, "tiny_mlm", "pytorch_model.bin")) as z:
        write(os.path.join(FUZZ, "torch_pickle", "tiny_mlm_tied.pkl"), z.read("archive/data.pkl"))
    write(os.path.join(FUZZ, "torch_pickle", "evil_os_system.pkl"), evil_pkl)
    write(os.path.join(FUZZ, "torch_pickle", "proto4.pkl"),
          pickle.dumps(OrderedDict([("a", 1), ("b", (2, 3))]), protocol=4))
    small = OrderedDict([("embeddings.LayerNorm.weight", t["embeddings.LayerNorm.weight"]),
                         ("embeddings.position_ids", torch.arange(4, dtype=torch.int64))])
    write(os.path.join(FUZZ, "safetensors", "small.safetensors"), safetensors_bytes(small, {"format": "pt"}))
    write(os.path.join(FUZZ, "safetensors", "tiny_st_bf16.safetensors"),
          open(os.path.join(OUT, "tiny_st", "model_bf16.safetensors"), "rb").read())
    total = 0
    for base in (OUT,):
        for dp, _, fs in os.walk(base):
            total += sum(os.path.getsize(os.path.join(dp, f)) for f in fs)
    print(f"wrote {OUT} ({total} bytes) and fuzz seeds", file=sys.stderr)


if __name__ == "__main__":
    main()
