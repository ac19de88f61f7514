#!/usr/bin/env python3
"""Reference tokeniser for kazu-c's WordPiece (src/text/wordpiece.c), stdlib only.

No transformers/tokenizers package is available here, so this file transcribes
them by hand, rule by rule, naming the source of each rule:

  fast  (default) Hugging Face BertTokenizerFast, i.e. the Rust `tokenizers`
        pipeline: AddedVocabulary (special tokens) -> BertNormalizer ->
        BertPreTokenizer -> WordPiece, with NormalizedString alignments giving
        each token's offsets in the ORIGINAL text.  Ids, word ids and offsets
        (in code points, like offset_mapping, and in UTF-8 bytes).
  slow  Hugging Face BertTokenizer (transformers/models/bert/tokenization_bert.py:
        BasicTokenizer + WordpieceTokenizer).  Ids only (the slow tokenizer has
        no offsets).
  compare  both, and report the inputs where they disagree.

Sources (file paths in github.com/huggingface/tokenizers and
github.com/huggingface/transformers):
  [bert.rs]     tokenizers/src/normalizers/bert.rs
  [norm.rs]     tokenizers/src/tokenizer/normalizer.rs (NormalizedString)
  [align]       unicode-normalization-alignments 0.1.12, src/decompose.rs
  [cats]        unicode_categories 0.1.1 (is_other = Cc|Cf|Co; is_punctuation = P*)
  [pretok.rs]   tokenizers/src/pre_tokenizers/bert.rs
  [wp.rs]       tokenizers/src/models/wordpiece/mod.rs
  [added.rs]    tokenizers/src/tokenizer/added_vocabulary.rs
  [slow]        transformers/models/bert/tokenization_bert.py

Unicode data comes from Python's unicodedata; Rust's tables may be of another
Unicode version (see docs/wordpiece.md).

Input: JSON lines, each a string or an object {"text": ..., optional "name",
optional "opts": {lowercase, strip_accents (null|true|false), chinese,
never_split [..], max_chars, unk}} overriding the command-line options.
Output: one JSON object per input line.

    python3 tools/hf_tokenizer_reference.py --vocab vocab.txt --lowercase \\
        --input sentences.jsonl --output expected.jsonl
"""
import argparse
import json
import sys
import unicodedata

# ---- character predicates ------------------------------------------------------

# Rust char::is_whitespace = Unicode White_Space property (used by [bert.rs]
# is_whitespace and [pretok.rs] split).  Hard-coded: Python's str.isspace()
# differs (it also accepts U+001C..U+001F).
RUST_WHITE_SPACE = frozenset(
    [0x09, 0x0A, 0x0B, 0x0C, 0x0D, 0x20, 0x85, 0xA0, 0x1680]
    + list(range(0x2000, 0x200B))
    + [0x2028, 0x2029, 0x202F, 0x205F, 0x3000]
)


def rust_is_whitespace(c):
    return ord(c) in RUST_WHITE_SPACE


def fast_is_whitespace(c):
    # [bert.rs] is_whitespace: '\t' '\n' '\r' or char::is_whitespace
    return c in "\t\n\r" or rust_is_whitespace(c)


def fast_is_control(c):
    # [bert.rs] is_control: '\t' '\n' '\r' are not; else [cats] is_other(),
    # which is Cc | Cf | Co (NOT Cn, NOT Cs).
    if c in "\t\n\r":
        return False
    return unicodedata.category(c) in ("Cc", "Cf", "Co")


def fast_is_chinese(cp):
    # [bert.rs] is_chinese_char; note 0x2B920 (the slow tokenizer has 0x2B820)
    return (
        0x4E00 <= cp <= 0x9FFF
        or 0x3400 <= cp <= 0x4DBF
        or 0x20000 <= cp <= 0x2A6DF
        or 0x2A700 <= cp <= 0x2B73F
        or 0x2B740 <= cp <= 0x2B81F
        or 0x2B920 <= cp <= 0x2CEAF
        or 0xF900 <= cp <= 0xFAFF
        or 0x2F800 <= cp <= 0x2FA1F
    )


def is_ascii_punct(cp):
    # Rust char::is_ascii_punctuation / [slow] _is_punctuation ASCII ranges
    return 33 <= cp <= 47 or 58 <= cp <= 64 or 91 <= cp <= 96 or 123 <= cp <= 126


def is_bert_punc(c):
    # [pretok.rs] is_bert_punc: is_ascii_punctuation || [cats] is_punctuation (P*)
    return is_ascii_punct(ord(c)) or unicodedata.category(c).startswith("P")


# ---- NormalizedString (char units; [norm.rs] works in bytes, each normalised
# char's bytes share one alignment, so char units are equivalent) -------------


class NormalizedString:
    def __init__(self, original):
        self.original = original
        self.norm = list(original)
        # alignment of each normalised char: (start, end) in original chars
        self.align = [(i, i + 1) for i in range(len(original))]

    def transform(self, dest, initial_offset):
        # [norm.rs] transform_range over the whole string:
        #   change > 0: inserted char, aligned like the char before it
        #               ((0, 0) at the very start);
        #   change <= 0: replaces the next original char (and removes -change more).
        old = self.align
        offset = initial_offset
        norm, align = [], []
        for c, change in dest:
            idx = offset
            if change > 0:
                a = (0, 0) if idx < 1 else old[idx - 1]
            else:
                a = old[idx]
                offset += 1
                if change < 0:
                    offset += -change
            norm.append(c)
            align.append(a)
        self.norm, self.align = norm, align

    def filter(self, keep):
        # [norm.rs] filter: a kept char absorbs the removed chars after it
        # (change = -removed); removed chars at the very start become the
        # initial_offset.
        removed = 0
        out = []
        for c in reversed(self.norm):
            if keep(c):
                out.append((c, -removed if removed else 0))
                removed = 0
            else:
                removed += 1
        out.reverse()
        self.transform(out, removed)

    def map(self, f):
        # [norm.rs] map: (f(c), 0) for every char
        self.transform([(f(c), 0) for c in self.norm], 0)

    def nfd(self):
        # [norm.rs] nfd: transform(normalized.nfd()) with [align]'s (char, change) pairs
        dest = nfd_with_changes(self.norm)
        assert "".join(c for c, _ in dest) == unicodedata.normalize("NFD", "".join(self.norm))
        self.transform(dest, 0)

    def lowercase(self):
        # [norm.rs] lowercase: char::to_lowercase per char (no context: no
        # final sigma), extra chars have change 1.  A one-char Python
        # str.lower() is the same full, context-free mapping.
        dest = []
        for c in self.norm:
            for k, l in enumerate(c.lower()):
                dest.append((l, 1 if k > 0 else 0))
        self.transform(dest, 0)


def decompose_canonical(c):
    # unicode-normalization's decompose_canonical: full (recursive) canonical
    # decomposition, Hangul syllables algorithmically.
    cp = ord(c)
    if 0xAC00 <= cp < 0xAC00 + 11172:
        s = cp - 0xAC00
        out = [chr(0x1100 + s // 588), chr(0x1161 + (s % 588) // 28)]
        if s % 28:
            out.append(chr(0x11A7 + s % 28))
        return out
    d = unicodedata.decomposition(c)
    if not d or d.startswith("<"):
        return [c]
    out = []
    for h in d.split():
        out.extend(decompose_canonical(chr(int(h, 16))))
    return out


def nfd_with_changes(chars):
    # [align] Decompositions: each decomposed char is pushed with change 0 for
    # the first component and 1 for the others; when a starter (ccc 0) arrives
    # the pending block is stably sorted by ccc and emitted.  The change flags
    # travel with their chars, so after reordering alignments are positional.
    out, pending = [], []
    for c in chars:
        for k, d in enumerate(decompose_canonical(c)):
            ccc = unicodedata.combining(d)
            if ccc == 0:
                pending.sort(key=lambda t: t[0])
                out.extend(pending)
                pending = []
            pending.append((ccc, d, 0 if k == 0 else 1))
    pending.sort(key=lambda t: t[0])
    out.extend(pending)
    return [(d, ch) for _, d, ch in out]


# ---- options, vocabulary --------------------------------------------------------


class Opts:
    def __init__(self, lowercase, strip_accents, chinese, never_split, max_chars, unk):
        self.lowercase = lowercase
        self.strip_accents = strip_accents  # None | True | False
        self.chinese = chinese
        self.never_split = frozenset(never_split or [])
        self.max_chars = max_chars or 100
        self.unk = unk or "[UNK]"

    def strip(self):
        # [bert.rs] normalize: strip_accents.unwrap_or(lowercase)
        return self.lowercase if self.strip_accents is None else self.strip_accents


def load_vocab(path):
    # One token per line, id = line number; kazu-c strips one trailing '\r'
    # ([slow] load_vocab only strips '\n').  Duplicates are refused by kazu-c.
    with open(path, "rb") as f:
        data = f.read().decode("utf-8")
    lines = data.split("\n")
    if data.endswith("\n"):
        lines.pop()
    vocab = {}
    for i, t in enumerate(lines):
        if t.endswith("\r"):
            t = t[:-1]
        if t in vocab:
            raise SystemExit(f"{path}:{i + 1}: duplicate token {t!r}")
        vocab[t] = i
    return vocab, lines


def special_tokens(vocab, opts):
    # BertTokenizerFast adds [CLS] [SEP] [PAD] [UNK] [MASK] to its AddedVocabulary
    # (normalized=False, lstrip=rstrip=single_word=False).  kazu-c recognises
    # only those present in the vocabulary (HF would give a missing one a new id).
    out = []
    for t in ("[CLS]", "[SEP]", "[PAD]", opts.unk, "[MASK]"):
        if t in vocab and t not in out:
            out.append(t)
    return out


def split_specials(text, specials):
    # [added.rs] find_matches with an Aho-Corasick automaton, MatchKind::LeftmostLongest:
    # returns [(is_special, start, end)] covering text (char offsets).
    pieces, i, start = [], 0, 0
    while i < len(text):
        best = None
        for s in specials:
            if text.startswith(s, i) and (best is None or len(s) > len(best)):
                best = s
        if best is None:
            i += 1
            continue
        if start < i:
            pieces.append((False, start, i))
        pieces.append((True, i, i + len(best)))
        i += len(best)
        start = i
    if start < len(text):
        pieces.append((False, start, len(text)))
    return pieces


def wordpiece(word, vocab, opts):
    # [wp.rs] WordPiece::tokenize (== [slow] WordpieceTokenizer.tokenize):
    # [UNK] over the whole word if longer than max_input_chars_per_word chars
    # or if some position has no match; else greedy longest-match-first, with
    # "##" before every piece but the first.  Returns [(id, start, end)] in chars.
    unk = vocab.get(opts.unk)
    n = len(word)
    if n > opts.max_chars:
        if unk is None:
            raise SystemExit("MissingUnkToken")
        return [(unk, 0, n)]
    toks, start = [], 0
    while start < n:
        end, cur = n, None
        while start < end:
            sub = word[start:end]
            if start > 0:
                sub = "##" + sub
            if sub in vocab:
                cur = (vocab[sub], start, end)
                break
            end -= 1
        if cur is None:
            if unk is None:
                raise SystemExit("MissingUnkToken")
            return [(unk, 0, n)]
        toks.append(cur)
        start = end
    return toks


# ---- fast ------------------------------------------------------------------------


def normalize_clean_chinese(ns, opts):
    # [bert.rs] do_clean_text: filter(!(c == 0 || c == U+FFFD || is_control(c)))
    # then map(is_whitespace -> ' ')
    ns.filter(lambda c: not (ord(c) == 0 or ord(c) == 0xFFFD or fast_is_control(c)))
    ns.map(lambda c: " " if fast_is_whitespace(c) else c)
    # [bert.rs] do_handle_chinese_chars: [(' ', 0), (c, 1), (' ', 1)]
    if opts.chinese:
        dest = []
        for c in ns.norm:
            if fast_is_chinese(ord(c)):
                dest.extend([(" ", 0), (c, 1), (" ", 1)])
            else:
                dest.append((c, 0))
        ns.transform(dest, 0)


def normalize_rest(ns, opts):
    # [bert.rs] normalize: strip accents (nfd, then filter out Mn) BEFORE lowercase
    if opts.strip():
        ns.nfd()
        ns.filter(lambda c: unicodedata.category(c) != "Mn")
    if opts.lowercase:
        ns.lowercase()


def pre_tokenize(norm):
    # [pretok.rs] split(char::is_whitespace, Removed) then split(is_bert_punc,
    # Isolated); the char-predicate Pattern makes every matching char its own
    # match; empty splits are dropped.  Returns [(start, end)] in normalised chars.
    words, start = [], None
    for i, c in enumerate(norm):
        if rust_is_whitespace(c):
            if start is not None:
                words.append((start, i))
            start = None
        elif is_bert_punc(c):
            if start is not None:
                words.append((start, i))
            words.append((i, i + 1))
            start = None
        elif start is None:
            start = i
    if start is not None:
        words.append((start, len(norm)))
    return words


def fast_encode(text, vocab, opts):
    """Returns (ids, word_ids, offsets in chars)."""
    specials = special_tokens(vocab, opts)
    ids, words, offs = [], [], []
    w = 0

    def emit_words(ns, shift):
        nonlocal w
        for ws, we in pre_tokenize(ns.norm):
            for tid, s, e in wordpiece("".join(ns.norm[ws:we]), vocab, opts):
                ids.append(tid)
                words.append(w)
                # [norm.rs] convert_offsets(Normalized) -> expand_alignments:
                # first char's start, last char's end
                offs.append((shift + ns.align[ws + s][0], shift + ns.align[ws + e - 1][1]))
            w += 1  # [pre_tokenizer.rs] into_encoding: word id = split index

    for is_special, ps, pe in split_specials(text, specials):
        if is_special:
            ids.append(vocab[text[ps:pe]])
            words.append(w)
            offs.append((ps, pe))
            w += 1
            continue
        ns = NormalizedString(text[ps:pe])
        if not opts.never_split:
            normalize_clean_chinese(ns, opts)
            normalize_rest(ns, opts)
            emit_words(ns, ps)
            continue
        # kazu-c extension, [slow] BasicTokenizer semantics: a whitespace-
        # delimited chunk of the cleaned text equal to a never_split entry is
        # one token looked up whole.  Chunks are normalised one by one, which
        # equals normalising the whole piece (whitespace is an NFD starter).
        normalize_clean_chinese(ns, opts)
        i, n = 0, len(ns.norm)
        while i < n:
            if ns.norm[i] == " ":
                i += 1
                continue
            j = i
            while j < n and ns.norm[j] != " ":
                j += 1
            chunk = "".join(ns.norm[i:j])
            if chunk in opts.never_split:
                ids.append(vocab.get(chunk, vocab.get(opts.unk)))
                words.append(w)
                offs.append((ps + ns.align[i][0], ps + ns.align[j - 1][1]))
                w += 1
            else:
                sub = NormalizedString("")
                sub.norm, sub.align = ns.norm[i:j], ns.align[i:j]
                normalize_rest(sub, opts)
                emit_words(sub, ps)
            i = j
    return ids, words, offs


# ---- slow ------------------------------------------------------------------------


def slow_is_whitespace(c):
    # [slow] _is_whitespace: ' ', '\t', '\n', '\r' or category Zs
    return c in " \t\n\r" or unicodedata.category(c) == "Zs"


def slow_is_control(c):
    # [slow] _is_control: not '\t' '\n' '\r'; category C* (Cc Cf Cs Co Cn)
    if c in "\t\n\r":
        return False
    return unicodedata.category(c).startswith("C")


def slow_is_punctuation(c):
    # [slow] _is_punctuation: ASCII ranges or category P*
    return is_ascii_punct(ord(c)) or unicodedata.category(c).startswith("P")


def slow_is_chinese(cp):
    # [slow] BasicTokenizer._is_chinese_char (0x2B820, not 0x2B920)
    return (
        0x4E00 <= cp <= 0x9FFF
        or 0x3400 <= cp <= 0x4DBF
        or 0x20000 <= cp <= 0x2A6DF
        or 0x2A700 <= cp <= 0x2B73F
        or 0x2B740 <= cp <= 0x2B81F
        or 0x2B820 <= cp <= 0x2CEAF
        or 0xF900 <= cp <= 0xFAFF
        or 0x2F800 <= cp <= 0x2FA1F
    )


def slow_basic_tokenize(text, opts, never_split, nfc):
    # [slow] BasicTokenizer.tokenize
    out = []
    for c in text:  # _clean_text
        cp = ord(c)
        if cp == 0 or cp == 0xFFFD or slow_is_control(c):
            continue
        out.append(" " if slow_is_whitespace(c) else c)
    text = "".join(out)
    if opts.chinese:  # _tokenize_chinese_chars
        text = "".join(f" {c} " if slow_is_chinese(ord(c)) else c for c in text)
    if nfc:  # transformers >= 4.3x: unicodedata.normalize("NFC", text)
        text = unicodedata.normalize("NFC", text)
    split_tokens = []
    for token in text.strip().split():  # whitespace_tokenize
        if token not in never_split:
            if opts.lowercase:
                token = token.lower()  # str.lower(): full mapping, final sigma in context
                if opts.strip_accents is not False:
                    token = slow_strip_accents(token)
            elif opts.strip_accents:
                token = slow_strip_accents(token)
        split_tokens.extend(slow_split_on_punc(token, never_split))
    return " ".join(split_tokens).strip().split()


def slow_strip_accents(text):
    # [slow] _run_strip_accents: NFD, drop Mn
    return "".join(c for c in unicodedata.normalize("NFD", text) if unicodedata.category(c) != "Mn")


def slow_split_on_punc(text, never_split):
    # [slow] _run_split_on_punc
    if text in never_split:
        return [text]
    output, start_new = [], True
    for c in text:
        if slow_is_punctuation(c):
            output.append([c])
            start_new = True
        else:
            if start_new:
                output.append([])
            start_new = False
            output[-1].append(c)
    return ["".join(x) for x in output]


def slow_encode(text, vocab, opts, nfc=True):
    # PreTrainedTokenizer.tokenize splits on special tokens (longest match at the
    # earliest position), then BertTokenizer._tokenize per piece.
    specials = special_tokens(vocab, opts)
    ids = []
    for is_special, ps, pe in split_specials(text, specials):
        piece = text[ps:pe]
        if is_special:
            ids.append(vocab[piece])
            continue
        for tok in slow_basic_tokenize(piece, opts, opts.never_split | set(specials), nfc):
            if tok in opts.never_split:  # _tokenize: appended whole
                ids.append(vocab.get(tok, vocab.get(opts.unk)))
            else:
                ids.extend(t[0] for t in wordpiece(tok, vocab, opts))
    return ids


# ---- driver ----------------------------------------------------------------------


def char_to_byte_table(text):
    table, b = [0], 0
    for c in text:
        b += len(c.encode("utf-8"))
        table.append(b)
    return table


def parse_opts(base, o):
    if not o:
        return base
    sa = o.get("strip_accents", base.strip_accents)
    return Opts(
        o.get("lowercase", base.lowercase),
        sa,
        o.get("chinese", base.chinese),
        o.get("never_split", list(base.never_split)),
        o.get("max_chars", base.max_chars),
        o.get("unk", base.unk),
    )


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--vocab", required=True)
    ap.add_argument("--lowercase", action="store_true")
    ap.add_argument("--strip-accents", choices=["none", "true", "false"], default="none")
    ap.add_argument("--no-chinese", action="store_true")
    ap.add_argument("--never-split", action="append", default=[])
    ap.add_argument("--max-chars", type=int, default=100)
    ap.add_argument("--unk", default="[UNK]")
    ap.add_argument("--mode", choices=["fast", "slow", "compare"], default="fast")
    ap.add_argument("--no-slow-nfc", action="store_true", help="slow: transformers < 4.3x (no NFC step)")
    ap.add_argument("--input", default="-")
    ap.add_argument("--output", default="-")
    a = ap.parse_args()
    sa = {"none": None, "true": True, "false": False}[a.strip_accents]
    base = Opts(a.lowercase, sa, not a.no_chinese, a.never_split, a.max_chars, a.unk)
    vocab, tokens = load_vocab(a.vocab)
    fin = sys.stdin if a.input == "-" else open(a.input, encoding="utf-8")
    fout = sys.stdout if a.output == "-" else open(a.output, "w", encoding="utf-8")
    ndiff = nlines = 0
    for lineno, line in enumerate(fin):
        if not line.strip():
            continue
        item = json.loads(line)
        if isinstance(item, str):
            item = {"text": item}
        text = item["text"]
        opts = parse_opts(base, item.get("opts"))
        rec = {"line": lineno + 1}
        if "name" in item:
            rec["name"] = item["name"]
        nlines += 1
        if a.mode in ("fast", "compare"):
            ids, words, offs = fast_encode(text, vocab, opts)
            cb = char_to_byte_table(text)
            rec["ids"] = ids
            rec["tokens"] = [tokens[i] for i in ids]
            rec["words"] = words
            rec["offsets_cp"] = [list(o) for o in offs]
            rec["offsets_byte"] = [[cb[s], cb[e]] for s, e in offs]
        if a.mode in ("slow", "compare"):
            sids = slow_encode(text, vocab, opts, nfc=not a.no_slow_nfc)
            if a.mode == "slow":
                rec["ids"] = sids
                rec["tokens"] = [tokens[i] for i in sids]
            else:
                rec["slow_ids"] = sids
                rec["slow_equal"] = sids == rec["ids"]
                ndiff += sids != rec["ids"]
        fout.write(json.dumps(rec, ensure_ascii=False) + "\n")
    if a.mode == "compare":
        print(f"compare: {ndiff} of {nlines} inputs differ between slow and fast", file=sys.stderr)
    fout.close()


if __name__ == "__main__":
    main()
