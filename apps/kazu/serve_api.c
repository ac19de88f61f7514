/* Response bodies of `kazu serve`: Kazu Document JSON lists, the Label Studio
 * view + tasks of /api/kazu/ls-annotations, and the OpenAPI description. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "serve.h"

/* A document that cannot be serialised still answers, with the reason on it. */
static void put_unserialisable(sbuf *out, const kz_doc *d, int rc) {
    sb_puts(out, "{\"idx\": ");
    sb_json_str(out, d->idx.ptr, d->idx.len);
    sb_printf(out,
              ", \"sections\": [], \"metadata\": {\"" KZ_PROCESSING_EXCEPTION
              "\": \"kazu serve: cannot serialise the document: %s\"}}",
              kz_strerror(rc));
}

int serve_docs_json(kz_doc **docs, size_t n, bool list, sbuf *out) {
    kz_writer_params wp = kz_writer_default_params();
    if (list) sb_put(out, "[", 1);
    for (size_t i = 0; i < n && (list || i == 0); i++) {
        char *js = NULL;
        size_t jl = 0;
        if (i) sb_put(out, ", ", 2);
        int rc = kz_doc_to_kazu_json(docs[i], &wp, &js, &jl);
        if (rc == KZ_ENOMEM) return rc;
        if (rc) {
            put_unserialisable(out, docs[i], rc);
        } else {
            while (jl && (js[jl - 1] == '\n' || js[jl - 1] == ' ')) jl--;
            sb_put(out, js, jl);
        }
        free(js);
    }
    if (list) sb_put(out, "]", 1);
    return out->oom ? KZ_ENOMEM : 0;
}

/* ---- Label Studio view (Kazu's LabelStudioAnnotationView.create_main_view) ---- */
static void xml_attr(sbuf *b, const char *name, const char *v, size_t n) {
    sb_printf(b, " %s=\"", name);
    size_t run = 0;
    for (size_t i = 0; i < n; i++) {
        const char *rep = NULL;
        switch (v[i]) {
        case '&': rep = "&amp;"; break;
        case '<': rep = "&lt;"; break;
        case '>': rep = "&gt;"; break;
        case '"': rep = "&quot;"; break;
        default: continue;
        }
        sb_put(b, v + run, i - run);
        sb_puts(b, rep);
        run = i + 1;
    }
    sb_put(b, v + run, n - run);
    sb_put(b, "\"", 1);
}

typedef struct tax {
    char *source, *label; /* label = "default_label|idx" */
} tax;

static int cmp_tax(const void *a, const void *b) {
    const tax *x = a, *y = b;
    int c = strcmp(x->source, y->source);
    return c ? c : strcmp(x->label, y->label);
}

static char *dup_or_none(kz_str s) { return s.ptr ? strndup(s.ptr, s.len) : strdup("None"); }

/* Taxonomy choices: per source (first-seen order), labels in first-seen order,
 * walking entities as Kazu walks the tasks' results (sorted per entity). */
static int put_taxonomy(sbuf *b, const kz_doc *doc) {
    tax *all = NULL;
    size_t n = 0, cap = 0;
    int rc = 0;
    for (uint32_t s = 0; !rc && s < doc->n_sections; s++) {
        for (uint32_t e = 0; !rc && e < doc->sections[s]->n_entities; e++) {
            const kz_entity *ent = doc->sections[s]->entities[e];
            size_t first = n, k = ent->n_mappings ? ent->n_mappings : 1;
            if (n + k > cap) {
                cap = (n + k) * 2;
                tax *t = realloc(all, cap * sizeof *t);
                if (!t) {
                    rc = KZ_ENOMEM;
                    break;
                }
                all = t;
            }
            for (size_t m = 0; m < k; m++) {
                tax t;
                if (!ent->n_mappings) {
                    t.source = strdup("None");
                    t.label = strdup("unmapped|unmapped");
                } else {
                    const kz_mapping *mp = &ent->mappings[m];
                    char *l = dup_or_none(mp->default_label), *x = dup_or_none(mp->idx);
                    t.source = dup_or_none(mp->source);
                    t.label = NULL;
                    if (l && x && asprintf(&t.label, "%s|%s", l, x) < 0) t.label = NULL;
                    free(l);
                    free(x);
                }
                if (!t.source || !t.label) {
                    free(t.source);
                    free(t.label);
                    rc = KZ_ENOMEM;
                    break;
                }
                all[n++] = t;
            }
            if (!rc) qsort(all + first, n - first, sizeof *all, cmp_tax);
        }
    }
    sb_puts(b,
            "<Taxonomy visibleWhen=\"region-selected\" name=\"taxonomy\" toName=\"text\" perRegion=\"true\"");
    /* Sources in first-seen order, each with its distinct labels in first-seen order. */
    bool any = false;
    for (size_t i = 0; !rc && i < n; i++) {
        bool seen = false;
        for (size_t j = 0; j < i && !seen; j++) seen = strcmp(all[j].source, all[i].source) == 0;
        if (seen) continue;
        if (!any) sb_put(b, ">", 1);
        any = true;
        sb_puts(b, "<Choice");
        xml_attr(b, "value", all[i].source, strlen(all[i].source));
        sb_put(b, ">", 1);
        for (size_t j = i; j < n; j++) {
            if (strcmp(all[j].source, all[i].source)) continue;
            bool dup = false;
            for (size_t k = i; k < j && !dup; k++)
                dup = !strcmp(all[k].source, all[j].source) && !strcmp(all[k].label, all[j].label);
            if (dup) continue;
            sb_puts(b, "<Choice");
            xml_attr(b, "value", all[j].label, strlen(all[j].label));
            sb_puts(b, "/>");
        }
        sb_puts(b, "</Choice>");
    }
    sb_puts(b, any ? "</Taxonomy>" : "/>");
    for (size_t i = 0; i < n; i++) free(all[i].source), free(all[i].label);
    free(all);
    return rc;
}

static const char *const k_colours[][2] = {
    {"cell_line", "red"},
    {"cell_type", "darkblue"},
    {"disease", "orange"},
    {"drug", "yellow"},
    {"gene", "green"},
    {"species", "purple"},
    {"anatomy", "pink"},
    {"molecular_function", "grey"},
    {"cellular_component", "blue"},
    {"biological_process", "brown"},
};

static int put_ls_view(sbuf *b, const kz_doc *doc) {
    sb_puts(b, "<?xml version=\"1.0\" ?><View style=\"display: flex;\"><View><View><Relations>"
               "<Relation value=\"non-contig\"/></Relations><Labels name=\"ner\" toName=\"text\" "
               "choice=\"multiple\">");
    for (size_t i = 0; i < sizeof k_colours / sizeof *k_colours; i++)
        sb_printf(b, "<Label value=\"%s\" background=\"%s\"/>", k_colours[i][0], k_colours[i][1]);
    sb_puts(b, "</Labels></View><View><Text name=\"text\" value=\"$text\"/></View><View>");
    int rc = put_taxonomy(b, doc);
    sb_puts(b, "</View><View style=\"width: 100%; display: block\"><Header value=\"Select span after "
               "creation to go next\"/></View></View></View>");
    return rc;
}

int serve_ls_json(const kz_doc *doc, sbuf *out) {
    sbuf view = {0};
    int rc = put_ls_view(&view, doc);
    if (!rc && view.oom) rc = KZ_ENOMEM;
    char *tasks = NULL;
    size_t tl = 0;
    if (!rc) {
        FILE *f = open_memstream(&tasks, &tl);
        kz_writer *w = NULL;
        kz_writer_params wp = kz_writer_default_params();
        kz_error err;
        if (!f) rc = KZ_ENOMEM;
        if (!rc) rc = kz_writer_open_file(&w, f, "ls_tasks", KZ_FORMAT_LABEL_STUDIO, &wp, &err);
        if (!rc) rc = kz_writer_write(w, doc, &err);
        if (w) {
            int rc2 = kz_writer_close(w, &err);
            if (!rc) rc = rc2;
        }
        if (f) fclose(f);
    }
    if (!rc) {
        while (tl && (tasks[tl - 1] == '\n' || tasks[tl - 1] == ' ')) tl--;
        sb_puts(out, "{\"ls_view\": ");
        sb_json_str(out, view.p, view.n);
        sb_puts(out, ", \"ls_tasks\": ");
        sb_put(out, tasks, tl);
        sb_puts(out, ", \"doc\": ");
        kz_doc *d = (kz_doc *)doc;
        rc = serve_docs_json(&d, 1, false, out);
        sb_puts(out, "}");
    }
    free(tasks);
    sb_free(&view);
    return rc ? rc : out->oom ? KZ_ENOMEM : 0;
}

/* ---- OpenAPI ------------------------------------------------------------------------- */
static const char k_doc_schemas[] =
    "\"SimpleWebDocument\": {\"type\": \"object\", \"required\": [\"text\"], \"properties\": {\"text\": "
    "{\"type\": \"string\"}}, \"example\": {\"text\": \"EGFR mutations in non-small cell lung cancer.\"}},"
    "\"SectionedWebDocument\": {\"type\": \"object\", \"required\": [\"sections\"], \"properties\": "
    "{\"sections\": {\"type\": \"object\", \"additionalProperties\": {\"type\": \"string\"}}}, \"example\": "
    "{\"sections\": {\"title\": \"a study about HER2 in breast cancer\", \"abstract\": \"We carried out a "
    "study on trastuzumab.\"}}},"
    "\"WebDocument\": {\"oneOf\": [{\"$ref\": \"#/components/schemas/SimpleWebDocument\"}, {\"$ref\": "
    "\"#/components/schemas/SectionedWebDocument\"}]},"
    "\"DocumentCollection\": {\"oneOf\": [{\"$ref\": \"#/components/schemas/WebDocument\"}, {\"type\": "
    "\"array\", \"items\": {\"$ref\": \"#/components/schemas/WebDocument\"}}]},"
    "\"KazuDocument\": {\"type\": \"object\", \"description\": \"Kazu Document.to_dict(): idx, sections "
    "(text, name, entities, sentence_spans, metadata), metadata (PROCESSING_EXCEPTION on failure)\"},"
    "\"Error\": {\"type\": \"object\", \"properties\": {\"detail\": {\"type\": \"string\"}, \"error\": "
    "{\"type\": \"string\"}, \"request_id\": {\"type\": \"string\"}}}";

static void put_op(sbuf *b, const char *summary, const char *body_schema, const char *resp_schema, bool auth,
                   const char *params) {
    sb_printf(b, "{\"summary\": \"%s\"", summary);
    if (params) sb_printf(b, ", \"parameters\": [%s]", params);
    if (body_schema)
        sb_printf(b,
                  ", \"requestBody\": {\"required\": true, \"content\": {\"application/json\": {\"schema\": "
                  "{%s}}}}",
                  body_schema);
    if (auth) sb_puts(b, ", \"security\": [{\"HTTPBearer\": []}]");
    sb_printf(
        b, ", \"responses\": {\"200\": {\"description\": \"OK\", \"content\": {\"%s\": {\"schema\": {%s}}}}",
        strstr(resp_schema, "text/") ? "text/plain" : "application/json",
        strstr(resp_schema, "text/") ? "\"type\": \"string\"" : resp_schema);
    if (body_schema)
        sb_puts(
            b, ", \"400\": {\"description\": \"malformed JSON, wrong types or invalid UTF-8\"}, \"413\": "
               "{\"description\": \"body, document or document count over the limit\"}, \"422\": "
               "{\"description\": \"unknown step or step group, wrong body shape\"}, \"503\": "
               "{\"description\": \"queue full or shutting down (Retry-After)\"}, \"504\": {\"description\": "
               "\"request timed out; the pipeline was cancelled\"}");
    if (auth) sb_puts(b, ", \"401\": {\"description\": \"missing or invalid bearer token\"}");
    sb_puts(b, "}}");
}

void serve_openapi_json(sbuf *b, bool auth) {
    static const char list_resp[] =
        "\"type\": \"array\", \"items\": {\"$ref\": \"#/components/schemas/KazuDocument\"}";
    static const char coll[] = "\"$ref\": \"#/components/schemas/DocumentCollection\"";
    sb_printf(b,
              "{\"openapi\": \"3.0.2\", \"info\": {\"title\": \"Kazu - Biomedical NLP Framework (kazu-c)\", "
              "\"version\": \"%s\", \"license\": {\"name\": \"Apache 2.0\", \"url\": "
              "\"https://www.apache.org/licenses/LICENSE-2.0.html\"}}, \"paths\": {",
              kz_version());
    sb_puts(b, "\"/api/kazu/ner_and_linking\": {\"post\": ");
    put_op(b, "Run NER and linking over one document or a list", coll, list_resp, auth, NULL);
    sb_puts(b, "}, \"/api/kazu/ner_only\": {\"post\": ");
    put_op(b, "Run the ner_only step group", coll, list_resp, auth, NULL);
    sb_puts(b, "}, \"/api/kazu/linking_only\": {\"post\": ");
    put_op(b, "Each section is one entity of entity_class; run the linking_only step group", coll, list_resp,
           auth,
           "{\"name\": \"entity_class\", \"in\": \"query\", \"required\": true, \"schema\": {\"type\": "
           "\"string\"}}");
    sb_puts(b, "}, \"/api/kazu/custom_pipeline_steps\": {\"post\": ");
    put_op(b, "Run the given steps in the given order", coll, list_resp, auth,
           "{\"name\": \"steps\", \"in\": \"query\", \"required\": false, \"schema\": {\"type\": \"array\", "
           "\"items\": {\"type\": \"string\"}}, \"style\": \"form\", \"explode\": true}");
    sb_puts(b, "}, \"/api/kazu/{step_group}\": {\"post\": ");
    put_op(b, "Run a configured step group", coll, list_resp, auth,
           "{\"name\": \"step_group\", \"in\": \"path\", \"required\": true, \"schema\": {\"type\": "
           "\"string\"}}");
    sb_puts(b, "}, \"/api/kazu\": {\"post\": ");
    put_op(b, "Deprecated: one document in, one Kazu document out",
           "\"$ref\": \"#/components/schemas/WebDocument\"",
           "\"$ref\": \"#/components/schemas/KazuDocument\"", auth, NULL);
    sb_puts(b, "}, \"/api/kazu/batch\": {\"post\": ");
    put_op(b, "Deprecated: a list of documents in, a list out",
           "\"type\": \"array\", \"items\": {\"$ref\": \"#/components/schemas/WebDocument\"}", list_resp,
           auth, NULL);
    sb_puts(b, "}, \"/api/kazu/ls-annotations\": {\"post\": ");
    put_op(b, "Label Studio view, tasks and the Kazu document for one document",
           "\"$ref\": \"#/components/schemas/WebDocument\"",
           "\"type\": \"object\", \"properties\": {\"ls_view\": {\"type\": \"string\"}, \"ls_tasks\": "
           "{\"type\": "
           "\"array\"}, \"doc\": {\"$ref\": \"#/components/schemas/KazuDocument\"}}",
           false, NULL);
    sb_puts(b, "}, \"/api/steps\": {\"get\": ");
    put_op(b, "Steps of the deployed pipeline", NULL,
           "\"type\": \"array\", \"items\": {\"type\": \"string\"}", false, NULL);
    sb_puts(b, "}, \"/api/step_groups\": {\"get\": ");
    put_op(b, "Step groups of the deployed pipeline (null when none)", NULL,
           "\"type\": \"object\", \"nullable\": true", false, NULL);
    sb_puts(b, "}, \"/health\": {\"get\": ");
    put_op(b, "Liveness", NULL, "\"type\": \"object\"", false, NULL);
    sb_puts(b, "}, \"/ready\": {\"get\": ");
    put_op(b, "Readiness: pipeline (KB, model) loaded and not draining; 503 otherwise", NULL,
           "\"type\": \"object\"", false, NULL);
    sb_puts(b, "}, \"/metrics\": {\"get\": ");
    put_op(b, "Prometheus metrics", NULL, "text/plain", false, NULL);
    sb_puts(b, "}, \"/api\": {\"get\": ");
    put_op(b, "Welcome to KAZU.", NULL, "\"type\": \"string\"", false, NULL);
    sb_puts(b, "}, \"/\": {\"get\": ");
    put_op(b, "The annotation web page", NULL, "text/html", false, NULL);
    sb_puts(b, "}}, \"components\": {\"schemas\": {");
    sb_puts(b, k_doc_schemas);
    sb_puts(b, "}");
    if (auth)
        sb_puts(b, ", \"securitySchemes\": {\"HTTPBearer\": {\"type\": \"http\", \"scheme\": \"bearer\"}}");
    sb_puts(b, "}}");
}
