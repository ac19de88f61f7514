/* TEMPORARY: placeholders until the XML formats land (replace this file). */
#include "io_int.h"
int kz__reader_init_bioc_xml(kz_reader *r, kz_error *err) { (void)r; return kz_error_set(err, KZ_EFORMAT, "bioc-xml reader not built"); }
int kz__writer_init_bioc_xml(kz_writer *w, kz_error *err) { (void)w; return kz_error_set(err, KZ_EFORMAT, "bioc-xml writer not built"); }
int kz__reader_init_pubmed_xml(kz_reader *r, kz_error *err) { (void)r; return kz_error_set(err, KZ_EFORMAT, "pubmed-xml reader not built"); }
