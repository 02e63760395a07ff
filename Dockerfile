# selfheal as a small container image, built from source in two stages: a Rust builder
# and a slim Debian runtime holding the binary, CA certificates and OpenSSL. Usable as a
# container action or on a laptop:
#
#   docker build -t selfheal .
#   docker run --rm -v "$PWD:/workspace" -e GH_TOKEN selfheal run
#
# Both bases are build arguments with the official images as defaults, so a machine that
# cannot pull can pass its own (tests/dockerfile.rs builds both locally):
#
#   docker build --build-arg RUST_IMAGE=my-rust --build-arg RUNTIME_IMAGE=my-debian .
#
# PROFILE picks the Cargo profile (release by default; the test uses dev to build faster).
# No BuildKit feature is used: the classic builder works too.
ARG RUST_IMAGE=rust:1-slim-bookworm
ARG RUNTIME_IMAGE=debian:bookworm-slim

FROM ${RUST_IMAGE} AS build
USER root
RUN apt-get update -q \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
      gcc libc6-dev make perl pkg-config libssl-dev ca-certificates \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
ARG PROFILE=release
# The dependencies first, in a layer of their own: editing the sources rebuilds only selfheal.
COPY Cargo.toml Cargo.lock ./
RUN mkdir -p src tests \
 && echo 'fn main() {}' > src/main.rs && touch src/lib.rs tests/main.rs \
 && cargo build --locked --profile "$PROFILE" \
 && rm -rf src tests
COPY src src
COPY prompts prompts
COPY self-heal.toml.example ./
# The stub build left fingerprints newer than the copied sources: touch them so cargo rebuilds.
RUN touch src/main.rs src/lib.rs \
 && mkdir -p tests && touch tests/main.rs \
 && cargo build --locked --profile "$PROFILE" --bin selfheal \
 && dir="$PROFILE" && if [ "$PROFILE" = dev ]; then dir=debug; fi \
 && install -D -m 0755 "target/$dir/selfheal" /out/selfheal \
 && /out/selfheal --version

FROM ${RUNTIME_IMAGE}
USER root
RUN apt-get update -q \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends ca-certificates libssl3 \
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin /var/log/apt /var/log/dpkg.log \
 && (id -u selfheal >/dev/null 2>&1 || useradd --create-home --uid 1000 --user-group --shell /bin/sh selfheal) \
 && printf '[safe]\n\tdirectory = /workspace\n' > /etc/gitconfig \
 && install -d -o 1000 -g 1000 /workspace
COPY --from=build /out/selfheal /usr/local/bin/selfheal
USER selfheal
WORKDIR /workspace
LABEL org.opencontainers.image.title=selfheal \
      org.opencontainers.image.description="Heals failed CI runs: root cause, validated fix, pull request." \
      org.opencontainers.image.source=https://github.com/selfheal/selfheal
ENTRYPOINT ["selfheal"]
