#!/usr/bin/env bash
# Benchmarks of the Docker sandbox (not timed tests: they print figures and assert only
# that the work succeeded).
#   - overhead of one validation beyond the tests themselves, for a small project with a
#     warm image: create, copy the tree in, start, wait, collect, remove (command `true`);
#   - tar copy throughput of a generated 100 MB tree (tar only, then upload into a container);
#   - with the argument `images`: build time and size of the default language images
#     (SELFHEAL_BENCH_LANGS=python,go,rust,node,java; remove them first for a cold build).
# Needs the engine and selfheal-base:latest (.ci/images.sh). Prints lines starting BENCH.
set -euo pipefail
cd "$(dirname "$0")/.."
tests=(sandbox::bench_validation_overhead sandbox::bench_copy_throughput)
if [ "${1:-}" = images ]; then tests=(sandbox::bench_default_image_builds); fi
cargo test --test main -- --ignored --exact --nocapture --test-threads=1 "${tests[@]}" 2>&1 \
    | grep -oE '(BENCH|SKIP).*|test result.*'
