/* SPDX-License-Identifier: MIT */
/* Static pages and vendored scripts (see assets.h). */
#include "http/assets.h"
#include "core/log.h"
#include "core/str.h"
#include "core/xalloc.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define ASSET_MAX (4u * 1024 * 1024)
#define LEAFLET   "/usr/share/javascript/leaflet"
#define CHARTJS   "/usr/share/javascript/chart.js"

static char assets_dir[PATH_MAX] = "assets";

static bool is_dir(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

void assets_init(void)
{
    const char *env = getenv("ICESHOP_ASSETS_DIR");
    if (env && *env) {
        str_copy(assets_dir, sizeof(assets_dir), env);
    } else {
        /* build/<flavour>/iceshop → the sources' assets/ two levels up */
        char exe[PATH_MAX];
        ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
        if (n > 0) {
            exe[n] = '\0';
            char *slash = strrchr(exe, '/');
            if (slash) {
                *slash = '\0';
                char guess[PATH_MAX];
                int w = snprintf(guess, sizeof(guess), "%s/../../assets", exe);
                if (w > 0 && (size_t)w < sizeof(guess) && is_dir(guess))
                    str_copy(assets_dir, sizeof(assets_dir), guess);
            }
        }
    }
    if (!is_dir(assets_dir))
        log_warn("msg=\"web pages unavailable: no assets directory\" dir=\"%s\"", assets_dir);
}

static const char *content_type(const char *name)
{
    static const struct {
        const char *ext, *type;
    } types[] = {
        {".html", "text/html; charset=utf-8"},
        {".js", "text/javascript; charset=utf-8"},
        {".mjs", "text/javascript; charset=utf-8"},
        {".css", "text/css; charset=utf-8"},
        {".json", "application/json"},
        {".png", "image/png"},
        {".svg", "image/svg+xml"},
        {".ico", "image/x-icon"},
        {".webmanifest", "application/manifest+json"},
    };
    const char *dot = strrchr(name, '.');
    for (size_t i = 0; dot && i < sizeof(types) / sizeof(types[0]); i++) {
        if (strcmp(dot, types[i].ext) == 0)
            return types[i].type;
    }
    return "application/octet-stream";
}

static bool safe_name(const char *name)
{
    if (!name || !*name || name[0] == '.' || strlen(name) > 128)
        return false;
    for (const char *p = name; *p; p++) {
        char c = *p;
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-'))
            return false;
    }
    return true;
}

static int serve(struct http_req *r, const char *dir, const char *name, struct err *e)
{
    if (!safe_name(name))
        return err_set(e, ERR_NOT_FOUND, "no such file");
    char path[PATH_MAX];
    int w = snprintf(path, sizeof(path), "%s/%s", dir, name);
    if (w < 0 || (size_t)w >= sizeof(path))
        return err_set(e, ERR_NOT_FOUND, "no such file");
    FILE *f = fopen(path, "rb");
    if (!f)
        return err_set(e, ERR_NOT_FOUND, "no such file: %s", name);
    struct buf b;
    buf_init(&b, ASSET_MAX);
    char chunk[16384];
    size_t got;
    int rc = 0;
    while (!rc && (got = fread(chunk, 1, sizeof(chunk), f)) > 0)
        rc = buf_append(&b, chunk, got);
    fclose(f);
    if (rc) {
        buf_release(&b);
        return err_set(e, ERR_INTERNAL, "asset %s is larger than %u bytes", name, ASSET_MAX);
    }
    http_reply_bytes(r, 200, content_type(name), buf_str(&b), b.len);
    buf_release(&b);
    /* pages change with deployments; vendored libraries almost never */
    http_reply_header(r, "Cache-Control",
                      strstr(content_type(name), "html") ? "no-cache" : "public, max-age=300");
    return 0;
}

int h_page_root(struct http_req *r, struct err *e)
{
    (void)e;
    http_reply_header(r, "Location", "/admin");
    return http_reply_bytes(r, 302, "text/plain", "see /admin\n", 11);
}

int h_page_admin(struct http_req *r, struct err *e)
{
    return serve(r, assets_dir, "admin.html", e);
}

int h_page_docs(struct http_req *r, struct err *e)
{
    return serve(r, assets_dir, "docs.html", e);
}

int h_page_openapi(struct http_req *r, struct err *e)
{
    return serve(r, assets_dir, "openapi.json", e);
}

/* The signed-link pages check their token through the API; the page itself is static. */
int h_page_window(struct http_req *r, struct err *e)
{
    return serve(r, assets_dir, "window.html", e);
}

int h_page_seller(struct http_req *r, struct err *e)
{
    return serve(r, assets_dir, "seller.html", e);
}

int h_asset(struct http_req *r, struct err *e)
{
    return serve(r, assets_dir, http_req_param(r, "name"), e);
}

int h_vendor_leaflet(struct http_req *r, struct err *e)
{
    return serve(r, LEAFLET, http_req_param(r, "name"), e);
}

int h_vendor_leaflet_image(struct http_req *r, struct err *e)
{
    return serve(r, LEAFLET "/images", http_req_param(r, "name"), e);
}

int h_vendor_chartjs(struct http_req *r, struct err *e)
{
    return serve(r, CHARTJS, http_req_param(r, "name"), e);
}
