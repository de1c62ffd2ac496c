# TokenBridge and the legacy-topdesk simulator in one image.
# Build stage: the Swift toolchain image. Runtime stage: slim Debian with libssl and libsqlite;
# the Swift runtime is linked into the binaries (--static-swift-stdlib), so no toolchain
# libraries are copied over.
#   docker build -t tokenbridge .

FROM swift:6.0-bookworm AS build
RUN apt-get update \
    && apt-get install -y --no-install-recommends libssl-dev libsqlite3-dev \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
# The manifest names every target, tests included, so their folders must be present to build.
COPY Package.swift ./
COPY Sources ./Sources
COPY Tests ./Tests
RUN swift build -c release --static-swift-stdlib --product tokenbridge \
    && swift build -c release --static-swift-stdlib --product legacy-topdesk \
    && mkdir -p /out \
    && cp "$(swift build -c release --show-bin-path)/tokenbridge" /out/ \
    && cp "$(swift build -c release --show-bin-path)/legacy-topdesk" /out/

FROM debian:bookworm-slim
# libssl3 (TLS, hashing) and libsqlite3-0 (credential store) are linked dynamically from Debian;
# libstdc++6 and libgcc-s1 carry the C++ runtime the Swift runtime uses.
RUN apt-get update \
    && apt-get install -y --no-install-recommends libssl3 libsqlite3-0 libstdc++6 libgcc-s1 ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --user-group --home-dir /var/lib/tokenbridge --create-home tokenbridge \
    && chmod 700 /var/lib/tokenbridge
COPY --from=build /out/tokenbridge /out/legacy-topdesk /usr/local/bin/
USER tokenbridge
WORKDIR /var/lib/tokenbridge
# The credential store lives here; mount a volume so it outlives the container.
VOLUME ["/var/lib/tokenbridge"]
EXPOSE 8443
# tokenbridge handles SIGTERM (drain, log tokens out, exit 0) and SIGHUP (reload) itself, also as
# PID 1. Give it shutdown.grace plus a few seconds: docker stop -t 40, compose stop_grace_period.
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/tokenbridge"]
CMD ["serve", "--config", "/etc/tokenbridge/tokenbridge.json5"]
