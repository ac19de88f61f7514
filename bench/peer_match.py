#!/usr/bin/env python3
"""Peer for bench_match: pyahocorasick (Debian python3-ahocorasick) built from the same terms,
lowercased as Kazu's MemoryEfficientStringMatchingStep does, scanning the same PubTator
titles/abstracts (each section lowercased, then automaton.iter, then Kazu's case-sensitivity check:
a case-sensitive term counts only if the original text equals it). Counts one hit per
(term line, span) like bench_match. Prints build time, RSS and MB/s.
usage: /usr/bin/python3 bench/peer_match.py TERMS PUBTATOR... [--runs N]"""
import sys
import time


def rss_kib(field):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return -1


def build_automaton(terms):
    """terms: [(case_sensitive "0"/"1", term)]. Kazu groups by syn.text.lower():
    lowercased key -> (key length, [(original, case_sensitive)])."""
    import ahocorasick  # imported here so peer_dict.py's --corpus-out mode needs no ahocorasick

    grouped = {}
    for cs, term in terms:
        grouped.setdefault(term.lower(), []).append((term, cs == "1"))
    a = ahocorasick.Automaton()
    for key, recs in grouped.items():
        a.add_word(key, (len(key), recs))
    a.make_automaton()
    return a


def count_hits(a, sections):
    """Kazu's scan: each section lowercased, automaton.iter, then a case-sensitive term counts
    only if the original text equals it. One hit per (term record, span)."""
    hits = 0
    for s in sections:
        for end, (klen, recs) in a.iter(s.lower()):
            matched = None
            for orig, cs in recs:
                if cs:
                    if matched is None:
                        matched = s[end - klen + 1 : end + 1]
                    if matched != orig:
                        continue
                hits += 1
    return hits


def time_scans(a, sections, runs, clock):
    """Sorted scan times over runs, and the hit count."""
    times, hits = [], 0
    for _ in range(runs):
        t0 = clock()
        hits = count_hits(a, sections)
        times.append(clock() - t0)
    times.sort()
    return times, hits


def main():
    args = sys.argv[1:]
    runs = 5
    if "--runs" in args:
        i = args.index("--runs")
        runs = int(args[i + 1])
        del args[i : i + 2]
    terms_path, texts = args[0], args[1:]
    sections = []
    for path in texts:
        with open(path, encoding="utf-8") as f:
            for line in f:
                parts = line.rstrip("\r\n").split("|", 2)
                if len(parts) == 3 and parts[1] in ("t", "a"):
                    sections.append(parts[2])
    nbytes = sum(len(s.encode("utf-8")) for s in sections)
    print(f"peer text: {len(sections)} sections, {nbytes / 1e6:.2f} MB")
    with open(terms_path, encoding="utf-8") as f:
        terms = [line.rstrip("\n").split("\t", 1) for line in f]
    rss0 = rss_kib("VmRSS")
    t0 = time.perf_counter()
    a = build_automaton(terms)
    t1 = time.perf_counter()
    rss1 = rss_kib("VmRSS")
    print(f"peer build: {len(terms)} terms, {len(a)} keys, {t1 - t0:.2f} s; automaton RSS growth "
          f"{(rss1 - rss0) / 1024:.1f} MiB (terms list loaded before: {rss0 / 1024:.1f} MiB)")
    times, hits = time_scans(a, sections, runs, time.perf_counter)
    med = times[len(times) // 2]
    print(f"peer scan raw : median {med:.3f} s of {runs} (min {times[0]:.3f} max {times[-1]:.3f}), "
          f"{nbytes / med / 1e6:.1f} MB/s, {hits} hits, {hits / med / 1e6:.2f} M hits/s")
    print(f"peer process peak RSS: {rss_kib('VmHWM') / 1024:.1f} MiB")


if __name__ == "__main__":
    main()
