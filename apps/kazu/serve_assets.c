/* The web page's files, embedded at build time (web/embed.cmake generates the
 * byte arrays), looked up by URL path. */
#include <string.h>
#include "serve.h"

extern const unsigned char kz_web_index_html[], kz_web_app_js[], kz_web_style_css[];
extern const size_t kz_web_index_html_len, kz_web_app_js_len, kz_web_style_css_len;

const serve_asset *serve_asset_find(const char *url) {
    static serve_asset assets[4];
    static const char *const paths[] = {"/", "/index.html", "/app.js", "/style.css"};
    static const char *const types[] = {"text/html; charset=utf-8", "text/html; charset=utf-8",
                                        "text/javascript; charset=utf-8", "text/css; charset=utf-8"};
    for (size_t i = 0; i < 4; i++) {
        if (strcmp(url, paths[i])) continue;
        const unsigned char *d = i < 2 ? kz_web_index_html : i == 2 ? kz_web_app_js : kz_web_style_css;
        size_t n = i < 2 ? kz_web_index_html_len : i == 2 ? kz_web_app_js_len : kz_web_style_css_len;
        assets[i] = (serve_asset){paths[i], types[i], d, n};
        return &assets[i];
    }
    return NULL;
}
