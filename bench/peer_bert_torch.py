#!/usr/bin/python3
# PyTorch peer of bench_bert: the same plain BERT module as tools/bert_reference.py (HF BertModel
# math) with a token-classification head, random weights, 26-token sentences, one thread per process.
"""usage: peer_bert_torch.py [--prec fp32,int8] [--batch 1,32] [--seq 26] [--runs 5] [--seconds 1]
                          [--workers 1] [--threads 1]
Precisions:
  fp32       nn.Linear through torch's oneDNN (torch.utils.mkldnn.to_mkldnn): Debian's torch 1.13 is
             built with BLAS_INFO=generic, i.e. the netlib reference BLAS, so eager fp32 is a strawman;
  fp32-blas  eager fp32 as shipped (reference BLAS; ~1.5 GFLOP/s, batch 32 takes seconds per call);
  int8       torch.quantization.quantize_dynamic on every nn.Linear (qint8 weights, dynamic u8
             activations; the quantized engine Debian's build selects).
Prints the same table as bench_bert: median sentences/s over --runs runs (sum over --workers
forked processes), min, max, and sentences per CPU-second."""
import argparse
import os
import pickle
import statistics
import sys
import time

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools"))
import bert_reference as ref  # noqa: E402

CONFIG = {"vocab_size": 30522, "hidden_size": 312, "num_hidden_layers": 4, "num_attention_heads": 12,
          "intermediate_size": 1200, "max_position_embeddings": 512, "type_vocab_size": 2,
          "layer_norm_eps": 1e-12, "hidden_act": "gelu", "pad_token_id": 0}
LABELS = 13


def build(prec):
    torch.manual_seed(0)
    m = ref.BertForTokenClassification(CONFIG, LABELS).eval()
    if prec == "int8":
        m = torch.quantization.quantize_dynamic(m, {torch.nn.Linear}, dtype=torch.qint8)
    elif prec == "fp32":
        import torch.utils.mkldnn as mkldnn
        m = mkldnn.to_mkldnn(m)
    elif prec != "fp32-blas":
        raise SystemExit("unknown precision " + prec)
    return m


def inputs(batch, seq):
    ids = torch.empty((batch, seq), dtype=torch.long)
    for b in range(batch):
        for t in range(seq):
            ids[b, t] = 101 if t == 0 else 102 if t == seq - 1 else 1000 + (b * 7919 + t * 104729) % 28000
    return ids, torch.ones((batch, seq), dtype=torch.long), torch.zeros((batch, seq), dtype=torch.long)


def measure(prec, batch, seq, seconds, threads):
    torch.set_num_threads(threads)
    t0 = time.perf_counter()
    m = build(prec)
    ids, mask, types = inputs(batch, seq)
    with torch.inference_mode():
        m(ids, mask, types)
        first_ms = (time.perf_counter() - t0) * 1e3
        n, start, c0 = 0, time.perf_counter(), time.process_time()
        while True:
            m(ids, mask, types)
            n += batch
            el = time.perf_counter() - start
            if el >= seconds:
                break
        cpu = time.process_time() - c0
    return n / el, n / cpu, first_ms


def measure_workers(prec, batch, seq, seconds, threads, workers):
    if workers <= 1:
        return measure(prec, batch, seq, seconds, threads)
    pipes = []
    for _ in range(workers):
        r, w = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.close(r)
            res = measure(prec, batch, seq, seconds, threads)
            os.write(w, pickle.dumps(res))
            os._exit(0)
        os.close(w)
        pipes.append((pid, r))
    tot = [0.0, 0.0, 0.0]
    for pid, r in pipes:
        data = b""
        while True:
            chunk = os.read(r, 4096)
            if not chunk:
                break
            data += chunk
        os.close(r)
        os.waitpid(pid, 0)
        sps, spc, first = pickle.loads(data)
        tot[0] += sps
        tot[1] += spc
        tot[2] = max(tot[2], first)
    return tuple(tot)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--prec", default="fp32,int8")
    ap.add_argument("--batch", default="1,32")
    ap.add_argument("--seq", type=int, default=26)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--seconds", type=float, default=1.0)
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--threads", type=int, default=1)
    a = ap.parse_args()
    print("torch %s, quantized engine %s, %d thread(s) per process" %
          (torch.__version__, torch.backends.quantized.engine, a.threads))
    print("%-5s %5s %7s %7s | %10s %10s %10s | %10s | %9s %s" %
          ("prec", "batch", "threads", "workers", "sent/s", "min", "max", "sent/CPU-s", "first ms", "backend"))
    for prec in a.prec.split(","):
        for batch in (int(x) for x in a.batch.split(",")):
            res = [measure_workers(prec, batch, a.seq, a.seconds, a.threads, a.workers) for _ in range(a.runs)]
            v = sorted(r[0] for r in res)
            print("%-5s %5d %7d %7d | %10.1f %10.1f %10.1f | %10.1f | %9.1f torch-%s" %
                  (prec, batch, a.threads, a.workers, statistics.median(v), v[0], v[-1],
                   statistics.median(r[1] for r in res), res[-1][2],
                   {"int8": "dynamic-int8", "fp32": "mkldnn", "fp32-blas": "refblas"}[prec]))
            sys.stdout.flush()


if __name__ == "__main__":
    main()
