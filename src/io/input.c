/* Byte-stream input for readers: files and stdin through zlib (which passes
 * plain data through untouched), memory buffers with optional gzip decoding,
 * and a capped line reader that tracks line numbers and byte offsets. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>
#include "io_int.h"

#define KZ_IN_CHUNK (64 * 1024)

int kz__input_open_path(kz_input *in, const char *path, kz_error *err) {
    memset(in, 0, sizeof *in);
    in->fd = -1;
    int fd = strcmp(path, "-") == 0 ? dup(STDIN_FILENO) : open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return kz_error_set(err, KZ_EIO, "cannot open: %s", strerror(errno));
    in->gz = gzdopen(fd, "rb");
    if (!in->gz) {
        close(fd);
        return kz_error_set(err, KZ_ENOMEM, "cannot create decompressor");
    }
    gzbuffer(in->gz, 128 * 1024);
    return 0;
}

int kz__input_open_mem(kz_input *in, const void *data, size_t len) {
    memset(in, 0, sizeof *in);
    in->fd = -1;
    in->mem = data;
    in->mem_len = len;
    if (len >= 2 && in->mem[0] == 0x1f && in->mem[1] == 0x8b) {
        in->mem_gz = true;
        if (inflateInit2(&in->zs, 15 + 32) != Z_OK) return KZ_ENOMEM;
        in->zs_init = true;
        in->zs.next_in = (Bytef *)in->mem;
        in->zs.avail_in = (uInt)KZ_MIN(len, (size_t)UINT32_MAX);
        in->mem_pos = in->zs.avail_in;
        in->zbuf = malloc(KZ_IN_CHUNK);
        if (!in->zbuf) return KZ_ENOMEM;
    }
    return 0;
}

void kz__input_close(kz_input *in) {
    if (in->gz) gzclose(in->gz);
    if (in->zs_init) inflateEnd(&in->zs);
    free(in->zbuf);
    free(in->rbuf);
    memset(in, 0, sizeof *in);
    in->fd = -1;
}

/* Raw read below the read-ahead buffer. */
static ptrdiff_t raw_read(kz_input *in, unsigned char *buf, size_t n) {
    if (in->eof || in->error) return in->error ? KZ_EIO : 0;
    if (n > INT32_MAX) n = INT32_MAX;
    if (in->gz) {
        int got = gzread(in->gz, buf, (unsigned)n);
        if (got < 0) {
            int e;
            const char *m = gzerror(in->gz, &e);
            snprintf(in->errmsg, sizeof in->errmsg, "read failed: %s", m ? m : "unknown");
            in->error = true;
            return KZ_EIO;
        }
        if (got == 0) {
            int e;
            gzerror(in->gz, &e);
            if (e != Z_OK && e != Z_BUF_ERROR) {
                snprintf(in->errmsg, sizeof in->errmsg, "corrupt compressed stream");
                in->error = true;
                return KZ_EIO;
            }
            in->eof = true;
        }
        return got;
    }
    if (!in->mem_gz) {
        size_t left = in->mem_len - in->mem_pos;
        size_t k = KZ_MIN(left, n);
        memcpy(buf, in->mem + in->mem_pos, k);
        in->mem_pos += k;
        if (k == 0) in->eof = true;
        return (ptrdiff_t)k;
    }
    /* In-memory gzip (possibly several concatenated members). */
    size_t produced = 0;
    while (produced < n && !in->zs_end) {
        if (in->zs.avail_in == 0 && in->mem_pos < in->mem_len) {
            size_t k = KZ_MIN(in->mem_len - in->mem_pos, (size_t)UINT32_MAX);
            in->zs.next_in = (Bytef *)(in->mem + in->mem_pos);
            in->zs.avail_in = (uInt)k;
            in->mem_pos += k;
        }
        in->zs.next_out = buf + produced;
        in->zs.avail_out = (uInt)(n - produced);
        int zr = inflate(&in->zs, Z_NO_FLUSH);
        produced = n - in->zs.avail_out;
        if (zr == Z_STREAM_END) {
            if (in->zs.avail_in == 0 && in->mem_pos >= in->mem_len)
                in->zs_end = true;
            else
                inflateReset(&in->zs);
        } else if (zr != Z_OK) {
            if (zr == Z_BUF_ERROR && in->zs.avail_in == 0 && in->mem_pos >= in->mem_len) {
                snprintf(in->errmsg, sizeof in->errmsg, "truncated compressed stream");
            } else {
                snprintf(in->errmsg, sizeof in->errmsg, "corrupt compressed stream");
            }
            in->error = true;
            return produced ? (ptrdiff_t)produced : KZ_EIO;
        }
    }
    if (produced == 0) in->eof = true;
    return (ptrdiff_t)produced;
}

static int fill(kz_input *in) {
    if (!in->rbuf) {
        in->rbuf = malloc(KZ_IN_CHUNK);
        if (!in->rbuf) return KZ_ENOMEM;
    }
    if (in->rbuf_pos < in->rbuf_len) return 1;
    ptrdiff_t got = raw_read(in, in->rbuf, KZ_IN_CHUNK);
    if (got < 0) return (int)got;
    in->rbuf_pos = 0;
    in->rbuf_len = (size_t)got;
    return got > 0;
}

ptrdiff_t kz__input_read(kz_input *in, void *buf, size_t n) {
    size_t done = 0;
    if (in->rbuf_pos < in->rbuf_len) {
        size_t k = KZ_MIN(n, in->rbuf_len - in->rbuf_pos);
        memcpy(buf, in->rbuf + in->rbuf_pos, k);
        in->rbuf_pos += k;
        done = k;
    }
    if (done < n) {
        ptrdiff_t got = raw_read(in, (unsigned char *)buf + done, n - done);
        if (got < 0) return done ? (ptrdiff_t)done : got;
        done += (size_t)got;
    }
    in->offset += (int64_t)done;
    return (ptrdiff_t)done;
}

size_t kz__input_peek(kz_input *in, void *buf, size_t n) {
    if (fill(in) <= 0) return 0;
    /* Top up so a small peek sees up to n bytes even across a short read. */
    size_t have = in->rbuf_len - in->rbuf_pos;
    if (have < n && in->rbuf_pos == 0 && in->rbuf_len < KZ_IN_CHUNK) {
        ptrdiff_t got = raw_read(in, in->rbuf + in->rbuf_len, KZ_IN_CHUNK - in->rbuf_len);
        if (got > 0) in->rbuf_len += (size_t)got;
        have = in->rbuf_len - in->rbuf_pos;
    }
    size_t k = KZ_MIN(n, have);
    memcpy(buf, in->rbuf + in->rbuf_pos, k);
    return k;
}

int kz__input_getline(kz_input *in, kz_buf *line, size_t cap) {
    kz__buf_clear(line);
    bool any = false, over = false;
    for (;;) {
        int f = fill(in);
        if (f < 0) return f;
        if (f == 0) break;
        unsigned char *start = in->rbuf + in->rbuf_pos;
        size_t avail = in->rbuf_len - in->rbuf_pos;
        unsigned char *nl = memchr(start, '\n', avail);
        size_t take = nl ? (size_t)(nl - start) : avail;
        any = true;
        if (!over) {
            if (line->len + take > cap) {
                over = true;
            } else {
                int rc = kz__buf_append(line, start, take);
                if (rc) return rc;
            }
        }
        size_t consumed = take + (nl ? 1 : 0);
        in->rbuf_pos += consumed;
        in->offset += (int64_t)consumed;
        if (nl) break;
    }
    if (!any) return 0;
    in->line++;
    if (over) {
        kz__buf_clear(line);
        return KZ_ELIMIT;
    }
    if (line->len && line->data[line->len - 1] == '\r') line->data[--line->len] = 0;
    if (!line->data) {
        int rc = kz__buf_reserve(line, 0);
        if (rc) return rc;
        line->data[0] = 0;
    }
    return 1;
}
