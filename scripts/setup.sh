#!/usr/bin/env bash
# Installs every Debian package the build, the tests and the benchmarks need. Idempotent:
# when everything is already installed it does nothing (no apt-get update, no network).
set -euo pipefail

PACKAGES=(
  # toolchain
  cmake ninja-build pkg-config ccache g++ git
  # clang for libFuzzer targets and its sanitizer runtimes
  clang libclang-rt-14-dev
  # test and benchmark frameworks
  libgtest-dev libgmock-dev libbenchmark-dev
  # libraries (see docs/architecture.md, "dependencies")
  libcli11-dev nlohmann-json3-dev libspdlog-dev libfmt-dev libsimdjson-dev libasio-dev
  libcpp-httplib-dev libre2-dev zlib1g-dev libdeflate-dev libssl-dev
  # JDBC connectors: SQLite, PostgreSQL (libpq), MySQL/MariaDB (Connector/C), IANA time zones
  libsqlite3-dev libpq-dev libmariadb-dev libabsl-dev
  # Kafka connectors: librdkafka (also its mock cluster for the tests) and kcat as an independent client
  librdkafka-dev kcat
  # database servers the JDBC and CDC tests start on private ports and data directories
  postgresql mariadb-server
  # used by test scripts
  curl procps openssl
  # the dashboard's browser test (headless, driven by playwright-core from npm)
  chromium
  # `make package` (CPack's DEB generator runs dpkg-shlibdeps for the package's Depends)
  dpkg-dev
  # the heap allocator every executable links (CMake option RMQC_ALLOCATOR, README "Building by hand")
  libmimalloc-dev
)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: all ${#PACKAGES[@]} packages present"
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  SUDO="sudo"
fi
echo "setup: installing ${missing[*]}"
$SUDO apt-get update -q
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
