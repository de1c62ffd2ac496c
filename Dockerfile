# TokenBridge and the legacy-topdesk simulator in one image.
# Build stage: the Swift toolchain image; runtime stage: slim Debian with libssl and libsqlite.

FROM swift:6.0-bookworm AS build
RUN apt-get update \
    && apt-get install -y --no-install-recommends libssl-dev libsqlite3-dev \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY Package.swift ./
COPY Sources ./Sources
COPY Tests ./Tests
RUN swift build -c release --product tokenbridge \
    && swift build -c release --product legacy-topdesk \
    && mkdir -p /out \
    && cp "$(swift build -c release --show-bin-path)/tokenbridge" /out/ \
    && cp "$(swift build -c release --show-bin-path)/legacy-topdesk" /out/

FROM debian:bookworm-slim
RUN apt-get update \
    && apt-get install -y --no-install-recommends libssl3 libsqlite3-0 ca-certificates openssl \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --home-dir /var/lib/tokenbridge --create-home tokenbridge
# The Swift runtime libraries the binaries link against.
COPY --from=build /usr/lib/swift/linux/*.so /usr/lib/swift/linux/
RUN echo /usr/lib/swift/linux > /etc/ld.so.conf.d/swift.conf && ldconfig
COPY --from=build /out/tokenbridge /out/legacy-topdesk /usr/local/bin/
COPY certs/make-dev-certs.sh /usr/local/share/tokenbridge/make-dev-certs.sh
USER tokenbridge
WORKDIR /var/lib/tokenbridge
EXPOSE 8443
ENTRYPOINT ["/usr/local/bin/tokenbridge"]
CMD ["serve", "--config", "/etc/tokenbridge/tokenbridge.json5"]
