#!/usr/bin/env bash
# Builds ThingTank's container image with no Docker engine and no registry:
# buildah (--isolation chroot) or podman, on a Debian bookworm base made here
# with `debootstrap --variant=minbase` from Debian's mirror, saved as an OCI
# archive (its `oci-archive:` path is the last line printed).
#
#   deploy/image/build.sh                      full multi-stage build: the release
#                                              binary compiled inside the image
#   deploy/image/build.sh --from-build DIR     only the runtime stage, from the binary
#                                              a build already made (DIR = a build
#                                              directory, e.g. build/release, or the
#                                              binary itself)
# Options:
#   --work-dir DIR   caches and outputs (default build/image): the base root
#                    filesystem (made once, reused while suite, mirror and recipe
#                    stay the same), the build context, the archive
#   --output FILE    the OCI archive (default WORK/thingtank-VERSION.oci.tar)
#   --name NAME      image name in the local containers storage (default localhost/thingtank)
#   --tool T         buildah (default when installed) or podman
#   --mirror URL     Debian mirror (default http://deb.debian.org/debian, or
#                    $THINGTANK_DEBIAN_MIRROR); security: $THINGTANK_DEBIAN_SECURITY_MIRROR
#   --rebuild-base   debootstrap again even if the cached base matches
#   --ca-bundle FILE CA certificates (PEM) for npm in the build stage, as the
#                    build secret ca-bundle (default: this machine's
#                    /etc/ssl/certs/ca-certificates.crt, which trusts what this
#                    machine trusts, e.g. a TLS-intercepting proxy; "none": no secret)
#   --unpack DIR     also unpack the archive into an OCI runtime bundle in DIR
#                    (DIR/rootfs, DIR/config.json; umoci), for running it without
#                    a container runtime (tests/deploy/test_image.py)
#
# Needs root (debootstrap, buildah); runs itself with sudo otherwise. Installs
# what is missing with apt-get: debootstrap, buildah (or podman), binutils
# (--from-build strips the binary's debug sections), umoci (--unpack).
# Docker users build the same Containerfile: see deploy/image/README.md.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)

usage() { sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "${BASH_SOURCE[0]}"; }
log() { printf 'build.sh: %s\n' "$*" >&2; }
die() { printf 'build.sh: error: %s\n' "$*" >&2; exit 1; }

if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null 2>&1 || die "needs root (debootstrap, buildah --isolation chroot) and there is no sudo"
  exec sudo -E "${BASH_SOURCE[0]}" "$@"
fi

suite=bookworm
# Bump when the way the base is made changes: the cached base is made again.
base_recipe=1
mirror=${THINGTANK_DEBIAN_MIRROR:-http://deb.debian.org/debian}
security_mirror=${THINGTANK_DEBIAN_SECURITY_MIRROR:-http://deb.debian.org/debian-security}
from_build="" work="$repo/build/image" output="" name=localhost/thingtank tool="" unpack="" rebuild_base=0
ca_bundle=""   # "": the machine's bundle when there is one

while [ $# -gt 0 ]; do
  case "$1" in
    --from-build) from_build=${2:?--from-build needs a directory or binary}; shift 2 ;;
    --from-build=*) from_build=${1#*=}; shift ;;
    --work-dir) work=${2:?--work-dir needs a directory}; shift 2 ;;
    --work-dir=*) work=${1#*=}; shift ;;
    --output) output=${2:?--output needs a file}; shift 2 ;;
    --output=*) output=${1#*=}; shift ;;
    --name) name=${2:?--name needs a name}; shift 2 ;;
    --name=*) name=${1#*=}; shift ;;
    --tool) tool=${2:?--tool needs buildah or podman}; shift 2 ;;
    --tool=*) tool=${1#*=}; shift ;;
    --mirror) mirror=${2:?--mirror needs a URL}; shift 2 ;;
    --mirror=*) mirror=${1#*=}; shift ;;
    --unpack) unpack=${2:?--unpack needs a directory}; shift 2 ;;
    --unpack=*) unpack=${1#*=}; shift ;;
    --rebuild-base) rebuild_base=1; shift ;;
    --ca-bundle) ca_bundle=${2:?--ca-bundle needs a file or none}; shift 2 ;;
    --ca-bundle=*) ca_bundle=${1#*=}; shift ;;
    -h|--help) usage; exit 0 ;;
    *) usage >&2; die "unknown argument: $1" ;;
  esac
done
case "$tool" in ""|buildah|podman) ;; *) die "--tool: \"$tool\" is not buildah or podman" ;; esac
mkdir -p "$work"
work=$(cd "$work" && pwd)
[ -z "$unpack" ] || unpack=$(mkdir -p "$unpack" && cd "$unpack" && pwd)

started=$SECONDS
step_started=$SECONDS
step() { log "[$((SECONDS - started)) s] $*"; step_started=$SECONDS; }
done_step() { log "  ... $((SECONDS - step_started)) s"; }

# ---------------------------------------------------------------- tools
command -v apt-get >/dev/null 2>&1 && command -v dpkg >/dev/null 2>&1 \
  || die "needs a Debian system (apt-get, dpkg): debootstrap makes the base from Debian's packages"
[ -n "$tool" ] || { command -v buildah >/dev/null 2>&1 && tool=buildah; } \
  || { command -v podman >/dev/null 2>&1 && tool=podman; } || tool=buildah
missing=()
command -v debootstrap >/dev/null 2>&1 || missing+=(debootstrap)
command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
[ -z "$from_build" ] || command -v objcopy >/dev/null 2>&1 || missing+=(binutils)
[ -z "$unpack" ] || command -v umoci >/dev/null 2>&1 || missing+=(umoci)
if [ ${#missing[@]} -gt 0 ]; then
  step "installing ${missing[*]} (apt-get)"
  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"; } \
    >"$work/apt-get.log" 2>&1 || { tail -n 20 "$work/apt-get.log" >&2; die "could not install ${missing[*]} (log: $work/apt-get.log)"; }
  for t in debootstrap "$tool"; do command -v "$t" >/dev/null 2>&1 || die "$t still missing after apt-get install"; done
  done_step
fi

# One build per work directory at a time.
exec 9>"$work/.lock"
flock 9

# Containers this script made and has not committed yet: removed at exit.
own_containers=()
cleanup() {
  local c
  for c in "${own_containers[@]}"; do buildah rm "$c" >/dev/null 2>&1 || true; done
}
trap cleanup EXIT

# Removes a directory this script made, after unmounting whatever a failed
# debootstrap left mounted below it (proc, sys), never crossing into a mount.
remove_tree() {
  local dir=$1 m
  [ -e "$dir" ] || return 0
  for m in $(findmnt -rn -o TARGET | grep -F "$dir/" | sort -r); do umount -l "$m" || true; done
  rm -rf --one-file-system "$dir"
}

# ---------------------------------------------------------------- base
# debootstrap minbase, trimmed as debian:bookworm-slim is (no documentation,
# manual pages or translations; no apt lists or cached .debs), with the apt
# sources of the official image (bookworm, -updates, -security). One tar, cached.
arch=$(dpkg --print-architecture)
base_key="suite=$suite variant=minbase arch=$arch mirror=$mirror security=$security_mirror recipe=$base_recipe"
base_dir="$work/base"

slim_rootfs() {
  local r=$1 d
  [ -n "$r" ] && [ -d "$r/etc" ] || die "slim_rootfs: $r is not a root filesystem"
  rm -f "$r/etc/resolv.conf" "$r/etc/hostname"   # the host's; container runtimes provide them
  find "$r/dev" -mindepth 1 -delete               # device nodes too (and rootless runtimes cannot unpack them)
  rm -f "$r/etc/apt/sources.list"
  cat >"$r/etc/apt/sources.list.d/debian.sources" <<EOF
Types: deb
URIs: $mirror
Suites: $suite $suite-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: $security_mirror
Suites: $suite-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
  cat >"$r/etc/dpkg/dpkg.cfg.d/thingtank-slim" <<'EOF'
# As in debian:*-slim (deploy/image/build.sh): no documentation, manual pages
# or translations in the image; copyright files stay.
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/groff/*
path-exclude /usr/share/info/*
path-exclude /usr/share/lintian/*
path-exclude /usr/share/linda/*
path-exclude /usr/share/locale/*
EOF
  cat >"$r/etc/apt/apt.conf.d/thingtank-slim" <<'EOF'
// deploy/image/build.sh: no translations, no cached packages in image layers.
Acquire::Languages "none";
APT::Install-Recommends "false";
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
EOF
  find "$r/usr/share/doc" -mindepth 1 ! -type d ! -name copyright -delete
  find "$r/usr/share/doc" -mindepth 1 -type d -empty -delete
  for d in man groff info lintian linda locale; do
    [ ! -d "$r/usr/share/$d" ] || find "$r/usr/share/$d" -mindepth 1 -delete
  done
  find "$r/var/lib/apt/lists" "$r/var/cache/apt" -type f -delete
  find "$r/var/log" -type f \( -name '*.log' -o -name 'bootstrap.log' \) -delete
}

make_base() {
  local tmp="$work/base.tmp"
  remove_tree "$tmp"
  mkdir -p "$tmp"
  step "debootstrap --variant=minbase $suite from $mirror (once; cached in $base_dir)"
  if ! debootstrap --variant=minbase --arch="$arch" "$suite" "$tmp/rootfs" "$mirror" >"$tmp/debootstrap.log" 2>&1; then
    tail -n 30 "$tmp/debootstrap.log" >&2
    cp "$tmp/debootstrap.log" "$work/debootstrap-failed.log" 2>/dev/null || true
    remove_tree "$tmp"
    die "debootstrap failed (log: $work/debootstrap-failed.log)"
  fi
  done_step
  step "trimming the root filesystem (as bookworm-slim) and packing it"
  slim_rootfs "$tmp/rootfs"
  tar --numeric-owner --xattrs --xattrs-include='*' -C "$tmp/rootfs" -cf "$tmp/rootfs.tar" .
  sha256sum "$tmp/rootfs.tar" | cut -d' ' -f1 >"$tmp/rootfs.sha256"
  du -sh "$tmp/rootfs" | cut -f1 >"$tmp/rootfs.size"
  rm -rf --one-file-system "$tmp/rootfs"
  echo "$base_key" >"$tmp/key"
  remove_tree "$base_dir"
  mv "$tmp" "$base_dir"
  done_step
}

if [ "$rebuild_base" = 1 ] || [ ! -f "$base_dir/rootfs.tar" ] || [ ! -f "$base_dir/rootfs.sha256" ] \
   || [ "$(cat "$base_dir/key" 2>/dev/null)" != "$base_key" ]; then
  make_base
else
  log "base root filesystem: cached ($base_dir, $(cat "$base_dir/rootfs.size" 2>/dev/null || echo '?'))"
fi
base_sum=$(cat "$base_dir/rootfs.sha256")

# The base as a local image, named so that it never shadows a registry's, and
# by its content: work directories with bases of their own do not take the name
# from each other (and with it the cached layers built on it).
base_image="localhost/thingtank-base:$suite-${base_sum:0:12}"
image_label() {  # image label -> value ("" when no such image or label)
  if [ "$tool" = podman ]; then
    podman image inspect --format "{{index .Labels \"$2\"}}" "$1" 2>/dev/null || true
  else
    buildah inspect --type image --format "{{index .OCIv1.Config.Labels \"$2\"}}" "$1" 2>/dev/null || true
  fi
}
if [ "$(image_label "$base_image" io.thingtank.base.sha256)" != "$base_sum" ]; then
  step "importing the base root filesystem as $base_image ($tool)"
  base_labels=(--label "io.thingtank.base.sha256=$base_sum"
               --label "io.thingtank.base.recipe=debootstrap --variant=minbase $suite $mirror (deploy/image/build.sh, recipe $base_recipe)")
  if [ "$tool" = podman ]; then
    podman import -q --change "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" \
      --change 'CMD ["bash"]' \
      --change "LABEL io.thingtank.base.sha256=$base_sum" \
      "$base_dir/rootfs.tar" "$base_image" >/dev/null
  else
    ctr=$(buildah from --name "thingtank-base-$$" scratch)
    own_containers+=("$ctr")
    buildah add -q "$ctr" "$base_dir/rootfs.tar" / >/dev/null
    buildah config --os linux --arch "$arch" \
      --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
      --cmd bash "${base_labels[@]}" "$ctr"
    buildah commit -q --rm "$ctr" "$base_image" >/dev/null
    own_containers=()
  fi
  done_step
else
  log "base image: $base_image (up to date)"
fi

# ---------------------------------------------------------------- image
revision=$(git -C "$repo" rev-parse HEAD 2>/dev/null || echo unknown)
if [ "$revision" != unknown ] && [ -n "$(git -C "$repo" status --porcelain --untracked-files=no 2>/dev/null)" ]; then
  revision="$revision-dirty"
fi
build_args=(--build-arg "BUILD_BASE=$base_image" --build-arg "RUNTIME_BASE=$base_image"
            --build-arg "REVISION=$revision")
if [ -n "$from_build" ]; then
  if [ -d "$from_build" ]; then bin="$from_build/tools/thingtank/thingtank"; else bin=$from_build; fi
  [ -x "$bin" ] || die "--from-build: no thingtank binary at $bin (build it: cmake --build --preset release --target thingtank)"
  step "staging $bin (debug sections stripped) and finding its runtime packages (ldd, dpkg -S)"
  context="$work/context"
  remove_tree "$context"
  mkdir -p "$context"
  objcopy --strip-debug "$bin" "$context/thingtank"
  version=$("$context/thingtank" version | awk '{print $2}')
  [ -n "$version" ] || die "$bin version printed no version"
  packages=$("$here/runtime-packages.sh" "$context/thingtank" | tr '\n' ' ')
  log "  runtime packages: $packages"
  created=$(date -u -r "$bin" +%Y-%m-%dT%H:%M:%SZ)
  build_args+=(--target prebuilt --build-arg "RUNTIME_PACKAGES=${packages% }")
  ignore=()
  done_step
else
  context=$repo
  version=$(sed -n 's/^project(thingtank VERSION \([0-9.]*\).*/\1/p' "$repo/CMakeLists.txt")
  [ -n "$version" ] || die "no project(thingtank VERSION ...) in $repo/CMakeLists.txt"
  created=$(date -u +%Y-%m-%dT%H:%M:%SZ)
  ignore=(--ignorefile "$here/Containerfile.dockerignore")
  if [ -z "$ca_bundle" ] && [ -s /etc/ssl/certs/ca-certificates.crt ]; then
    ca_bundle=/etc/ssl/certs/ca-certificates.crt
  fi
  if [ -n "$ca_bundle" ] && [ "$ca_bundle" != none ]; then
    [ -s "$ca_bundle" ] || die "--ca-bundle: no certificates in $ca_bundle (or give --ca-bundle none)"
    build_args+=(--secret "id=ca-bundle,src=$ca_bundle")
  fi
  log "full build: the release binary is compiled inside the image (about 20 minutes on 2 cores)"
fi
build_args+=(--build-arg "VERSION=$version" --build-arg "CREATED=$created")
image="$name:$version"

if [ -n "$from_build" ]; then what="the runtime stage (prebuilt) from $bin"; else what="multi-stage, target runtime"; fi
step "$tool build $image: $what"
previous=$("$tool" images -q --no-trunc "$image" 2>/dev/null | head -n1 || true)
"$tool" build --isolation chroot --pull=never --layers -f "$here/Containerfile" \
  "${ignore[@]}" "${build_args[@]}" -t "$image" "$context" >&2
current=$("$tool" images -q --no-trunc "$image" | head -n1)
# The image this name had before (another binary): removed with its own layers
# (the cached layers still in use stay), so repeated builds do not pile up.
if [ -n "$previous" ] && [ "$previous" != "$current" ]; then
  "$tool" rmi "$previous" >/dev/null 2>&1 || true
fi
done_step

out=${output:-$work/thingtank-$version.oci.tar}
mkdir -p "$(dirname "$out")"
out=$(cd "$(dirname "$out")" && pwd)/$(basename "$out")
if [ -f "$out" ] && [ "$(cat "$out.image-id" 2>/dev/null)" = "$current" ]; then
  log "OCI archive: $out (of this image already)"
else
  step "saving $image as an OCI archive"
  rm -f "$out.tmp" "$out.image-id"
  "$tool" push -q "$image" "oci-archive:$out.tmp:$image" >/dev/null 2>&1 \
    || "$tool" push "$image" "oci-archive:$out.tmp:$image" >&2
  mv "$out.tmp" "$out"
  echo "$current" >"$out.image-id"
  done_step
fi

if [ -n "$unpack" ]; then
  step "unpacking the archive into an OCI bundle ($unpack, umoci)"
  layout="$work/layout"
  remove_tree "$layout"
  remove_tree "$unpack"
  mkdir -p "$layout"
  tar -xf "$out" -C "$layout"
  umoci unpack --image "$layout:$image" "$unpack" >/dev/null
  remove_tree "$layout"
  log "  rootfs: $(du -sh --one-file-system "$unpack/rootfs" | cut -f1)"
  done_step
fi

if [ "$tool" = podman ]; then
  size=$(podman image inspect --format '{{.Size}}' "$image" 2>/dev/null || echo '?')
else
  size=$(buildah images --format '{{.Size}}' "$image" 2>/dev/null | head -n1 || echo '?')
fi
log "[$((SECONDS - started)) s] done: $image, $size in the containers storage, archive $(du -h "$out" | cut -f1)"
echo "image: $image"
echo "oci-archive:$out"
