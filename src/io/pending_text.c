/* TEMPORARY: placeholders until the text formats land (replace this file). */
#include "io_int.h"
int kz__reader_init_text(kz_reader *r, kz_error *err) { (void)r; return kz_error_set(err, KZ_EFORMAT, "text reader not built"); }
int kz__reader_init_pubtator(kz_reader *r, kz_error *err) { (void)r; return kz_error_set(err, KZ_EFORMAT, "pubtator reader not built"); }
int kz__writer_init_pubtator(kz_writer *w, kz_error *err) { (void)w; return kz_error_set(err, KZ_EFORMAT, "pubtator writer not built"); }
int kz__writer_init_brat(kz_writer *w, kz_error *err) { (void)w; return kz_error_set(err, KZ_EFORMAT, "brat writer not built"); }
int kz__writer_init_conll(kz_writer *w, kz_error *err) { (void)w; return kz_error_set(err, KZ_EFORMAT, "conll writer not built"); }
