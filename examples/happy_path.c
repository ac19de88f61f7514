/* The happy path from kazu.h (placeholder until the pipeline lands). */
#include <stdio.h>
#include "kazu/kazu.h"
int main(void) { kz_doc *d = kz_doc_new("x", 1); int ok = d != NULL; kz_doc_free(d); return ok ? 0 : 1; }
