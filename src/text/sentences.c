/* Rule-based sentence splitter for biomedical text: terminators followed by a
 * plausible sentence start, with the abbreviations and notation of the field. */
#include <string.h>
#include <utf8proc.h>
#include "kazu/text.h"
#include "kazu/utf8.h"

static bool is_space(char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

static int32_t cp_at(const char *t, size_t len, size_t i, size_t *next) {
    size_t k = i;
    int32_t cp = kz_utf8_decode(t, len, &k);
    *next = k;
    return cp;
}

static bool is_terminator(int32_t cp) { return cp == '.' || cp == '!' || cp == '?' || cp == 0x2026; }

static bool is_closer(int32_t cp) {
    return cp == ')' || cp == ']' || cp == '}' || cp == '"' || cp == '\'' || cp == 0x201D || cp == 0x2019 ||
           cp == 0x00BB;
}

static bool is_opener(int32_t cp) {
    return cp == '(' || cp == '[' || cp == '{' || cp == '"' || cp == '\'' || cp == 0x201C || cp == 0x2018 ||
           cp == 0x00AB;
}

static bool is_upper(int32_t cp) {
    if (cp < 0) return false;
    if (cp < 128) return cp >= 'A' && cp <= 'Z';
    utf8proc_category_t c = utf8proc_category(cp);
    return c == UTF8PROC_CATEGORY_LU || c == UTF8PROC_CATEGORY_LT;
}

static bool is_lower(int32_t cp) {
    if (cp < 0) return false;
    if (cp < 128) return cp >= 'a' && cp <= 'z';
    return utf8proc_category(cp) == UTF8PROC_CATEGORY_LL;
}

static bool is_digit(int32_t cp) { return cp >= '0' && cp <= '9'; }

static size_t skip_closers(const char *t, size_t len, size_t e) {
    size_t next;
    while (e < len && is_closer(cp_at(t, len, e, &next))) e = next;
    return e;
}

/* "[12]", "[3,4]", "[5-7]", "[5–7]" right after the terminator belong to the sentence. */
static size_t skip_citation(const char *t, size_t len, size_t e) {
    if (e >= len || t[e] != '[') return e;
    size_t k = e + 1, digits = 0, next;
    while (k < len) {
        int32_t cp = cp_at(t, len, k, &next);
        if (is_digit(cp))
            digits++;
        else if (cp != ',' && cp != '-' && cp != ' ' && cp != 0x2013)
            break;
        k = next;
    }
    return digits && k < len && t[k] == ']' ? k + 1 : e;
}

/* Could the text at k begin a sentence (after an ordinary word and a period)? */
static bool starts_sentence(const char *t, size_t len, size_t k) {
    size_t next;
    int32_t cp = cp_at(t, len, k, &next);
    if (is_upper(cp) || is_digit(cp) || is_opener(cp)) return true;
    if (cp >= 0x0370 && cp <= 0x03FF) return true; /* Greek: "β-catenin was ..." */
    if (is_lower(cp)) {
        /* Gene and molecule names start lower-case: p53, mTOR, siRNA, miR-21, c-Myc. */
        for (size_t i = next; i < len && !is_space(t[i]);) {
            int32_t c = cp_at(t, len, i, &i);
            if (is_upper(c) || is_digit(c)) return true;
        }
        return false;
    }
    if (cp < 0) return true;
    return !(cp == ',' || cp == ';' || cp == ':' || is_closer(cp));
}

typedef enum { ABBR_NONE, ABBR_NEVER_ENDS, ABBR_ENDS_IF_UPPER } abbr_kind;

/* Matched ignoring ASCII case. */
static const char *const k_never_fold[] = {"e.g",  "i.e", "vs",  "cf",  "ca",   "approx", "fig",
                                           "figs", "eq",  "eqs", "ref", "refs", "incl",   "resp",
                                           "viz",  "p",   "pp",  "vol", "nr",   "suppl"};
/* Matched exactly: the capitalised title words differ from acronyms (MS, DR, NO). */
static const char *const k_never_exact[] = {"Dr", "Mr", "Mrs", "Ms", "Prof", "St", "No", "Nos", "Jr", "Sr"};
static const char *const k_ends_if_upper[] = {"etc", "sp", "spp", "ssp", "subsp", "Inc", "Ltd", "Co", "Corp"};

static bool eq_fold(const char *w, size_t n, const char *s) {
    if (strlen(s) != n) return false;
    for (size_t i = 0; i < n; i++) {
        char a = w[i], b = s[i];
        if (a >= 'A' && a <= 'Z') a = (char)(a - 'A' + 'a');
        if (a != b) return false;
    }
    return true;
}

static bool in_list(const char *w, size_t n, const char *const *list, size_t nl, bool fold) {
    for (size_t i = 0; i < nl; i++)
        if (fold ? eq_fold(w, n, list[i]) : (strlen(list[i]) == n && memcmp(w, list[i], n) == 0)) return true;
    return false;
}

static bool is_ascii_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

/* "U.S", "J.R" (the word before the final period): single letters joined by periods. */
static bool dotted_letters(const char *w, size_t n) {
    if (n < 3) return false;
    for (size_t i = 0; i < n; i++)
        if ((i % 2 == 0) != is_ascii_alpha(w[i]) || (i % 2 == 1 && w[i] != '.')) return false;
    return true;
}

/* Classify the word ending at the period at i (from the last space or opener). */
static abbr_kind classify_word(const char *t, size_t i) {
    size_t ws = i;
    while (ws > 0 && !is_space(t[ws - 1]) && !strchr("([{\"'", t[ws - 1])) ws--;
    const char *w = t + ws;
    size_t n = i - ws;
    if (n == 0) return ABBR_NONE;
    /* Initials ("J. Smith", "E. coli"); a lower-case letter is a unit ("48 h.") that may end a sentence. */
    if (n == 1 && w[0] >= 'A' && w[0] <= 'Z') return ABBR_NEVER_ENDS;
    if (dotted_letters(w, n)) return ABBR_NEVER_ENDS;
    if (in_list(w, n, k_never_fold, sizeof k_never_fold / sizeof *k_never_fold, true) ||
        in_list(w, n, k_never_exact, sizeof k_never_exact / sizeof *k_never_exact, false))
        return ABBR_NEVER_ENDS;
    if (in_list(w, n, k_ends_if_upper, sizeof k_ends_if_upper / sizeof *k_ends_if_upper, false))
        return ABBR_ENDS_IF_UPPER;
    if (n == 2 && memcmp(w, "al", 2) == 0 && ws >= 3 && memcmp(t + ws - 3, "et", 2) == 0 &&
        is_space(t[ws - 1]))
        return ABBR_ENDS_IF_UPPER;
    return ABBR_NONE;
}

/* Terminator run t[i..j): the sentence end (after closers) if it ends here, else 0. */
static size_t boundary_end(const char *t, size_t len, size_t i, size_t j) {
    size_t e = skip_closers(t, len, j);
    e = skip_closers(t, len, skip_citation(t, len, e));
    if (e == len) return e;
    if (!is_space(t[e])) return 0;
    size_t k = e;
    while (k < len && is_space(t[k])) k++;
    if (k == len) return e;
    if (j == i + 1 && t[i] == '.') {
        abbr_kind kind = classify_word(t, i);
        if (kind == ABBR_NEVER_ENDS) return 0;
        if (kind == ABBR_ENDS_IF_UPPER) {
            size_t next;
            return is_upper(cp_at(t, len, k, &next)) ? e : 0;
        }
    }
    return starts_sentence(t, len, k) ? e : 0;
}

static void emit(kz_span *out, size_t cap, size_t *n, size_t start, size_t end) {
    if (*n < cap) out[*n] = (kz_span){(int64_t)start, (int64_t)end};
    (*n)++;
}

size_t kz_sentences_split(const char *t, size_t len, kz_span *out, size_t cap) {
    size_t n = 0, i = 0, start = 0, last_end = 0;
    bool open = false;
    if (!t) return 0;
    while (i < len) {
        if (is_space(t[i])) {
            if (t[i] == '\n' && open) {
                size_t k = i + 1;
                while (k < len && is_space(t[k]) && t[k] != '\n') k++;
                if (k < len && t[k] == '\n') { /* blank line: hard break */
                    emit(out, cap, &n, start, last_end);
                    open = false;
                    i = k;
                    continue;
                }
            }
            i++;
            continue;
        }
        if (!open) {
            open = true;
            start = i;
        }
        size_t next;
        int32_t cp = cp_at(t, len, i, &next);
        if (!is_terminator(cp)) {
            i = last_end = next;
            continue;
        }
        size_t j = next;
        while (j < len && is_terminator(cp_at(t, len, j, &next))) j = next;
        size_t e = boundary_end(t, len, i, j);
        if (e) {
            emit(out, cap, &n, start, e);
            open = false;
            i = e;
        } else {
            i = last_end = j;
        }
    }
    if (open) emit(out, cap, &n, start, last_end);
    return n;
}
