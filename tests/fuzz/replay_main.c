/* Replays a fuzz target's seed corpus (every file in the given directories or
 * the given files) when libFuzzer is not available, so each build runs them. */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int run_file(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) return 0;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *buf = malloc(n > 0 ? (size_t)n : 1);
    size_t got = n > 0 ? fread(buf, 1, (size_t)n, f) : 0;
    fclose(f);
    LLVMFuzzerTestOneInput(buf, got);
    /* Every prefix too: truncation is the commonest real-world damage. */
    for (size_t cut = 0; cut < got; cut += got / 16 + 1) LLVMFuzzerTestOneInput(buf, cut);
    free(buf);
    return 1;
}

int main(int argc, char **argv) {
    int n = 0;
    for (int i = 1; i < argc; i++) {
        struct stat st;
        if (stat(argv[i], &st) != 0) continue;
        if (S_ISDIR(st.st_mode)) {
            DIR *d = opendir(argv[i]);
            struct dirent *e;
            while (d && (e = readdir(d))) {
                if (e->d_name[0] == '.') continue;
                char p[4096];
                snprintf(p, sizeof p, "%s/%s", argv[i], e->d_name);
                n += run_file(p);
            }
            if (d) closedir(d);
        } else {
            n += run_file(argv[i]);
        }
    }
    printf("replayed %d inputs\n", n);
    return n > 0 ? 0 : 1;
}
