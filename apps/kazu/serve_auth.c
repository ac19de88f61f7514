/* Bearer auth for `kazu serve`: static tokens and HS256 JWTs (libjwt), as
 * Kazu's JWTAuthenticationBackend with exp/nbf checked and every other
 * algorithm (`none` included) refused before the signature is looked at. */
#include <errno.h>
#include <jansson.h>
#include <jwt.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include "serve.h"

#define MAX_TOKEN 8192

static bool ct_equal(const char *a, const char *b) {
    size_t la = strlen(a), lb = strlen(b);
    unsigned char d = (unsigned char)(la != lb);
    for (size_t i = 0; i < la; i++) d |= (unsigned char)(a[i] ^ b[i % (lb ? lb : 1)]);
    return d == 0;
}

static int b64url_val(char c) {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '-' || c == '+') return 62;
    if (c == '_' || c == '/') return 63;
    return -1;
}

/* The "alg" of the JOSE header (first dot-separated part), or "" if unreadable. */
static void jose_alg(const char *tok, char *alg, size_t cap) {
    alg[0] = 0;
    const char *dot = strchr(tok, '.');
    if (!dot || dot - tok > 2048) return;
    unsigned char raw[1600];
    size_t n = 0;
    uint32_t acc = 0;
    int bits = 0;
    for (const char *p = tok; p < dot; p++) {
        int v = b64url_val(*p);
        if (v < 0) {
            if (*p == '=') break;
            return;
        }
        acc = (acc << 6) | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            if (n < sizeof raw) raw[n++] = (unsigned char)(acc >> bits);
        }
    }
    json_t *h = json_loadb((const char *)raw, n, 0, NULL);
    if (!h) return;
    const char *a = json_string_value(json_object_get(h, "alg"));
    if (a) snprintf(alg, cap, "%s", a);
    json_decref(h);
}

int serve_auth_check(const serve_opts *o, const char *auth, char *msg, size_t msg_cap, char *user,
                     size_t user_cap) {
    user[0] = 0;
    if (!o->jwt_secret && !o->n_tokens) return 0;
    if (!auth) {
        snprintf(msg, msg_cap, "No 'Authorization' header specified: please use a valid Bearer token");
        return -1;
    }
    while (*auth == ' ') auth++;
    const char *sp = strchr(auth, ' ');
    if (!sp) {
        snprintf(msg, msg_cap, "Could not separate Authorization scheme and token");
        return -1;
    }
    if ((size_t)(sp - auth) != 6 || strncasecmp(auth, "Bearer", 6) != 0) {
        snprintf(msg, msg_cap, "Authorization scheme %.*s is not supported",
                 (int)(sp - auth > 32 ? 32 : sp - auth), auth);
        return -1;
    }
    const char *tok = sp;
    while (*tok == ' ') tok++;
    size_t tl = strlen(tok);
    while (tl && tok[tl - 1] == ' ') tl--;
    if (!tl || tl > MAX_TOKEN || memchr(tok, ' ', tl)) {
        snprintf(msg, msg_cap, "Could not separate Authorization scheme and token");
        return -1;
    }
    char token[MAX_TOKEN + 1];
    memcpy(token, tok, tl);
    token[tl] = 0;
    for (size_t i = 0; i < o->n_tokens; i++)
        if (ct_equal(token, o->tokens[i])) {
            snprintf(user, user_cap, "static-token-%zu", i + 1);
            return 0;
        }
    if (!o->jwt_secret) {
        snprintf(msg, msg_cap, "Invalid token");
        return -1;
    }
    char alg[32];
    jose_alg(token, alg, sizeof alg);
    if (strcmp(alg, "HS256") != 0) {
        snprintf(msg, msg_cap, "The specified alg value is not allowed: '%s' (only HS256)", alg);
        return -1;
    }
    jwt_t *jwt = NULL;
    if (jwt_decode(&jwt, token, (const unsigned char *)o->jwt_secret, (int)strlen(o->jwt_secret)) || !jwt) {
        snprintf(msg, msg_cap, "Signature verification failed");
        return -1;
    }
    int rc = 0;
    time_t now = time(NULL);
    if (jwt_get_alg(jwt) != JWT_ALG_HS256) {
        snprintf(msg, msg_cap, "The specified alg value is not allowed");
        rc = -1;
    }
    errno = 0;
    long exp = jwt_get_grant_int(jwt, "exp");
    if (!rc && errno == 0 && exp <= (long)now) {
        snprintf(msg, msg_cap, "Signature has expired");
        rc = -1;
    } else if (!rc && errno && errno != ENOENT) {
        snprintf(msg, msg_cap, "Expiration Time claim (exp) must be an integer");
        rc = -1;
    }
    errno = 0;
    long nbf = jwt_get_grant_int(jwt, "nbf");
    if (!rc && errno == 0 && nbf > (long)now) {
        snprintf(msg, msg_cap, "The token is not yet valid (nbf)");
        rc = -1;
    }
    if (!rc) {
        const char *u = jwt_get_grant(jwt, "username");
        snprintf(user, user_cap, "%s", u ? u : "?");
    }
    jwt_free(jwt);
    return rc;
}
