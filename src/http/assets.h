/* SPDX-License-Identifier: MIT */
/*
 * Static web files: the pages and their scripts from the project's assets/ directory, and
 * Leaflet and Chart.js from Debian's libjs-leaflet and libjs-chart.js. Files are read when asked
 * for (the directory is ICESHOP_ASSETS_DIR, else assets/ beside the sources the binary was built
 * from, else ./assets) with a size cap, served with their content type and a short cache time.
 * Names are one path segment of [A-Za-z0-9._-] not starting with '.'.
 * Tests: tests/integration/0008-pages.c and the browser tests in tests/e2e/.
 */
#ifndef ICESHOP_HTTP_ASSETS_H
#define ICESHOP_HTTP_ASSETS_H

#include "http/request.h"

/* Resolve the assets directory once at start-up (logs where it is). */
void assets_init(void);

/* Handlers for the route table. */
int h_page_root(struct http_req *r, struct err *e);
int h_page_admin(struct http_req *r, struct err *e);
int h_page_docs(struct http_req *r, struct err *e);
int h_page_openapi(struct http_req *r, struct err *e);
int h_page_window(struct http_req *r, struct err *e);
int h_page_seller(struct http_req *r, struct err *e);
int h_asset(struct http_req *r, struct err *e);
int h_vendor_leaflet(struct http_req *r, struct err *e);
int h_vendor_leaflet_image(struct http_req *r, struct err *e);
int h_vendor_chartjs(struct http_req *r, struct err *e);

#endif
