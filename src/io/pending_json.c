/* TEMPORARY: placeholders until the JSON formats land (replace this file). */
#include "io_int.h"
int kz__writer_init_kazu_json(kz_writer *w, kz_error *err) { (void)w; return kz_error_set(err, KZ_EFORMAT, "kazu-json writer not built"); }
int kz__reader_init_jsonl(kz_reader *r, kz_error *err) { (void)r; return kz_error_set(err, KZ_EFORMAT, "jsonl reader not built"); }
int kz__reader_init_bioc_json(kz_reader *r, kz_error *err) { (void)r; return kz_error_set(err, KZ_EFORMAT, "bioc-json reader not built"); }
int kz__writer_init_bioc_json(kz_writer *w, kz_error *err) { (void)w; return kz_error_set(err, KZ_EFORMAT, "bioc-json writer not built"); }
int kz__writer_init_label_studio(kz_writer *w, kz_error *err) { (void)w; return kz_error_set(err, KZ_EFORMAT, "label-studio writer not built"); }
int kz_doc_to_kazu_json(const kz_doc *doc, const kz_writer_params *params, char **out, size_t *out_len) { (void)doc; (void)params; (void)out; (void)out_len; return KZ_EFORMAT; }
int kz_doc_from_kazu_json(const char *json, size_t len, kz_doc **out, kz_error *err) { (void)json; (void)len; (void)out; return kz_error_set(err, KZ_EFORMAT, "not built"); }
