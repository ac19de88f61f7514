/* kazu CLI entry point (placeholder until the CLI lands). */
#include <stdio.h>
#include "kazu/kazu.h"
int main(void) { printf("kazu %s\n", kz_version()); return 0; }
