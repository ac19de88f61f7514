/* `kazu version`: the kazu-c version and the run-time versions of the
 * libraries it links (for bug reports). */
#include <jansson.h>
#include <libxml/xmlversion.h>
#include <libxml/parser.h>
#include <stdlib.h>
#include <utf8proc.h>
#include <yaml.h>
#include <zlib.h>
#include "cli.h"

const char cli_version_help[] =
    "Usage: kazu version\n"
    "\n"
    "Print the kazu-c version and the versions of jansson, libxml2, libyaml, zlib and\n"
    "utf8proc in use.\n";

int cmd_version(int argc, char **argv) {
    if (argc > 1 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        fputs(cli_version_help, stdout);
        return CLI_OK;
    }
    if (argc > 1) return cli_usage("version", "unexpected argument '%s'", argv[1]);
    /* libxml2 reports e.g. "20914" for 2.9.14. */
    long x = strtol(xmlParserVersion, NULL, 10);
    printf("kazu-c %s\n", kz_version());
    printf("jansson %s\n", jansson_version_str());
    printf("libxml2 %ld.%ld.%ld\n", x / 10000, x / 100 % 100, x % 100);
    printf("libyaml %s\n", yaml_get_version_string());
    printf("zlib %s\n", zlibVersion());
    printf("utf8proc %s\n", utf8proc_version());
    return CLI_OK;
}
