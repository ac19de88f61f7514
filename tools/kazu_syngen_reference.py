#!/usr/bin/env python3
"""Stdlib-only transcription of Kazu's synonym generation
(kazu/ontology_preprocessing/synonym_generation.py, Kazu 2.x) used to produce
tests/golden/kb_synonyms/*.tsv for the C port (src/kb/synonyms.c).

One deliberate choice: Kazu's GREEK_VARIANT_PREFIX_SUFFIX is a Python set whose
iteration order depends on string hashing (PYTHONHASHSEED); here it is the list
[" ", "-", U+2010..U+2015, U+2212], the order the C port uses.

usage: tools/kazu_syngen_reference.py < inputs.tsv > expected.tsv
input lines: CONFIG<TAB>STRING  (CONFIG: default, gene, chemical, stopwords,
ngram, replace, greek); output lines: CONFIG<TAB>STRING<TAB>sorted outputs joined by TAB.
Strings use \\t \\n \\\\ escapes.
"""
import itertools
import re
import sys

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from kazu_normaliser_reference import GREEK_SUBS, DASHES  # noqa: E402

FIXES = [" ", "-"] + [chr(c) for c in range(0x2010, 0x2016)] + [chr(0x2212)]


def build_all_subs():
    subs = {}
    for letter, spelling in GREEK_SUBS.items():
        subs.setdefault(letter, set()).add(spelling)
        subs[letter].add(spelling[0])
        subs.setdefault(spelling, set()).add(letter)
        if letter.islower():
            subs[letter].add(letter.upper())
        elif letter.isupper():
            subs[letter].add(letter.lower())
    return subs


ALL_SUBS = build_all_subs()


class StopWordRemover:
    all_stopwords = {"of", "and", "in", "to", "with", "caused", "involved", "by", "the"}

    def __call__(self, s):
        lst, detected = [], False
        for token in s.split():
            if token.lower() in self.all_stopwords:
                detected = True
            else:
                lst.append(token)
        return {" ".join(lst)} if detected else set()


class NgramHyphenation:
    def __init__(self, ngram=2):
        self.ngram = ngram

    def __call__(self, s):
        parts = s.split()
        if len(parts) != self.ngram:
            return set()
        return {h.join(parts) for h in DASHES}


class StringReplacement:
    def __init__(self, replacement_dict=None, digit_aware_replacement_dict=None, include_greek=True):
        self.replacement_dict = replacement_dict
        self.digit = digit_aware_replacement_dict
        self.include_greek = include_greek

    def __call__(self, s):
        results = set()
        if self.replacement_dict:
            for to_replace, lst in self.replacement_dict.items():
                if to_replace in s:
                    for r in lst:
                        results.add(s.replace(to_replace, r).strip())
        if self.digit:
            for to_replace, lst in self.digit.items():
                for match in set(re.findall(to_replace + r"[0-9]+", s)):
                    number = match.split(to_replace)[1]
                    for sub_in in lst:
                        results.add(s.replace(match, f"{sub_in}{number}").strip())
        if self.include_greek:
            self.greek(results, s)
        return results

    def greek(self, results, s):
        sts = {s.strip()}
        for candidate, replacement_set in ALL_SUBS.items():
            for fix in FIXES:
                prefix = suffix = False
                out = set()
                if f"{fix}{candidate}" in s:
                    suffix = True
                if f"{candidate}{fix}" in s:
                    prefix = True
                for x in sts:
                    for r in replacement_set:
                        if prefix:
                            y = x.replace(f"{candidate}{fix}", f"{r}{fix}")
                            out.add(y)
                            results.add(y)
                        if suffix:
                            y = x.replace(f"{fix}{candidate}", f"{fix}{r}")
                            out.add(y)
                            results.add(y)
                sts.update(out)


def combinatorial(generators, originals):
    """CombinatorialSynonymGenerator for one resource whose original synonyms
    are `originals` (the only resource, so original_strings == originals)."""
    final = set()
    for perm in itertools.permutations(generators):
        generated = None
        for g in perm:
            inputs = list(generated) if generated else list(originals)
            for syn in inputs:
                for new in g(syn):
                    if new in originals:
                        continue
                    if generated is None:
                        generated = set()
                    generated.add(new)
        final.update(generated or ())
    return final


REPL = {"-": [" ", "_"], "_": [" ", "-"]}
DIGIT = {" ": ["-"]}
CONFIGS = {
    "default": lambda: [StopWordRemover(), NgramHyphenation(), StringReplacement(REPL, DIGIT, True)],
    "gene": lambda: [NgramHyphenation(), StringReplacement(REPL, DIGIT, True)],
    "chemical": lambda: [StringReplacement(include_greek=True)],
}
SINGLE = {
    "stopwords": StopWordRemover(),
    "ngram": NgramHyphenation(),
    "replace": StringReplacement(REPL, DIGIT, False),
    "greek": StringReplacement(include_greek=True),
}


def unesc(s):
    return s.replace("\\t", "\t").replace("\\n", "\n").replace("\\\\", "\\")


def esc(s):
    return s.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")


for line in sys.stdin:
    line = line.rstrip("\n")
    if not line or line.startswith("#"):
        continue
    cfg, s = line.split("\t", 1)
    s = unesc(s)
    if cfg in CONFIGS:
        outs = combinatorial(CONFIGS[cfg](), {s})
    else:
        outs = SINGLE[cfg](s)
    print("\t".join([cfg, esc(s)] + [esc(o) for o in sorted(outs)]))
