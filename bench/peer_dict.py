#!/usr/bin/env python3
"""Peer for bench_dict: pyahocorasick (Debian python3-ahocorasick, what Kazu's
MemoryEfficientStringMatchingStep uses) over the same NER synonyms and text.
Builds as Kazu does (key = synonym.lower(), value = its records), scans each section
lowercased with automaton.iter and applies Kazu's case-sensitivity check (a
case-sensitive synonym counts only if the original text equals it). Counts one hit
per (synonym line, span), as bench_dict's raw scan does.
usage: /usr/bin/python3 bench/peer_dict.py TERMS LINES [--runs N]
  TERMS: CASE_SENSITIVE<TAB>TERM a line (bench_dict --terms-out); LINES: one section a line
With --corpus-out F --data DIR it instead writes the corpus text of DIR (see
dict_vs_python.sh) to F, one section a line."""
import glob
import os
import sys
import tarfile
import time

from peer_match import build_automaton, rss_kib, time_scans  # same directory


def write_corpus(data, out):
    """Every text of DIR/benchmarks: PubTator titles/abstracts (bc5cdr, biored, NCBI disease),
    the mtl2016 IOB sentences (tokens joined by spaces), the JNLPBA standoff .txt files and
    kazu_test_assets TSV sentences."""
    n = 0
    with open(out, "w", encoding="utf-8") as o:
        def emit(s):
            nonlocal n
            s = " ".join(s.split())
            if s:
                o.write(s + "\n")
                n += 1
        b = os.path.join(data, "benchmarks")
        pub = sorted(glob.glob(b + "/bc5cdr_pubtator/*.txt") + glob.glob(b + "/biored_pubtator/*.PubTator")
                     + glob.glob(b + "/ncbi_disease_original/*corpus.txt"))
        for p in pub:
            if p.endswith("README.txt"):
                continue
            with open(p, encoding="utf-8") as f:
                for line in f:
                    parts = line.rstrip("\r\n").split("|", 2)
                    if len(parts) == 3 and parts[1] in ("t", "a"):
                        emit(parts[2])
        for p in sorted(glob.glob(b + "/mtl2016/*/*.tsv") + glob.glob(b + "/kazu_test_assets/*/*.tsv")):
            toks = []
            with open(p, encoding="utf-8") as f:
                for line in f:
                    line = line.rstrip("\r\n")
                    if not line:
                        emit(" ".join(toks))
                        toks = []
                    else:
                        toks.append(line.split("\t")[0])
            emit(" ".join(toks))
        for p in sorted(glob.glob(b + "/*.tar.gz")):
            with tarfile.open(p) as t:
                for m in sorted(t.getmembers(), key=lambda m: m.name):
                    if m.isfile() and m.name.endswith(".txt"):
                        for para in t.extractfile(m).read().decode("utf-8", "replace").split("\n"):
                            emit(para)
    print(f"corpus: {n} sections written to {out}")


def main():
    args = sys.argv[1:]
    if "--corpus-out" in args:
        out = args[args.index("--corpus-out") + 1]
        data = args[args.index("--data") + 1]
        write_corpus(data, out)
        return
    runs = 5
    if "--runs" in args:
        i = args.index("--runs")
        runs = int(args[i + 1])
        del args[i : i + 2]
    terms_path, text_path = args[0], args[1]
    with open(text_path, encoding="utf-8") as f:
        sections = [line.rstrip("\r\n") for line in f if line.rstrip("\r\n")]
    nbytes = sum(len(s.encode("utf-8")) for s in sections)
    print(f"peer text: {len(sections)} sections, {nbytes / 1e6:.2f} MB")
    with open(terms_path, encoding="utf-8") as f:
        terms = [line.rstrip("\n").split("\t", 1) for line in f]
    rss0 = rss_kib("VmRSS")
    t0 = time.process_time()
    a = build_automaton(terms)
    t1 = time.process_time()
    rss1 = rss_kib("VmRSS")
    print(f"peer build: {len(terms)} synonyms, {len(a)} keys, {t1 - t0:.2f} s; automaton RSS growth "
          f"{(rss1 - rss0) / 1024:.1f} MiB")
    times, hits = time_scans(a, sections, runs, time.process_time)
    med = times[len(times) // 2]
    print(f"peer scan raw (every hit): median {med:.3f} s of {runs} (min {times[0]:.3f} max {times[-1]:.3f}), "
          f"{nbytes / med / 1e6:.1f} MB/s, {hits} hits")
    print(f"peer process peak RSS: {rss_kib('VmHWM') / 1024:.1f} MiB")


if __name__ == "__main__":
    main()
