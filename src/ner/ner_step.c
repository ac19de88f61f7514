/* TransformersModelForTokenClassificationNerStep (Kazu): WordPiece, HF-style
 * overlapping frames batched across documents, the BERT token classifier,
 * span finding, offset clean-up, strip_re and the numerical-list splitter. */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>

#include "kb/build_int.h"
#include "kazu/normalise.h"
#include "kazu/utf8.h"
#include "ner_int.h"

#define NER_NAME               "TransformersModelForTokenClassificationNerStep"
#define NER_MAX_LABELS         1024
#define NER_DEFAULT_GENE_STRIP "( (gene|protein)s?)+$"

typedef struct ner_state {
    kz_bert *model;
    kz_bert_engine *engine;
    const kz_wordpiece *wp;
    uint32_t max_len, stride, batch_size;
    kz_ner_labels labels;
    char **out_class; /* per class index: the entity class written */
    regex_t **strip;  /* per class index, or NULL */
    bool *split;      /* per class index: run the numerical-list splitter */
    bool *split_conj; /* per class index: run the conjunction splitter */
    char *split_pattern;
    int mention_confidence;
    int32_t cls_id, sep_id, pad_id;
} ner_state;

static void ner_free(void *p) {
    ner_state *s = p;
    if (!s) return;
    for (uint32_t i = 0; i < s->labels.n_classes; i++) {
        if (s->out_class) free(s->out_class[i]);
        if (s->strip && s->strip[i]) {
            regfree(s->strip[i]);
            free(s->strip[i]);
        }
    }
    free(s->out_class);
    free(s->strip);
    free(s->split);
    free(s->split_conj);
    free(s->split_pattern);
    kz__ner_labels_free(&s->labels);
    kz_bert_engine_free(s->engine);
    kz_bert_free(s->model);
    free(s);
}

static int config_fail(const kz_config_node *n, kz_error *err, const char *fmt, const char *a) {
    kz_error_set(err, KZ_ECONFIG, fmt, a);
    kz_config_locate(n, err);
    return KZ_ECONFIG;
}

/* Find class index by output or model class name (-1 if absent). */
static int32_t class_by_name(const ner_state *s, const char *name) {
    for (uint32_t i = 0; i < s->labels.n_classes; i++)
        if (strcmp(s->out_class[i], name) == 0) return (int32_t)i;
    return -1;
}

static int ner_init(void **state, const kz_config_node *params, kz_error *err) {
    static const char *const keys[] = {"model_path",       "max_sequence_length",
                                       "stride",           "batch_size",
                                       "precision",        "threads",
                                       "use_multilabel",   "labels",
                                       "strip_re",         "mention_confidence",
                                       "entity_class_map", "split_numerical_list",
                                       "split_pattern",    "split_conjunction",
                                       "threshold"};
    *state = NULL;
    int rc = kz_config_check_keys(params, keys, sizeof keys / sizeof *keys, err);
    if (rc) return rc;
    const char *path = NULL, *prec = NULL, *conf = NULL, *pattern = NULL;
    int64_t max_len, stride, batch, threads;
    double threshold;
    if ((rc = kz_config_get_string(params, "model_path", NULL, &path, err))) return rc;
    if (!path) return config_fail(params, err, "%s: model_path is required", NER_NAME);
    if ((rc = kz_config_get_int(params, "max_sequence_length", 128, 4, 1 << 16, &max_len, err))) return rc;
    if ((rc = kz_config_get_int(params, "stride", 16, 0, 1 << 16, &stride, err))) return rc;
    if ((rc = kz_config_get_int(params, "batch_size", 4, 1, 4096, &batch, err))) return rc;
    if ((rc = kz_config_get_int(params, "threads", 1, 1, 256, &threads, err))) return rc;
    if ((rc = kz_config_get_string(params, "precision", "fp32", &prec, err))) return rc;
    if ((rc = kz_config_get_string(params, "mention_confidence", "HIGHLY_LIKELY", &conf, err))) return rc;
    if ((rc = kz_config_get_string(params, "split_pattern", "/", &pattern, err))) return rc;
    if ((rc = kz_config_get_double(params, "threshold", 0.5, 1e-6, 1.0 - 1e-6, &threshold, err))) return rc;
    kz_error geo;
    kz_error_clear(&geo);
    if (kz__ner_check_geometry((uint32_t)max_len, (uint32_t)stride, &geo))
        return config_fail(kz_config_get(params, "stride"), err, "%s", geo.msg);

    ner_state *s = calloc(1, sizeof *s);
    if (!s) return kz_error_set(err, KZ_ENOMEM, "out of memory");
    s->max_len = (uint32_t)max_len;
    s->stride = (uint32_t)stride;
    s->batch_size = (uint32_t)batch;
    if (kz_mention_confidence_parse(kz_str_c(conf), &s->mention_confidence)) {
        rc = config_fail(kz_config_get(params, "mention_confidence"), err, "unknown mention_confidence '%s'",
                         conf);
        goto fail;
    }
    kz_bert_engine_opts eo = {KZ_PREC_FP32, (int)threads};
    if (kz_precision_parse(prec, &eo.precision)) {
        rc = config_fail(kz_config_get(params, "precision"), err, "unknown precision '%s' (fp32, int8, bf16)",
                         prec);
        goto fail;
    }
    if (!(s->split_pattern = strdup(pattern))) goto oom;
    {
        /* ${VAR} / ${VAR:-default} (e.g. ${KAZU_MODEL}, which the CLI points at the shipped model). */
        kz_arena *pa = kz_arena_new(0);
        if (!pa) goto oom;
        const char *expanded = NULL;
        rc = kz__recipe_expand(pa, path, &expanded, err);
        if (rc == 0 && !expanded[0])
            rc = kz_error_set(err, KZ_ECONFIG,
                              "%s: model_path '%s' is empty after expansion (set the variable)", NER_NAME,
                              path);
        if (rc) kz_config_locate(kz_config_get(params, "model_path"), err);
        if (rc == 0) rc = kz_bert_load(expanded, &s->model, err);
        kz_arena_free(pa);
        if (rc) goto fail;
    }
    const kz_bert_config *mc = kz_bert_get_config(s->model);
    if (mc->head != KZ_HEAD_TOKEN_CLS || mc->num_labels == 0) {
        rc = kz_error_set(err, KZ_EFORMAT, "%s: not a token-classification model", path);
        goto fail;
    }
    if (s->max_len > mc->max_positions) {
        rc = kz_error_set(err, KZ_ECONFIG, "max_sequence_length %u exceeds the model's %u positions",
                          s->max_len, mc->max_positions);
        kz_config_locate(kz_config_get(params, "max_sequence_length"), err);
        goto fail;
    }
    s->wp = kz_bert_tokenizer(s->model);
    if (!s->wp) {
        rc = kz_error_set(err, KZ_EFORMAT, "%s: the model has no tokenizer (vocab.txt)", path);
        goto fail;
    }
    kz_wordpiece_special sp = kz_wordpiece_specials(s->wp);
    if (sp.cls < 0 || sp.sep < 0) {
        rc = kz_error_set(err, KZ_EFORMAT, "%s: the vocabulary lacks [CLS] or [SEP]", path);
        goto fail;
    }
    s->cls_id = sp.cls;
    s->sep_id = sp.sep;
    s->pad_id = mc->pad_token_id >= 0 ? mc->pad_token_id : 0;

    bool multilabel = mc->multilabel;
    if ((rc = kz_config_get_bool(params, "use_multilabel", mc->multilabel, &multilabel, err))) goto fail;
    const char *labels[NER_MAX_LABELS];
    size_t n_labels = 0;
    if ((rc = kz_config_get_strings(params, "labels", (const char *const *)mc->id2label,
                                    mc->num_labels <= NER_MAX_LABELS ? mc->num_labels : 0, labels,
                                    NER_MAX_LABELS, &n_labels, err)))
        goto fail;
    if (n_labels != mc->num_labels) {
        rc =
            kz_error_set(err, KZ_ECONFIG, "%zu labels for a model with %u outputs", n_labels, mc->num_labels);
        kz_config_locate(kz_config_get(params, "labels"), err);
        goto fail;
    }
    if ((rc = kz__ner_labels_init(&s->labels, labels, n_labels, multilabel, err))) {
        kz_config_locate(kz_config_get(params, "labels"), err);
        rc = err ? (err->code = KZ_ECONFIG) : KZ_ECONFIG;
        goto fail;
    }
    s->labels.logit_threshold =
        (float)log(threshold / (1.0 - threshold)); /* sigmoid(x) > t <=> x > logit(t) */
    uint32_t nc = s->labels.n_classes;
    s->out_class = calloc(nc ? nc : 1, sizeof *s->out_class);
    s->strip = calloc(nc ? nc : 1, sizeof *s->strip);
    s->split = calloc(nc ? nc : 1, sizeof *s->split);
    s->split_conj = calloc(nc ? nc : 1, sizeof *s->split_conj);
    if (!s->out_class || !s->strip || !s->split || !s->split_conj) goto oom;
    const kz_config_node *map = kz_config_get(params, "entity_class_map");
    if (map && kz_config_node_type(map) != KZ_CONFIG_MAP && kz_config_node_type(map) != KZ_CONFIG_NULL) {
        rc = config_fail(map, err, "%s", "entity_class_map must be a map {model class: entity class}");
        goto fail;
    }
    for (uint32_t c = 0; c < nc; c++) {
        const char *name = s->labels.classes[c];
        const kz_config_node *to = kz_config_get(map, name);
        if (to) {
            kz_str v = kz_config_node_scalar(to);
            if (kz_config_node_type(to) != KZ_CONFIG_SCALAR || !v.len) {
                rc = config_fail(to, err, "entity_class_map['%s'] must be a non-empty string", name);
                goto fail;
            }
            name = v.ptr;
        }
        if (!(s->out_class[c] = strdup(name))) goto oom;
    }
    /* strip_re: {class: regex}; absent = Kazu's default for gene */
    const kz_config_node *strip = kz_config_get(params, "strip_re");
    if (strip && kz_config_node_type(strip) != KZ_CONFIG_MAP &&
        kz_config_node_type(strip) != KZ_CONFIG_NULL) {
        rc = config_fail(strip, err, "%s", "strip_re must be a map {entity class: regex}");
        goto fail;
    }
    size_t n_strip = strip ? kz_config_node_len(strip) : 1;
    for (size_t i = 0; i < n_strip; i++) {
        const char *cls = strip ? kz_config_node_key_at(strip, i).ptr : "gene";
        const kz_config_node *vn = strip ? kz_config_node_at(strip, i) : NULL;
        const char *re = strip ? kz_config_node_scalar(vn).ptr : NER_DEFAULT_GENE_STRIP;
        if (strip && kz_config_node_type(vn) != KZ_CONFIG_SCALAR) {
            rc = config_fail(vn, err, "strip_re['%s'] must be a regex string", cls);
            goto fail;
        }
        int32_t c = class_by_name(s, cls);
        if (c < 0 || s->strip[c]) continue; /* a class the model does not emit */
        regex_t *r = malloc(sizeof *r);
        if (!r) goto oom;
        int rr = regcomp(r, re, REG_EXTENDED);
        if (rr) {
            char buf[200];
            regerror(rr, r, buf, sizeof buf);
            free(r);
            kz_error_set(err, KZ_ECONFIG, "strip_re['%s']: %s", cls, buf);
            kz_config_locate(vn, err);
            rc = KZ_ECONFIG;
            goto fail;
        }
        s->strip[c] = r;
    }
    const char *def_split[] = {"gene"};
    const char *split[NER_MAX_LABELS];
    size_t n_split = 0;
    if ((rc = kz_config_get_strings(params, "split_numerical_list", def_split, 1, split, NER_MAX_LABELS,
                                    &n_split, err)))
        goto fail;
    for (size_t i = 0; i < n_split; i++) {
        int32_t c = class_by_name(s, split[i]);
        if (c >= 0) s->split[c] = true;
    }
    const char *def_conj[] = {"gene", "disease"};
    if ((rc = kz_config_get_strings(params, "split_conjunction", def_conj, 2, split, NER_MAX_LABELS, &n_split,
                                    err)))
        goto fail;
    for (size_t i = 0; i < n_split; i++) {
        int32_t c = class_by_name(s, split[i]);
        if (c >= 0) s->split_conj[c] = true;
    }
    if ((rc = kz_bert_engine_new(s->model, &eo, &s->engine, err))) goto fail;
    *state = s;
    return 0;
oom:
    rc = kz_error_set(err, KZ_ENOMEM, "out of memory");
fail:
    ner_free(s);
    return rc;
}

/* ---- processing ------------------------------------------------------------------ */

typedef struct sec_job {
    size_t doc;
    kz_section *sec;
    kz_wp_token *toks;
    size_t n_tok;
    float *act; /* n_tok x n_labels: each token's logits from the frame keeping it */
} sec_job;

typedef struct frame_ref {
    size_t job;
    kz_ner_frame f;
} frame_ref;

static void fail_doc(kz_doc *doc, const char *step, bool *failed, const kz_error *e, const char *what) {
    char reason[700], msg[800];
    snprintf(msg, sizeof msg, "%s: %s", what, kz_error_format(e, reason, sizeof reason));
    kz_doc_set_failure(doc, step, msg);
    *failed = true;
}

/* Python re.sub(pattern, "", s) on a NUL-terminated copy. Returns a malloc'd
 * string or NULL on OOM. */
char *kz__ner_regex_strip(const regex_t *r, const char *s, size_t len, size_t *out_len) {
    char *in = strndup(s, len), *out = malloc(len + 1);
    size_t o = 0, pos = 0;
    if (!in || !out) {
        free(in);
        free(out);
        return NULL;
    }
    len = strlen(in); /* an embedded NUL ends the string for regexec */
    while (pos <= len) {
        regmatch_t m;
        if (regexec(r, in + pos, 1, &m, pos ? REG_NOTBOL : 0) != 0) break;
        size_t so = pos + (size_t)m.rm_so, eo = pos + (size_t)m.rm_eo;
        memcpy(out + o, in + pos, so - pos);
        o += so - pos;
        if (eo > so) {
            pos = eo;
            continue;
        }
        if (so >= len) { /* empty match at the end */
            pos = len + 1;
            break;
        }
        size_t k = so;
        kz_utf8_decode(in, len, &k);
        memcpy(out + o, in + so, k - so);
        o += k - so;
        pos = k;
    }
    if (pos <= len) {
        memcpy(out + o, in + pos, len - pos);
        o += len - pos;
    }
    out[o] = 0;
    free(in);
    *out_len = o;
    return out;
}

static int add_span_entity(const ner_state *s, kz_doc *doc, kz_section *sec, const kz_ner_span *sp,
                           const char *ns, kz_error *err) {
    const char *text = sec->text.ptr;
    int64_t start = sp->start, end = kz__ner_trim_end(text, sp->start, sp->end);
    char *stripped = NULL;
    kz_str match = {text + start, (size_t)(end - start)};
    if (s->strip[sp->cls]) {
        size_t sl = 0;
        stripped = kz__ner_regex_strip(s->strip[sp->cls], match.ptr, match.len, &sl);
        if (!stripped) return kz_error_set(err, KZ_ENOMEM, "out of memory");
        /* Kazu: end = start + len(stripped); keep the original if that is not
         * a character boundary or nothing is left */
        if (sl > 0 && kz_utf8_is_boundary(text, sec->text.len, (size_t)start + sl)) {
            match = (kz_str){stripped, sl};
            end = start + (int64_t)sl;
        }
    }
    const char *cls = s->out_class[sp->cls];
    char *norm = NULL;
    size_t nlen = 0;
    int rc = kz_normalise(match.ptr, match.len, cls, &norm, &nlen, err);
    if (!rc) {
        kz_span span = {start, end};
        kz_entity_init init = {0};
        init.spans = &span;
        init.n_spans = 1;
        init.match = match;
        init.entity_class = kz_str_c(cls);
        init.namespace_ = kz_str_c(ns);
        init.mention_confidence = s->mention_confidence;
        init.match_norm = (kz_str){norm, nlen};
        rc = kz_section_add_entity(doc, sec, &init, NULL, err);
    }
    free(norm);
    free(stripped);
    return rc;
}

static int section_entities(const ner_state *s, kz_doc *doc, sec_job *j, const char *ns, kz_error *err) {
    kz_ner_word *words = NULL;
    size_t n_words = 0, n_sp = 0, cap = 0;
    kz_ner_span *spans = NULL;
    int rc = kz__ner_words(j->toks, j->n_tok, &words, &n_words);
    if (rc) return kz_error_set(err, rc, "out of memory");
    rc = kz__ner_find_spans(&s->labels, j->sec->text.ptr, j->sec->text.len, words, n_words, j->act, &spans,
                            &n_sp, &cap);
    if (rc) {
        kz_error_set(err, rc, "out of memory");
        goto out;
    }
    uint32_t first = j->sec->n_entities;
    for (size_t i = 0; i < n_sp && !rc; i++) rc = add_span_entity(s, doc, j->sec, &spans[i], ns, err);
    uint32_t last = j->sec->n_entities;
    for (uint32_t i = first; i < last && !rc; i++) {
        const kz_entity *e = j->sec->entities[i];
        int32_t c = class_by_name(s, e->entity_class.ptr);
        if (c >= 0 && s->split[c])
            rc = kz__ner_split_numerical_list(doc, j->sec, e, s->split_pattern, NULL, err);
        if (!rc && c >= 0 && s->split_conj[c]) rc = kz__ner_split_conjunction(doc, j->sec, e, NULL, err);
    }
out:
    free(words);
    free(spans);
    return rc;
}

/* Run frames[b0..b1) as one forward call, copying each frame's kept rows.
 * Returns the forward's error code (0 = ok). */
static int run_batch(const ner_state *s, kz_bert_ctx *ctx, sec_job *jobs, const frame_ref *fr, size_t n,
                     int32_t *ids, int32_t *lens, float *logits, kz_error *err) {
    uint32_t nl = s->labels.n_labels, stride = 0;
    for (size_t i = 0; i < n; i++) {
        lens[i] = (int32_t)fr[i].f.len + 2;
        if ((uint32_t)lens[i] > stride) stride = (uint32_t)lens[i];
    }
    for (size_t i = 0; i < n; i++) {
        const sec_job *j = &jobs[fr[i].job];
        int32_t *row = ids + i * stride;
        row[0] = s->cls_id;
        for (uint32_t t = 0; t < fr[i].f.len; t++) row[1 + t] = j->toks[fr[i].f.start + t].id;
        row[1 + fr[i].f.len] = s->sep_id;
        for (uint32_t t = fr[i].f.len + 2; t < stride; t++) row[t] = s->pad_id;
    }
    kz_bert_batch in = {ids, NULL, lens, (uint32_t)n, stride};
    kz_bert_out out = {logits, NULL, NULL, false};
    int rc = kz_bert_forward(s->engine, ctx, &in, &out, err);
    if (rc) return rc;
    for (size_t i = 0; i < n; i++) {
        sec_job *j = &jobs[fr[i].job];
        for (uint32_t t = fr[i].f.keep_start; t < fr[i].f.keep_end; t++) {
            const float *src = logits + ((size_t)i * stride + 1 + (t - fr[i].f.start)) * nl;
            memcpy(j->act + (size_t)t * nl, src, nl * sizeof *src);
        }
    }
    return 0;
}

static int ner_process(void *state, kz_doc **docs, size_t n, const kz_step_ctx *ctx, kz_error *err) {
    const ner_state *s = state;
    const char *ns = ctx && ctx->step_name ? ctx->step_name : NER_NAME;
    uint32_t nl = s->labels.n_labels;
    int rc = 0;
    size_t n_jobs = 0, cap_jobs = 0, n_fr = 0, cap_fr = 0;
    sec_job *jobs = NULL;
    frame_ref *frames = NULL;
    bool *failed = calloc(n ? n : 1, sizeof *failed);
    int32_t *ids = malloc((size_t)s->batch_size * s->max_len * sizeof *ids);
    int32_t *lens = malloc((size_t)s->batch_size * sizeof *lens);
    float *logits = malloc((size_t)s->batch_size * s->max_len * nl * sizeof *logits);
    kz_bert_ctx *bctx = kz_bert_ctx_new(s->engine);
    if (!failed || !ids || !lens || !logits || !bctx) {
        rc = kz_error_set(err, KZ_ENOMEM, "out of memory");
        goto out;
    }
    /* 1. tokenise every section of every document */
    for (size_t d = 0; d < n; d++) {
        if (kz_step_cancelled(ctx)) {
            rc = KZ_ECANCELLED;
            goto out;
        }
        for (uint32_t si = 0; si < docs[d]->n_sections && !failed[d]; si++) {
            kz_section *sec = docs[d]->sections[si];
            if (n_jobs == cap_jobs) {
                size_t c = cap_jobs ? cap_jobs * 2 : 16;
                sec_job *v = realloc(jobs, c * sizeof *v);
                if (!v) goto oom;
                jobs = v;
                cap_jobs = c;
            }
            sec_job *j = &jobs[n_jobs];
            memset(j, 0, sizeof *j);
            j->doc = d;
            j->sec = sec;
            size_t tcap = 0;
            kz_error e;
            kz_error_clear(&e);
            int r = kz_wordpiece_encode(s->wp, sec->text.ptr, sec->text.len, &j->toks, &j->n_tok, &tcap, &e);
            if (!r && j->n_tok > UINT32_MAX / 2) r = kz_error_set(&e, KZ_ELIMIT, "%zu tokens", j->n_tok);
            if (!r && j->n_tok && !(j->act = calloc(j->n_tok, (size_t)nl * sizeof *j->act)))
                r = kz_error_set(&e, KZ_ENOMEM, "out of memory");
            n_jobs++;
            if (r) {
                char what[64];
                snprintf(what, sizeof what, "section %u", si);
                fail_doc(docs[d], ns, &failed[d], &e, what);
            }
        }
    }
    /* 2. frames of all sections, batched across documents */
    for (size_t ji = 0; ji < n_jobs; ji++) {
        if (failed[jobs[ji].doc] || !jobs[ji].n_tok) continue;
        size_t nf = kz__ner_n_frames(jobs[ji].n_tok, s->max_len, s->stride);
        for (size_t f = 0; f < nf; f++) {
            if (n_fr == cap_fr) {
                size_t c = cap_fr ? cap_fr * 2 : 64;
                frame_ref *v = realloc(frames, c * sizeof *v);
                if (!v) goto oom;
                frames = v;
                cap_fr = c;
            }
            frames[n_fr++] = (frame_ref){ji, kz__ner_frame_at(jobs[ji].n_tok, s->max_len, s->stride, f)};
        }
    }
    for (size_t b = 0; b < n_fr; b += s->batch_size) {
        if (kz_step_cancelled(ctx)) {
            rc = KZ_ECANCELLED;
            goto out;
        }
        size_t m = n_fr - b < s->batch_size ? n_fr - b : s->batch_size;
        kz_error e;
        kz_error_clear(&e);
        if (run_batch(s, bctx, jobs, frames + b, m, ids, lens, logits, &e) == 0) continue;
        /* isolate: rerun each frame alone and fail only the documents whose
         * frames fail */
        for (size_t i = b; i < b + m; i++) {
            size_t d = jobs[frames[i].job].doc;
            if (failed[d]) continue;
            kz_error_clear(&e);
            if (run_batch(s, bctx, jobs, frames + i, 1, ids, lens, logits, &e))
                fail_doc(docs[d], ns, &failed[d], &e, "forward pass");
        }
    }
    /* 3. words -> spans -> entities */
    for (size_t ji = 0; ji < n_jobs; ji++) {
        size_t d = jobs[ji].doc;
        if (failed[d] || !jobs[ji].n_tok) continue;
        kz_error e;
        kz_error_clear(&e);
        if (section_entities(s, docs[d], &jobs[ji], ns, &e))
            fail_doc(docs[d], ns, &failed[d], &e, "entities");
    }
    goto out;
oom:
    rc = kz_error_set(err, KZ_ENOMEM, "out of memory");
out:
    for (size_t i = 0; i < n_jobs; i++) {
        free(jobs[i].toks);
        free(jobs[i].act);
    }
    free(jobs);
    free(frames);
    free(failed);
    free(ids);
    free(lens);
    free(logits);
    kz_bert_ctx_free(bctx);
    return rc;
}

const kz_step_type kz__step_transformers_ner = {
    .name = NER_NAME,
    .description = "transformer token-classification NER (BIO or multilabel) over overlapping windows",
    .init = ner_init,
    .process = ner_process,
    .free = ner_free,
};
