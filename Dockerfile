# selfheal in a container, for teams that prefer `docker run`.
#
# Nothing is pulled: BASE is the Debian image that `.ci/images.sh` builds with debootstrap
# and `docker import`. Rust crates cannot be fetched inside an offline build and Debian's
# rustc is older than this crate's edition, so the binary is built on the host and copied in:
#
#   cargo build --release --locked
#   sudo .ci/images.sh                       # once: selfheal-base:latest
#   docker build -t selfheal .               # BIN defaults to target/release/selfheal
#   docker run --rm -v "$PWD:/workspace" -e GH_TOKEN selfheal run
#
# (A .dockerignore keeps the build context small; only the binary is needed.)
ARG BASE=selfheal-base:latest
FROM ${BASE}
ARG BIN=target/release/selfheal
USER root
RUN apt-get update -q \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends git ca-certificates \
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin /var/log/apt /var/log/dpkg.log \
 && git config --system --add safe.directory /workspace
COPY ${BIN} /usr/local/bin/selfheal
USER selfheal
WORKDIR /workspace
LABEL org.opencontainers.image.title=selfheal
ENTRYPOINT ["selfheal"]
