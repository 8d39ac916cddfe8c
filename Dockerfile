# SPDX-License-Identifier: MIT
# Iceshop's container image: built in a Debian 12 stage with the -dev packages, run from Debian 12
# slim with only the runtime libraries, as an unprivileged user, state in the /var/lib/iceshop
# volume. Usage: docs/DEPLOY.md. Checked (structure) by tests/unit/platform/test_deploy.c.

FROM debian:12-slim AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends gcc make pkg-config libc6-dev \
      libmicrohttpd-dev libjansson-dev libsqlite3-dev libpq-dev libcurl4-openssl-dev \
      libsodium-dev libutf8proc-dev libstemmer-dev zlib1g-dev libjs-leaflet libjs-chart.js \
      libcairo2-dev libpango1.0-dev libqrencode-dev fonts-dejavu-core \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY Makefile ./
COPY scripts ./scripts
COPY src ./src
COPY data ./data
COPY assets ./assets
RUN make FLAVOR=release -j"$(nproc)" build/release/iceshop

FROM debian:12-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends libmicrohttpd12 libjansson4 libsqlite3-0 libpq5 \
      libcurl4 libsodium23 libutf8proc2 libstemmer0d zlib1g libcairo2 libpango-1.0-0 \
      libpangocairo-1.0-0 libharfbuzz0b libglib2.0-0 libqrencode4 fonts-dejavu-core \
      ca-certificates tzdata \
      libjs-leaflet libjs-chart.js \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 iceshop \
 && useradd --system --uid 10001 --gid iceshop --home-dir /var/lib/iceshop --create-home \
      --shell /usr/sbin/nologin iceshop \
 && chmod 0700 /var/lib/iceshop
COPY --from=build /src/build/release/iceshop /usr/local/bin/iceshop
COPY --from=build /src/assets /usr/local/share/iceshop/assets
ENV ICESHOP_LISTEN=[::]:8080 \
    ICESHOP_DATABASE_URL=sqlite:///var/lib/iceshop/iceshop.db \
    ICESHOP_ASSETS_DIR=/usr/local/share/iceshop/assets
USER 10001:10001
WORKDIR /var/lib/iceshop
VOLUME ["/var/lib/iceshop"]
EXPOSE 8080
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/iceshop"]
CMD ["serve"]
