# rmq-connect in a container: Debian bookworm, two stages (docs/operations.md#docker).
#
#   docker build -t rmq-connect .
#   docker run --rm -p 8082:8082 -v rmqc-state:/var/lib/rmq-connect rmq-connect
#
# The build stage installs the build dependencies with scripts/setup.sh, builds the release
# binary (no tests, no benchmarks) and the Debian package of `make package`; the runtime stage
# installs that package, so it holds the binary, the configs under /etc/rmq-connect and the shared
# libraries the package depends on, and nothing of the toolchain.
# The default command is a standalone worker with the embedded broker and name server, its REST
# API on 0.0.0.0:8082 and its state in the volume /var/lib/rmq-connect. Any other subcommand:
#   docker run --rm rmq-connect admin topic list -n host:9876

FROM debian:bookworm AS build
WORKDIR /src
COPY scripts/setup.sh scripts/setup.sh
RUN bash scripts/setup.sh && rm -rf /var/lib/apt/lists/*
COPY . .
RUN cmake --preset release -DRMQC_BUILD_TESTS=OFF -DRMQC_BUILD_BENCH=OFF \
 && cmake --build --preset release --target rmq-connect-runtime \
 && cpack --config build/release/CPackConfig.cmake -B /out \
 && mv /out/rmq-connect_*.deb /out/rmq-connect.deb

FROM debian:bookworm-slim AS runtime
COPY --from=build /out/rmq-connect.deb /tmp/rmq-connect.deb
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends /tmp/rmq-connect.deb \
 && rm -rf /var/lib/apt/lists/* /tmp/rmq-connect.deb \
 && sed -i 's/^httpHost=.*/httpHost=0.0.0.0/' /etc/rmq-connect/standalone.properties
USER rmq-connect
WORKDIR /var/lib/rmq-connect
VOLUME ["/var/lib/rmq-connect"]
# REST API; name server, broker and its VIP channel (for `rmq-connect broker --host <address>`:
# the standalone worker's embedded broker listens on the container's loopback only).
EXPOSE 8082 9876 10911 10909
ENTRYPOINT ["/usr/bin/rmq-connect"]
CMD ["standalone", "/etc/rmq-connect/standalone.properties"]
