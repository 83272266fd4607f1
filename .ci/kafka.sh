#!/usr/bin/env bash
# The Kafka tests: `talon stream` against a real Kafka-protocol broker
# (nisshi) started by the tests on loopback. Installs nisshi into .tools/
# when it is not there yet (about 6 minutes on 2 cores), then runs the
# talon-stream tests and the CLI's stream tests with the `kafka` feature.
set -euo pipefail
cd "$(dirname "$0")/.."

export CARGO_TERM_COLOR=never
# Installed once per machine, outside the checkout, so a fresh clone (as CI
# makes) reuses it; TALON_TOOLS moves it.
tools="${TALON_TOOLS:-${XDG_CACHE_HOME:-$HOME/.cache}/talon-tools}"
nisshi="${NISSHI:-$tools/bin/nisshi}"
if [ ! -x "$nisshi" ]; then
  echo "kafka.sh: installing nisshi 0.8.1 into $tools" >&2
  CARGO_PROFILE_DEV_DEBUG=0 cargo install --debug --locked --ignore-rust-version \
    --no-default-features --features dynostore --root "$tools" nisshi@0.8.1
fi
export NISSHI="$nisshi"

# Debian's librdkafka is too old for this broker; rdkafka builds its bundled
# copy (configure + make, no cmake), which needs a C toolchain and OpenSSL's
# headers. Both come with this machine; say so plainly where they do not.
for tool in cc make pkg-config; do
  command -v "$tool" >/dev/null || { echo "kafka.sh: $tool is missing (apt-get install -y build-essential pkg-config)" >&2; exit 2; }
done
pkg-config --exists openssl || { echo "kafka.sh: OpenSSL headers missing (apt-get install -y libssl-dev)" >&2; exit 2; }

# The broker tests start brokers and worker processes; running them one
# at a time keeps two cores from starving the group's heartbeats.
cargo test --locked -p talon-stream -- --test-threads=1
# --nocapture: the cluster test prints how many duplicates arrived.
cargo test --locked -p talon-cli --features kafka --test stream -- --test-threads=1 --nocapture
