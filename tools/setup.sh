#!/usr/bin/env bash
# Installs what building and testing ThingTank needs on Debian bookworm, only
# what is missing: Debian packages (compilers, gRPC, RocksDB, ...) and the npm
# tools (buf, google-proto-files). Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(
  build-essential cmake ninja-build pkg-config git
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler
  librocksdb-dev prometheus-cpp-dev libabsl-dev libgtest-dev libgmock-dev libyaml-cpp-dev
  libboost-dev libspdlog-dev libssl-dev libjemalloc-dev nlohmann-json3-dev
  jq prometheus python3-matplotlib
  python3 python3-grpcio python3-protobuf
  python3-autobahn python3-twisted python3-msgpack python3-cbor2
  nodejs npm
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# nodejs/npm may come from elsewhere than Debian (e.g. nvm); accept any working npm.
if command -v npm >/dev/null 2>&1; then
  missing=("${missing[@]/nodejs}"); missing=("${missing[@]/npm}")
fi
missing=($(printf '%s\n' "${missing[@]}" | grep -v '^$' || true))
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
if [ ! -x node_modules/.bin/buf ] || [ ! -f node_modules/google-proto-files/google/rpc/status.proto ] \
   || [ ! -f node_modules/autobahn/package.json ]; then
  # Versions are pinned in package.json. No lock file: npm 11 rejects `npm ci`
  # with buf's per-platform optional packages in the lock ("Missing: ...").
  echo "setup: npm install (buf, google-proto-files, autobahn)"
  npm install --no-package-lock --no-audit --no-fund --loglevel=error >/dev/null
fi
deploy/k8s/tools.sh >/dev/null  # helm, kubectl and the Kubernetes schemas for the chart checks
echo "setup: ok"
