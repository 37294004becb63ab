#!/usr/bin/env bash
# Prints the Debian packages that provide the shared libraries a binary needs,
# one a line, sorted: `ldd BINARY`, then `dpkg -S` of every library it found.
#
#   runtime-packages.sh BINARY
#   runtime-packages.sh --check "PKG PKG ..." BINARY
#       fails, naming them, when BINARY needs a package that is not in the list
#       (the Containerfile's build stage checks its RUNTIME_PACKAGES this way)
#
# Used by build.sh --from-build (on the machine that built the binary) and by
# the Containerfile's build stage. Fails when a library is missing or comes
# from no Debian package (a library built from source would need copying).
set -euo pipefail

check=""
if [ "${1:-}" = "--check" ]; then
  check="$2"
  shift 2
fi
bin="${1:?usage: runtime-packages.sh [--check \"PKGS\"] BINARY}"
[ -x "$bin" ] || { echo "runtime-packages: $bin is not an executable file" >&2; exit 1; }

out=$(ldd "$bin" 2>&1) || { echo "runtime-packages: ldd $bin failed: $out" >&2; exit 1; }
if grep -q "not found" <<<"$out"; then
  echo "runtime-packages: $bin needs libraries this system lacks:" >&2
  grep "not found" <<<"$out" >&2
  exit 1
fi

# The resolved paths: "libfoo.so.1 => /lib/.../libfoo.so.1 (0x...)" and the
# loader itself ("/lib64/ld-linux-x86-64.so.2 (0x...)").
libs=$(awk '$2 == "=>" && $3 ~ /^\// {print $3} $1 ~ /^\// {print $1}' <<<"$out")

# dpkg's database names files as their package installed them: /lib/... or
# /usr/lib/... (bookworm is merged-/usr on disk, not in dpkg), so every
# spelling of every path is asked, in one dpkg -S call.
spellings() {
  local lib=$1 real
  real=$(readlink -f "$lib")
  printf '%s\n' "$lib" "$real" "${lib#/usr}" "/usr$lib" "${real#/usr}" "/usr$real" | sort -u
}
declare -A owner=()
mapfile -t candidates < <(for lib in $libs; do spellings "$lib"; done | sort -u)
while IFS= read -r line; do
  case "$line" in diversion*) continue ;; esac
  pkg=${line%%: /*}
  path=${line#*: }
  pkg=${pkg%%,*}
  owner[$path]=${pkg%%:*}
done < <(dpkg -S "${candidates[@]}" 2>/dev/null || true)

packages=()
for lib in $libs; do
  pkg=""
  for cand in $(spellings "$lib"); do
    if [ -n "${owner[$cand]:-}" ]; then pkg=${owner[$cand]}; break; fi
  done
  if [ -z "$pkg" ]; then
    echo "runtime-packages: no Debian package provides $lib (needed by $bin)" >&2
    exit 1
  fi
  packages+=("$pkg")
done
sorted=$(printf '%s\n' "${packages[@]}" | sort -u)

if [ -n "$check" ]; then
  missing=$(comm -23 <(echo "$sorted") <(tr ' ' '\n' <<<"$check" | grep -v '^$' | sort -u))
  if [ -n "$missing" ]; then
    echo "runtime-packages: $bin needs Debian packages that RUNTIME_PACKAGES lacks:" $missing >&2
    echo "runtime-packages: add them to RUNTIME_PACKAGES in deploy/image/Containerfile" >&2
    exit 1
  fi
  exit 0
fi
echo "$sorted"
