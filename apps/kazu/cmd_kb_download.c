/* `kazu kb download`: fetch the ontology files a knowledge-base recipe reads,
 * as listed in a download manifest (docs/kb-recipes.md), with libcurl.
 *
 * Each file is downloaded to DIR/.FILE.part (resumed with an HTTP range request
 * when a part is left over), hashed while it streams, and renamed to FILE only
 * once the SHA-256 matches the manifest's; a mismatch removes the part, so no
 * wrong file is ever left under the final name. Optional gunzip / tar.gz member
 * extraction happens after the check. A sidecar DIR/.FILE.download records the
 * url and the hash of what was downloaded, so later runs skip what is there. */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <curl/curl.h>
#include <openssl/evp.h>
#include <zlib.h>
#include "cli.h"

const char cli_kb_download_help[] =
    "Usage: kazu kb download MANIFEST [options]\n"
    "\n"
    "Download the ontology files listed in MANIFEST (e.g. kb/official-downloads.tsv)\n"
    "into DIR. MANIFEST lines are tab- or space-separated fields, '#' starts a comment:\n"
    "\n"
    "  NAME  URL  FILE  [SHA256|-]  [DECOMPRESS|-]\n"
    "\n"
    "  SHA256      hex SHA-256 of the bytes at URL; the file is kept only if it matches.\n"
    "              '-': any content is accepted and its hash is printed (pin it).\n"
    "  DECOMPRESS  '-' keep as is; 'gz' gunzip into FILE; 'tar.gz:PATH' extract the\n"
    "              member PATH of a gzipped tar archive into FILE.\n"
    "\n"
    "A download goes to DIR/.FILE.part and is renamed only after the hash check;\n"
    "an interrupted download resumes from the part (HTTP range request) on the next run.\n"
    "Files already present with the right hash are skipped.\n"
    "\n"
    "  -d, --dir DIR      where to put the files (default: the current directory)\n"
    "      --only NAME    only this entry (repeatable)\n"
    "      --force        download again even when the file is present\n"
    "  -q, --quiet        no progress or summary lines on stderr (errors still)\n"
    "  -h, --help         this help\n"
    "\n"
    "Proxies: libcurl's usual environment variables (https_proxy, http_proxy, no_proxy).\n"
    "\n"
    "Exit status:\n"
    "  0  every selected entry is present with the right hash\n"
    "  1  some entries failed (each reported on stderr); the others were still fetched\n"
    "  2  usage error, or a malformed manifest\n"
    "  3  fatal: the manifest or DIR cannot be read or created\n";

/* ---- manifest --------------------------------------------------------------
 * The whole manifest is read into memory (it is small: capped) and split in
 * place; entries point into that buffer. */
#define DL_MANIFEST_MAX (1u << 20)
#define DL_FIELD_MAX    4096
#define DL_ENTRIES_MAX  4096

typedef enum { DL_RAW = 0, DL_GZ, DL_TAR_GZ } dl_decompress;

typedef struct dl_entry {
    const char *name, *url, *file;
    char sha256[65]; /* "" = none given */
    dl_decompress dec;
    const char *member; /* DL_TAR_GZ: the member path */
    int line;
} dl_entry;

typedef struct dl_manifest {
    char *buf;
    dl_entry *e;
    size_t n;
} dl_manifest;

static bool is_hex64(const char *s) {
    size_t i = 0;
    for (; s[i]; i++)
        if (!isxdigit((unsigned char)s[i])) return false;
    return i == 64;
}

static bool safe_file_name(const char *s) {
    if (!s[0] || s[0] == '.' || strlen(s) > 255) return false;
    for (const char *p = s; *p; p++)
        if (*p == '/' || *p == '\\' || (unsigned char)*p < 0x20) return false;
    return true;
}

static bool safe_entry_name(const char *s) {
    if (!s[0] || strlen(s) > 128) return false;
    for (const char *p = s; *p; p++)
        if (!isalnum((unsigned char)*p) && !strchr("_.-", *p)) return false;
    return true;
}

static bool known_scheme(const char *url) {
    static const char *const schemes[] = {"https://", "http://", "ftp://", "file://"};
    for (size_t i = 0; i < sizeof schemes / sizeof schemes[0]; i++)
        if (strncmp(url, schemes[i], strlen(schemes[i])) == 0 && url[strlen(schemes[i])]) return true;
    return false;
}

/* Parse text (NUL-terminated, modified in place). On error writes a message
 * "line N: reason" into msg and returns -1. Entries point into text. */
static int dl_manifest_parse(char *text, size_t len, dl_manifest *m, char *msg, size_t msg_cap) {
    m->buf = text;
    m->e = NULL;
    m->n = 0;
    size_t cap = 0;
    int line = 0;
    char *p = text, *end = text + len;
    while (p < end) {
        line++;
        char *nl = memchr(p, '\n', (size_t)(end - p));
        char *eol = nl ? nl : end;
        *eol = '\0';
        if (eol > p && eol[-1] == '\r') eol[-1] = '\0';
        char *hash = strchr(p, '#');
        if (hash) *hash = '\0';
        char *f[6];
        int nf = 0;
        for (char *q = p; *q;) {
            while (*q == ' ' || *q == '\t') *q++ = '\0';
            if (!*q) break;
            if (nf == 6) break;
            f[nf++] = q;
            while (*q && *q != ' ' && *q != '\t') q++;
        }
        p = eol + 1;
        if (nf == 0) continue;
        if (nf < 3 || nf > 5) {
            snprintf(msg, msg_cap, "line %d: expected NAME URL FILE [SHA256] [DECOMPRESS], got %d field%s",
                     line, nf, nf == 1 ? "" : "s");
            return -1;
        }
        for (int i = 0; i < nf; i++)
            if (strlen(f[i]) > DL_FIELD_MAX) {
                snprintf(msg, msg_cap, "line %d: field %d longer than %d bytes", line, i + 1, DL_FIELD_MAX);
                return -1;
            }
        dl_entry e = {.name = f[0], .url = f[1], .file = f[2], .line = line};
        if (!safe_entry_name(e.name)) {
            snprintf(msg, msg_cap, "line %d: bad NAME '%.64s' (letters, digits, '_', '.', '-')", line,
                     e.name);
            return -1;
        }
        if (!known_scheme(e.url)) {
            snprintf(msg, msg_cap, "line %d: URL must start with https://, http://, ftp:// or file://", line);
            return -1;
        }
        if (!safe_file_name(e.file)) {
            snprintf(msg, msg_cap, "line %d: bad FILE '%.64s' (a plain name: no '/', not starting with '.')",
                     line, e.file);
            return -1;
        }
        if (nf >= 4 && strcmp(f[3], "-") != 0) {
            if (!is_hex64(f[3])) {
                snprintf(msg, msg_cap, "line %d: SHA256 must be 64 hex digits or '-'", line);
                return -1;
            }
            for (int i = 0; i < 64; i++) e.sha256[i] = (char)tolower((unsigned char)f[3][i]);
            e.sha256[64] = '\0';
        }
        if (nf == 5 && strcmp(f[4], "-") != 0) {
            if (strcmp(f[4], "gz") == 0) {
                e.dec = DL_GZ;
            } else if (strncmp(f[4], "tar.gz:", 7) == 0 && f[4][7]) {
                e.dec = DL_TAR_GZ;
                e.member = f[4] + 7;
                while (e.member[0] == '.' && e.member[1] == '/') e.member += 2;
                if (!e.member[0]) {
                    snprintf(msg, msg_cap, "line %d: empty tar member path", line);
                    return -1;
                }
            } else {
                snprintf(msg, msg_cap, "line %d: DECOMPRESS must be '-', 'gz' or 'tar.gz:PATH'", line);
                return -1;
            }
        }
        for (size_t i = 0; i < m->n; i++) {
            if (strcmp(m->e[i].name, e.name) == 0 || strcmp(m->e[i].file, e.file) == 0) {
                snprintf(msg, msg_cap, "line %d: NAME or FILE repeats line %d", line, m->e[i].line);
                return -1;
            }
        }
        if (m->n == DL_ENTRIES_MAX) {
            snprintf(msg, msg_cap, "line %d: more than %d entries", line, DL_ENTRIES_MAX);
            return -1;
        }
        if (m->n == cap) {
            size_t nc = cap ? cap * 2 : 16;
            dl_entry *ne = realloc(m->e, nc * sizeof *ne);
            if (!ne) {
                snprintf(msg, msg_cap, "out of memory");
                return -1;
            }
            m->e = ne;
            cap = nc;
        }
        m->e[m->n++] = e;
    }
    return 0;
}

/* ---- tar member extraction ---------------------------------------------------
 * A streaming reader of POSIX ustar / GNU tar, enough to pull one regular file
 * out of a release tarball: GNU long names ('L') and pax 'path' records ('x')
 * are honoured, everything else is skipped by its size. Every header is
 * checksummed and every size checked, so a damaged or hostile archive ends in an
 * error, never in a crash or a write outside the one output. */
typedef long (*dl_read_fn)(void *user, void *buf, size_t n);       /* bytes read, 0 at end, <0 error */
typedef int (*dl_write_fn)(void *user, const void *buf, size_t n); /* 0 ok */

#define DL_TAR_NAME_MAX 4096

static int read_full(dl_read_fn rd, void *user, void *buf, size_t n) {
    size_t got = 0;
    while (got < n) {
        long r = rd(user, (char *)buf + got, n - got);
        if (r < 0) return -1;
        if (r == 0) return got == 0 ? 0 : -2; /* 0: clean end; -2: truncated */
        got += (size_t)r;
    }
    return 1;
}

/* Octal (NUL/space padded) or GNU base-256 numeric field. */
static int tar_number(const unsigned char *f, size_t n, uint64_t *out) {
    uint64_t v = 0;
    if (f[0] & 0x80) {
        if (f[0] != 0x80) return -1; /* negative or too large */
        for (size_t i = 1; i < n; i++) {
            if (v >> 55) return -1;
            v = v << 8 | f[i];
        }
        *out = v;
        return 0;
    }
    size_t i = 0;
    while (i < n && f[i] == ' ') i++;
    bool any = false;
    for (; i < n && f[i] >= '0' && f[i] <= '7'; i++) {
        if (v >> 60) return -1;
        v = v << 3 | (uint64_t)(f[i] - '0');
        any = true;
    }
    for (; i < n; i++)
        if (f[i] != ' ' && f[i] != '\0') return -1;
    if (!any) return -1;
    *out = v;
    return 0;
}

static int tar_skip(dl_read_fn rd, void *user, uint64_t n) {
    unsigned char buf[8192];
    while (n) {
        size_t k = n < sizeof buf ? (size_t)n : sizeof buf;
        if (read_full(rd, user, buf, k) != 1) return -1;
        n -= k;
    }
    return 0;
}

static uint64_t tar_pad(uint64_t size) { return (512 - size % 512) % 512; }

/* The value of "path=" in a pax extended header block (records "LEN key=value\n"). */
static void pax_path(const char *d, size_t n, char *name, size_t cap) {
    size_t i = 0;
    while (i < n) {
        size_t len = 0, j = i;
        while (j < n && d[j] >= '0' && d[j] <= '9' && len < n) len = len * 10 + (size_t)(d[j++] - '0');
        if (j >= n || d[j] != ' ' || len == 0 || len > n - i) return;
        const char *kv = d + j + 1, *rec_end = d + i + len;
        if (rec_end[-1] != '\n') return;
        if ((size_t)(rec_end - kv) > 5 && memcmp(kv, "path=", 5) == 0) {
            size_t vl = (size_t)(rec_end - 1 - (kv + 5));
            if (vl < cap) {
                memcpy(name, kv + 5, vl);
                name[vl] = '\0';
            }
        }
        i += len;
    }
}

/* Copy the member `want` to wr. Returns 0 found, -1 with msg set otherwise. */
static int tar_extract(dl_read_fn rd, void *ru, const char *want, dl_write_fn wr, void *wu, uint64_t *n_out,
                       char *msg, size_t msg_cap) {
    unsigned char h[512];
    char next_name[DL_TAR_NAME_MAX] = "";
    char name[DL_TAR_NAME_MAX + 160];
    int zero_blocks = 0;
    uint64_t entries = 0;
    *n_out = 0;
    for (;;) {
        int r = read_full(rd, ru, h, sizeof h);
        if (r == 0) { /* ended without the two zero blocks: accepted, like GNU tar */
            snprintf(msg, msg_cap, "tar archive has no member '%s'", want);
            return -1;
        }
        if (r != 1) {
            snprintf(msg, msg_cap, r == -2 ? "tar archive is truncated" : "tar archive: read error");
            return -1;
        }
        bool all_zero = true;
        for (size_t i = 0; i < sizeof h; i++) all_zero &= h[i] == 0;
        if (all_zero) {
            if (++zero_blocks == 2) {
                snprintf(msg, msg_cap, "tar archive has no member '%s'", want);
                return -1;
            }
            continue;
        }
        zero_blocks = 0;
        uint64_t sum_want, size;
        if (tar_number(h + 148, 8, &sum_want) < 0 || tar_number(h + 124, 12, &size) < 0) {
            snprintf(msg, msg_cap, "not a tar archive (bad header after %llu entries)",
                     (unsigned long long)entries);
            return -1;
        }
        uint64_t sum = 0;
        for (size_t i = 0; i < sizeof h; i++) sum += (i >= 148 && i < 156) ? ' ' : h[i];
        if (sum != sum_want) {
            snprintf(msg, msg_cap, "not a tar archive (header checksum after %llu entries)",
                     (unsigned long long)entries);
            return -1;
        }
        entries++;
        char type = (char)h[156];
        if (type == 'L' || type == 'x') {
            if (size > DL_TAR_NAME_MAX * 4) {
                snprintf(msg, msg_cap, "tar archive: oversized %s header", type == 'L' ? "long-name" : "pax");
                return -1;
            }
            char d[DL_TAR_NAME_MAX * 4 + 1];
            if (read_full(rd, ru, d, (size_t)size) != 1 && size) {
                snprintf(msg, msg_cap, "tar archive is truncated");
                return -1;
            }
            d[size] = '\0';
            if (type == 'L') {
                size_t l = strnlen(d, (size_t)size);
                if (l < sizeof next_name) {
                    memcpy(next_name, d, l);
                    next_name[l] = '\0';
                }
            } else {
                pax_path(d, (size_t)size, next_name, sizeof next_name);
            }
            if (tar_skip(rd, ru, tar_pad(size)) < 0) {
                snprintf(msg, msg_cap, "tar archive is truncated");
                return -1;
            }
            continue;
        }
        if (next_name[0]) {
            snprintf(name, sizeof name, "%s", next_name);
            next_name[0] = '\0';
        } else {
            char nm[101], pre[156];
            memcpy(nm, h, 100);
            nm[100] = '\0';
            memcpy(pre, h + 345, 155);
            pre[155] = '\0';
            bool ustar = memcmp(h + 257, "ustar", 5) == 0;
            if (ustar && pre[0])
                snprintf(name, sizeof name, "%s/%s", pre, nm);
            else
                snprintf(name, sizeof name, "%s", nm);
        }
        const char *n = name;
        while (n[0] == '.' && n[1] == '/') n += 2;
        bool regular = type == '0' || type == '\0' || type == '7';
        if (regular && strcmp(n, want) == 0) {
            unsigned char buf[1 << 16];
            uint64_t left = size;
            while (left) {
                size_t k = left < sizeof buf ? (size_t)left : sizeof buf;
                if (read_full(rd, ru, buf, k) != 1) {
                    snprintf(msg, msg_cap, "tar archive is truncated inside '%s'", want);
                    return -1;
                }
                if (wr(wu, buf, k)) {
                    snprintf(msg, msg_cap, "write error while extracting '%s': %s", want, strerror(errno));
                    return -1;
                }
                left -= k;
            }
            *n_out = size;
            return 0;
        }
        /* Directories, links and devices carry no data blocks whatever size says. */
        uint64_t data =
            (type == '1' || type == '2' || type == '3' || type == '4' || type == '5' || type == '6') ? 0
                                                                                                     : size;
        if (tar_skip(rd, ru, data + tar_pad(data)) < 0) {
            snprintf(msg, msg_cap, "tar archive is truncated");
            return -1;
        }
    }
}

#ifndef KZ_KB_DOWNLOAD_NO_CLI
/* ---- the command -------------------------------------------------------------- */

typedef struct dl_opts {
    const char *dir;
    const char **only;
    size_t n_only;
    bool force, quiet;
} dl_opts;

static void say(const dl_opts *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say(const dl_opts *o, const char *fmt, ...) {
    if (o->quiet) return;
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
}

static void hex32(const unsigned char *d, char *out) {
    static const char x[] = "0123456789abcdef";
    for (int i = 0; i < 32; i++) {
        out[2 * i] = x[d[i] >> 4];
        out[2 * i + 1] = x[d[i] & 15];
    }
    out[64] = '\0';
}

/* SHA-256 of a file's first `limit` bytes (UINT64_MAX = all) into ctx. */
static int hash_file_into(EVP_MD_CTX *ctx, const char *path, uint64_t limit) {
    FILE *f = fopen(path, "rb");
    if (!f) return -1;
    unsigned char buf[1 << 16];
    size_t n;
    while (limit && (n = fread(buf, 1, limit < sizeof buf ? (size_t)limit : sizeof buf, f)) > 0) {
        EVP_DigestUpdate(ctx, buf, n);
        limit -= n;
    }
    int bad = ferror(f);
    fclose(f);
    return bad ? -1 : 0;
}

static int sha256_file_hex(const char *path, char out[65]) {
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    if (!ctx || EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1) {
        EVP_MD_CTX_free(ctx);
        return -1;
    }
    int rc = hash_file_into(ctx, path, UINT64_MAX);
    unsigned char d[32];
    unsigned int dn;
    EVP_DigestFinal_ex(ctx, d, &dn);
    EVP_MD_CTX_free(ctx);
    if (rc == 0) hex32(d, out);
    return rc;
}

static char *path_join(const char *dir, const char *prefix, const char *file, const char *suffix) {
    char *p = NULL;
    if (asprintf(&p, "%s/%s%s%s", dir, prefix, file, suffix) < 0) return NULL;
    return p;
}

/* The sidecar: "sha256 HEX\nurl URL\n". */
static bool sidecar_read(const char *path, char sha[65], char *url, size_t url_cap) {
    FILE *f = fopen(path, "r");
    if (!f) return false;
    char line[DL_FIELD_MAX + 16];
    bool got_sha = false, got_url = false;
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\r\n")] = '\0';
        if (strncmp(line, "sha256 ", 7) == 0 && is_hex64(line + 7)) {
            memcpy(sha, line + 7, 65);
            got_sha = true;
        } else if (strncmp(line, "url ", 4) == 0 && strlen(line + 4) < url_cap) {
            strcpy(url, line + 4);
            got_url = true;
        }
    }
    fclose(f);
    return got_sha && got_url;
}

static int sidecar_write(const char *path, const char *sha, const char *url) {
    char *tmp = NULL;
    if (asprintf(&tmp, "%s.tmp", path) < 0) return -1;
    FILE *f = fopen(tmp, "w");
    int rc = -1;
    if (f) {
        fprintf(f, "sha256 %s\nurl %s\n", sha, url);
        rc = fclose(f) == 0 ? rename(tmp, path) : -1;
    }
    if (rc) unlink(tmp);
    free(tmp);
    return rc;
}

/* ---- one transfer ---- */
typedef struct xfer {
    FILE *f;
    EVP_MD_CTX *sha;
    CURL *curl;
    uint64_t offset;  /* bytes already in the part when the request started */
    uint64_t written; /* bytes written by this transfer */
    bool write_error;
    const dl_opts *o;
    const char *label;
    time_t last_progress;
    bool progress_shown;
} xfer;

static size_t on_data(char *ptr, size_t size, size_t nmemb, void *user) {
    xfer *x = user;
    size_t n = size * nmemb;
    if (n && fwrite(ptr, 1, n, x->f) != n) {
        x->write_error = true;
        return 0;
    }
    EVP_DigestUpdate(x->sha, ptr, n);
    x->written += n;
    return n;
}

static int on_progress(void *user, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                       curl_off_t ulnow) {
    (void)ultotal;
    (void)ulnow;
    xfer *x = user;
    if (x->o->quiet || !isatty(STDERR_FILENO)) return 0;
    time_t now = time(NULL);
    if (now == x->last_progress) return 0;
    x->last_progress = now;
    double have = (double)(x->offset + (uint64_t)dlnow) / 1048576.0;
    if (dltotal > 0)
        fprintf(stderr, "\r%s: %.1f / %.1f MiB", x->label, have,
                (double)(x->offset + (uint64_t)dltotal) / 1048576.0);
    else
        fprintf(stderr, "\r%s: %.1f MiB", x->label, have);
    x->progress_shown = true;
    return 0;
}

/* Download e->url into part (resuming), leaving its SHA-256 in got. Returns 0;
 * -2 when the part cannot be resumed (drop it and start over); or -1 after
 * printing the error, *drop_part saying whether the part is useless. */
static int fetch(const dl_entry *e, const char *part, const dl_opts *o, char got[65], bool *drop_part) {
    *drop_part = false;
    struct stat st;
    uint64_t have = 0;
    if (stat(part, &st) == 0 && S_ISREG(st.st_mode)) have = (uint64_t)st.st_size;
    bool http = strncmp(e->url, "http", 4) == 0;
    if (!http) have = 0; /* resume only where a range request can be verified (206) */

    xfer x = {.o = o, .label = e->name};
    x.sha = EVP_MD_CTX_new();
    if (!x.sha || EVP_DigestInit_ex(x.sha, EVP_sha256(), NULL) != 1) {
        fprintf(stderr, "kazu kb download: %s: cannot set up SHA-256\n", e->name);
        EVP_MD_CTX_free(x.sha);
        return -1;
    }
    if (have && hash_file_into(x.sha, part, have) < 0) {
        EVP_DigestInit_ex(x.sha, EVP_sha256(), NULL);
        have = 0;
    }
    x.f = fopen(part, have ? "r+b" : "wb");
    if (!x.f) {
        fprintf(stderr, "kazu kb download: %s: cannot write %s: %s\n", e->name, part, strerror(errno));
        EVP_MD_CTX_free(x.sha);
        return -1;
    }
    if (have && fseeko(x.f, (off_t)have, SEEK_SET)) have = 0;
    x.offset = have;
    if (have) say(o, "%s: resuming %s at byte %llu\n", e->name, e->file, (unsigned long long)have);

    char errbuf[CURL_ERROR_SIZE] = "";
    CURL *c = curl_easy_init();
    x.curl = c;
    int rc = -1;
    if (!c) {
        fprintf(stderr, "kazu kb download: %s: cannot initialise libcurl\n", e->name);
        goto done;
    }
    char ua[64];
    snprintf(ua, sizeof ua, "kazu-c/%s (kazu kb download)", kz_version());
    curl_easy_setopt(c, CURLOPT_URL, e->url);
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(c, CURLOPT_MAXREDIRS, 10L);
    curl_easy_setopt(c, CURLOPT_FAILONERROR, 1L);
    curl_easy_setopt(c, CURLOPT_USERAGENT, ua);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 30L);
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L); /* stalled for a minute: give up (resumable) */
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, 60L);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &x);
    curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
    curl_easy_setopt(c, CURLOPT_XFERINFODATA, &x);
    curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
    if (have) curl_easy_setopt(c, CURLOPT_RESUME_FROM_LARGE, (curl_off_t)have);

    CURLcode cr = curl_easy_perform(c);
    if (x.progress_shown) fputc('\n', stderr);
    long code = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
    if (have && ((cr == CURLE_HTTP_RETURNED_ERROR && code == 416) || cr == CURLE_RANGE_ERROR)) {
        /* No range support, or the part is as long as the resource: start over. */
        *drop_part = true;
        rc = -2;
    } else if (cr == CURLE_HTTP_RETURNED_ERROR) {
        fprintf(stderr, "kazu kb download: %s: HTTP %ld from %s\n", e->name, code, e->url);
        *drop_part = code >= 400 && code < 500;
    } else if (cr == CURLE_COULDNT_RESOLVE_HOST || cr == CURLE_COULDNT_RESOLVE_PROXY) {
        fprintf(stderr, "kazu kb download: %s: cannot resolve host (DNS) for %s: %s\n", e->name, e->url,
                errbuf[0] ? errbuf : curl_easy_strerror(cr));
    } else if (x.write_error) {
        fprintf(stderr, "kazu kb download: %s: write error on %s: %s\n", e->name, part, strerror(errno));
    } else if (cr != CURLE_OK) {
        fprintf(stderr, "kazu kb download: %s: %s (%s)%s\n", e->name,
                errbuf[0] ? errbuf : curl_easy_strerror(cr), e->url,
                x.offset + x.written ? "; the partial file is kept and resumed next time" : "");
    } else {
        rc = 0;
    }
done:
    if (c) curl_easy_cleanup(c);
    if (fclose(x.f) != 0 && rc == 0) {
        fprintf(stderr, "kazu kb download: %s: write error on %s: %s\n", e->name, part, strerror(errno));
        rc = -1;
    }
    unsigned char d[32];
    unsigned int dn;
    EVP_DigestFinal_ex(x.sha, d, &dn);
    EVP_MD_CTX_free(x.sha);
    hex32(d, got);
    return rc;
}

/* ---- decompression into the final file ---- */
static long gz_read(void *user, void *buf, size_t n) {
    int k = gzread((gzFile)user, buf, n > (1u << 30) ? (1u << 30) : (unsigned)n);
    return k;
}

static int file_write(void *user, const void *buf, size_t n) {
    return fwrite(buf, 1, n, (FILE *)user) == n ? 0 : -1;
}

static int unpack(const dl_entry *e, const char *part, const char *tmp, char *msg, size_t msg_cap) {
    gzFile g = gzopen(part, "rb");
    if (!g) {
        snprintf(msg, msg_cap, "cannot open %s: %s", part, strerror(errno));
        return -1;
    }
    gzbuffer(g, 1 << 17);
    FILE *out = fopen(tmp, "wb");
    if (!out) {
        snprintf(msg, msg_cap, "cannot write %s: %s", tmp, strerror(errno));
        gzclose(g);
        return -1;
    }
    int rc = 0;
    if (e->dec == DL_GZ) {
        unsigned char buf[1 << 16];
        int k;
        while ((k = gzread(g, buf, sizeof buf)) > 0)
            if (fwrite(buf, 1, (size_t)k, out) != (size_t)k) {
                snprintf(msg, msg_cap, "write error on %s: %s", tmp, strerror(errno));
                rc = -1;
                break;
            }
        int zerr = Z_OK;
        const char *zmsg = gzerror(g, &zerr);
        if (rc == 0 && (k < 0 || (zerr != Z_OK && zerr != Z_STREAM_END))) {
            snprintf(msg, msg_cap, "gunzip failed: %s", zmsg);
            rc = -1;
        }
    } else {
        uint64_t n = 0;
        rc = tar_extract(gz_read, g, e->member, file_write, out, &n, msg, msg_cap);
        int zerr = Z_OK;
        const char *zmsg = gzerror(g, &zerr);
        if (rc == 0 && zerr != Z_OK && zerr != Z_STREAM_END) {
            snprintf(msg, msg_cap, "gunzip failed: %s", zmsg);
            rc = -1;
        }
    }
    gzclose(g);
    if (fclose(out) != 0 && rc == 0) {
        snprintf(msg, msg_cap, "write error on %s: %s", tmp, strerror(errno));
        rc = -1;
    }
    if (rc) unlink(tmp);
    return rc;
}

typedef enum { ST_OK, ST_SKIPPED, ST_FAILED } dl_status;

static dl_status process(const dl_entry *e, const dl_opts *o) {
    char *final = path_join(o->dir, "", e->file, "");
    char *part = path_join(o->dir, ".", e->file, ".part");
    char *tmp = path_join(o->dir, ".", e->file, ".tmp");
    char *side = path_join(o->dir, ".", e->file, ".download");
    dl_status st = ST_FAILED;
    if (!final || !part || !tmp || !side) {
        fprintf(stderr, "kazu kb download: out of memory\n");
        goto out;
    }
    struct stat sb;
    bool present = stat(final, &sb) == 0 && S_ISREG(sb.st_mode);
    if (present && !o->force) {
        char sc_sha[65], sc_url[DL_FIELD_MAX + 1];
        bool sc = sidecar_read(side, sc_sha, sc_url, sizeof sc_url);
        if (e->dec == DL_RAW) {
            char have[65];
            if (sha256_file_hex(final, have) == 0) {
                if (e->sha256[0] ? strcmp(have, e->sha256) == 0 : (!sc || strcmp(sc_sha, have) == 0)) {
                    say(o, "%s: %s is present%s (sha256 %s)\n", e->name, e->file,
                        e->sha256[0] ? " with the right hash"
                                     : "; no sha256 in the manifest to check it against",
                        have);
                    if (!sc) sidecar_write(side, have, e->url);
                    st = ST_SKIPPED;
                    goto out;
                }
                say(o, "%s: %s is present but its sha256 %s differs; fetching again\n", e->name, e->file,
                    have);
            }
        } else if (sc && strcmp(sc_url, e->url) == 0 && (!e->sha256[0] || strcmp(sc_sha, e->sha256) == 0)) {
            say(o, "%s: %s is present (unpacked from a download with sha256 %s)\n", e->name, e->file, sc_sha);
            st = ST_SKIPPED;
            goto out;
        } else if (!sc && !e->sha256[0]) {
            say(o,
                "%s: %s is present; no record of its download and no sha256 to check (use --force to fetch "
                "again)\n",
                e->name, e->file);
            st = ST_SKIPPED;
            goto out;
        }
    }
    if (o->force) unlink(part);

    say(o, "%s: downloading %s\n", e->name, e->url);
    char got[65];
    bool drop = false;
    int frc = fetch(e, part, o, got, &drop);
    if (frc == -2) {
        unlink(part);
        say(o, "%s: the server cannot resume this download; starting again from byte 0\n", e->name);
        frc = fetch(e, part, o, got, &drop);
    }
    if (frc < 0) {
        if (drop) unlink(part);
        goto out;
    }
    if (e->sha256[0] && strcmp(got, e->sha256) != 0) {
        fprintf(stderr,
                "kazu kb download: %s: SHA-256 mismatch for %s\n  expected %s\n  got      %s\n"
                "  the download was removed; if the source published a new release, update the manifest\n",
                e->name, e->url, e->sha256, got);
        unlink(part);
        goto out;
    }
    struct stat ps;
    unsigned long long bytes = stat(part, &ps) == 0 ? (unsigned long long)ps.st_size : 0;
    if (e->dec == DL_RAW) {
        if (rename(part, final) != 0) {
            fprintf(stderr, "kazu kb download: %s: cannot rename %s to %s: %s\n", e->name, part, final,
                    strerror(errno));
            goto out;
        }
    } else {
        char msg[512];
        if (unpack(e, part, tmp, msg, sizeof msg) < 0) {
            fprintf(stderr, "kazu kb download: %s: %s\n", e->name, msg);
            goto out;
        }
        if (rename(tmp, final) != 0) {
            fprintf(stderr, "kazu kb download: %s: cannot rename %s to %s: %s\n", e->name, tmp, final,
                    strerror(errno));
            unlink(tmp);
            goto out;
        }
        unlink(part);
    }
    sidecar_write(side, got, e->url);
    if (e->sha256[0])
        say(o, "%s: %s ok (%llu bytes, sha256 matches)\n", e->name, e->file, bytes);
    else
        say(o, "%s: %s ok (%llu bytes); no sha256 in the manifest; got sha256 %s\n", e->name, e->file, bytes,
            got);
    st = ST_OK;
out:
    free(final);
    free(part);
    free(tmp);
    free(side);
    return st;
}

static char *slurp(const char *path, size_t cap, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    char *buf = malloc(cap + 1);
    size_t n = buf ? fread(buf, 1, cap + 1, f) : 0;
    bool bad = ferror(f);
    fclose(f);
    if (!buf || bad || n > cap) {
        free(buf);
        errno = bad ? EIO : EFBIG;
        return NULL;
    }
    buf[n] = '\0';
    *len = n;
    return buf;
}

int cmd_kb_download(int argc, char **argv) {
    static const struct option longopts[] = {
        {"dir", required_argument, NULL, 'd'}, {"only", required_argument, NULL, 256},
        {"force", no_argument, NULL, 257},     {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},      {NULL, 0, NULL, 0}};
    const char *cmd = "kb download";
    dl_opts o = {.dir = "."};
    const char *only[64];
    opterr = 0;
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, "d:qh", longopts, NULL)) != -1) {
        switch (c) {
        case 'h': fputs(cli_kb_download_help, stdout); return CLI_OK;
        case 'd': o.dir = optarg; break;
        case 'q': o.quiet = true; break;
        case 257: o.force = true; break;
        case 256:
            if (o.n_only == sizeof only / sizeof only[0]) return cli_usage(cmd, "too many --only options");
            only[o.n_only++] = optarg;
            break;
        default: return cli_bad_option(cmd, argv);
        }
    }
    o.only = only;
    if (optind >= argc) return cli_usage(cmd, "no MANIFEST given");
    if (optind + 1 < argc) return cli_usage(cmd, "one MANIFEST only (got '%s' too)", argv[optind + 1]);
    const char *mpath = argv[optind];

    size_t len = 0;
    char *text = slurp(mpath, DL_MANIFEST_MAX, &len);
    if (!text) {
        fprintf(stderr, "kazu kb download: cannot read %s: %s\n", mpath,
                errno == EFBIG ? "larger than 1 MiB" : strerror(errno));
        return CLI_FATAL;
    }
    dl_manifest m;
    char msg[512];
    if (dl_manifest_parse(text, len, &m, msg, sizeof msg) < 0) {
        fprintf(stderr, "kazu kb download: %s: %s\n", mpath, msg);
        free(m.e);
        free(text);
        return CLI_USAGE;
    }
    for (size_t i = 0; i < o.n_only; i++) {
        bool found = false;
        for (size_t j = 0; j < m.n; j++) found |= strcmp(m.e[j].name, o.only[i]) == 0;
        if (!found) {
            fprintf(stderr, "kazu kb download: --only %s: no such entry in %s\n", o.only[i], mpath);
            free(m.e);
            free(text);
            return CLI_USAGE;
        }
    }
    if (mkdir(o.dir, 0777) != 0 && errno != EEXIST) {
        fprintf(stderr, "kazu kb download: cannot create %s: %s\n", o.dir, strerror(errno));
        free(m.e);
        free(text);
        return CLI_FATAL;
    }
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        fprintf(stderr, "kazu kb download: cannot initialise libcurl\n");
        free(m.e);
        free(text);
        return CLI_FATAL;
    }
    size_t n_ok = 0, n_skip = 0, n_fail = 0;
    for (size_t i = 0; i < m.n; i++) {
        bool selected = o.n_only == 0;
        for (size_t j = 0; j < o.n_only; j++) selected |= strcmp(m.e[i].name, o.only[j]) == 0;
        if (!selected) continue;
        switch (process(&m.e[i], &o)) {
        case ST_OK: n_ok++; break;
        case ST_SKIPPED: n_skip++; break;
        case ST_FAILED: n_fail++; break;
        }
    }
    curl_global_cleanup();
    say(&o, "kazu kb download: %zu downloaded, %zu already present, %zu failed\n", n_ok, n_skip, n_fail);
    free(m.e);
    free(text);
    return n_fail ? CLI_PARTIAL : CLI_OK;
}
#endif /* KZ_KB_DOWNLOAD_NO_CLI */
