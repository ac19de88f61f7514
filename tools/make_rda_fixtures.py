#!/usr/bin/env python3
"""Write the seed corpus of the R-serialization fuzz target (tests/fuzz/corpus/rda/).

R is not needed: the XDR serialization (R's serialize.c, versions 2 and 3) is encoded by hand,
as R's save() / saveRDS() would write it. Python stdlib only. Usage:
    python3 tools/make_rda_fixtures.py [outdir]      (default tests/fuzz/corpus/rda)
"""
import bz2
import gzip
import lzma
import os
import struct
import sys

NA_INT = -(2 ** 31)


class W:
    """An XDR writer that numbers symbols the way R's reference table does (symbols, environments
    and external pointers get the next number when first written)."""

    def __init__(self):
        self.b = bytearray()
        self.syms = {}
        self.nrefs = 0

    def ref(self):
        self.nrefs += 1
        return self.nrefs

    def i(self, v):
        self.b += struct.pack(">i", v if v < 2 ** 31 else v - 2 ** 32)

    def d(self, v):
        self.b += struct.pack(">d", v)

    def raw(self, s):
        self.b += s

    def char(self, s, levs=64):
        if s is None:
            self.i(9)
            self.i(-1)
            return
        data = s if isinstance(s, bytes) else s.encode("utf-8")
        if levs == 64 and any(c >= 0x80 for c in data):
            levs = 8
        self.i(9 | levs << 12)
        self.i(len(data))
        self.raw(data)

    def sym(self, name):
        if name in self.syms:
            self.i(self.syms[name] << 8 | 255)  # REFSXP
            return
        self.syms[name] = self.ref()
        self.i(1)
        self.char(name)

    def nil(self):
        self.i(254)

    def strs(self, vals, flags=0):
        self.i(16 | flags)
        self.i(len(vals))
        for v in vals:
            self.char(v)

    def ints(self, vals, flags=0):
        self.i(13 | flags)
        self.i(len(vals))
        for v in vals:
            self.i(v)

    def attrs(self, pairs):
        """A tagged pairlist of (name, writer-callback)."""
        for name, fn in pairs:
            self.i(0x402)
            self.sym(name)
            fn()
        self.nil()


def header(w, version=3):
    w.raw(b"X\n")
    w.i(version)
    w.i(0x040201)
    w.i(0x030500)
    if version == 3:
        w.i(5)
        w.raw(b"UTF-8")


def spec_frame(w, rows):
    """data.frame(tax_id int, genus factor, species chr, rank ALTREP 1:n, code deferred_string,
    note latin1 chr, score wrap_real)."""
    n = len(rows)
    genera = []
    for r in rows:
        if r[1] not in genera:
            genera.append(r[1])
    w.i(19 | 0x300)
    w.i(7)
    w.ints([r[0] for r in rows])
    w.ints([genera.index(r[1]) + 1 for r in rows], 0x300)
    w.attrs([("levels", lambda: w.strs(genera)), ("class", lambda: w.strs(["factor"]))])
    w.strs([r[2] for r in rows])
    # rank: ALTREP compact_intseq 1:n
    w.i(238)
    w.i(2), w.sym("compact_intseq"), w.i(2), w.sym("base"), w.i(2), w.ints([13]), w.nil()
    w.i(14), w.i(3), w.d(n), w.d(1), w.d(1)
    w.nil()
    # code: deferred_string over an integer vector
    w.i(238)
    w.i(2), w.sym("deferred_string"), w.i(2), w.sym("base"), w.i(2), w.ints([16]), w.nil()
    w.i(2), w.ints([r[0] * 10 if r[0] % 3 else NA_INT for r in rows]), w.ints([1])
    w.nil()
    # note: latin1 strings
    w.i(16)
    w.i(n)
    for k in range(n):
        if k % 4 == 0:
            w.char(None)
        else:
            w.char(("caf\xe9 %d" % k).encode("latin-1"), 4)
    # score: wrap_real around a plain double vector
    w.i(238)
    w.i(2), w.sym("wrap_real"), w.i(2), w.sym("base"), w.i(2), w.ints([14]), w.nil()
    w.i(2)
    w.i(14), w.i(n)
    for k in range(n):
        w.d(k + 0.5 if k % 4 else float("nan"))
    w.ints([0, 0])
    w.nil()
    w.attrs([
        ("names", lambda: w.strs(["tax_id", "genus", "species", "rank", "code", "note", "score"])),
        ("class", lambda: w.strs(["data.frame"])),
        ("row.names", lambda: w.ints([NA_INT, -n])),
    ])


ROWS = [(1, "all", None), (1, "root", None), (562, "Bacillus", "coli"), (562, "Escherichia", "coli"),
        (9606, "Homo", "sapiens"), (10090, "Mus", "musculus"), (10116, "Rattus", "norvegicus")]


def rda(frame_fn, version=3, extra=None):
    w = W()
    w.raw(b"RDX3\n" if version == 3 else b"RDX2\n")
    header(w, version)
    if extra:
        w.i(0x402)
        w.sym("other")
        extra(w)
    w.i(0x402)
    w.sym("specData")
    frame_fn(w)
    w.nil()
    return bytes(w.b)


def others(w):
    """A list of the object kinds the reader must step over: environment, call, closure-free
    language objects, complex, raw, builtin, S4, external pointer, long-length vector."""
    w.i(19)
    w.i(8)
    w.i(4), w.i(0), w.ref(), w.i(253), w.i(0x402), w.sym("x"), w.ints([1]), w.nil(), w.nil(), w.nil()  # ENVSXP
    w.i(6), w.sym("sum"), w.i(2), w.ints([1, 2]), w.nil()  # LANGSXP sum(1:2)
    w.i(15), w.i(1), w.d(1.0), w.d(-1.0)  # CPLXSXP
    w.i(24), w.i(3), w.raw(b"\x00\x01\x02")  # RAWSXP
    w.i(8), w.i(3), w.raw(b"sum")  # BUILTINSXP
    w.i(25 | 0x300), w.attrs([("class", lambda: w.strs(["S4thing"]))])  # S4SXP
    w.i(22), w.ref(), w.nil(), w.nil()  # EXTPTRSXP (prot, tag)
    w.i(13), w.i(-1), w.i(0), w.i(2), w.i(5), w.i(6)  # long-length form


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "tests", "fuzz",
                                                             "corpus", "rda")
    os.makedirs(out, exist_ok=True)
    plain = rda(lambda w: spec_frame(w, ROWS))
    files = {
        "specdata_plain.rda": plain,
        "specdata_xz.rda": lzma.compress(plain, format=lzma.FORMAT_XZ, check=lzma.CHECK_CRC64),
        "specdata_gz.rda": gzip.compress(plain, mtime=0),
        "specdata_bz2.rda": bz2.compress(plain),
        "others_v2.rda": gzip.compress(rda(lambda w: spec_frame(w, ROWS[:3]), 2, others), mtime=0),
        "truncated.rda": plain[: len(plain) // 2],
    }
    w = W()
    header(w, 2)
    spec_frame(w, ROWS[2:5])
    files["frame_v2.rds"] = gzip.compress(bytes(w.b), mtime=0)
    for name, data in sorted(files.items()):
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)
        print(name, len(data))


if __name__ == "__main__":
    main()
