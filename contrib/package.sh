#!/usr/bin/env bash
# Makes the Debian 12 packages of nolb from a build directory that is already built:
#
#     contrib/package.sh [BUILD_DIR [OUT_DIR]]     # defaults: build, BUILD_DIR/packages
#
# OUT_DIR receives nolb_<version>_<arch>.deb (nolbd, nolbctl, the unit, /etc/nolb/nolb.toml),
# nolb-tools_<version>_<arch>.deb (nolb-stats, nolb-compare), their debug symbols (-dbgsym) and
# the .buildinfo and .changes files; lintian's report is printed, and its exit status is this
# script's when it finds an error.
#
# The packages are made with debhelper (compat 13) from contrib/debian/, copied into a scratch
# tree, and hold the binaries of BUILD_DIR: CI builds that tree (RelWithDebInfo) and runs the
# tests on it, so packaging it costs seconds where compiling again would take about 20 minutes
# on two cores, and what is packaged is what was tested (contrib/debian/rules says how). The
# four programs are brought up to date first, which is nothing to do after CI's build.
#
# One source of truth for each piece: the version is CMake's project version, read from the
# built nolbd (the changelog entry is written here, dated from the commit); the systemd unit is
# contrib/nolbd.service with /usr/sbin/nolbd for /usr/local/sbin/nolbd; the sysusers file is
# contrib/nolb.sysusers.conf; /etc/nolb/nolb.toml is conf/package/nolb.toml, checked with the
# built nolbd first; the reference conf/nolb.toml goes in as an example.
#
# Needs dpkg-dev, debhelper, fakeroot and lintian (contrib/install-deps.sh package).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
build_dir=$(cd "${1:-$root/build}" 2>/dev/null && pwd) || {
    echo "package: no build directory ${1:-$root/build}: configure and build it first" >&2
    echo "  cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo && cmake --build build" >&2
    exit 2
}
out_dir=${2:-$build_dir/packages}
programs=(nolbd nolbctl nolb-stats nolb-compare)

for tool in dpkg-buildpackage dh fakeroot lintian cmake; do
    command -v "$tool" >/dev/null || {
        echo "package: $tool is missing; contrib/install-deps.sh package installs it" >&2
        exit 2
    }
done
[[ -f "$build_dir/CMakeCache.txt" ]] || {
    echo "package: $build_dir is not a CMake build directory" >&2
    exit 2
}

start=$SECONDS
echo "package: bringing ${programs[*]} up to date in $build_dir"
cmake --build "$build_dir" --target "${programs[@]}"

# The version of the binaries packaged: CMake's project(nolb VERSION ...), as nolbd reports it.
version=$("$build_dir/nolbd" --version | awk '{ print $2 }')
[[ "$version" =~ ^[0-9]+(\.[0-9]+)*$ ]] || {
    echo "package: cannot read the version from '$build_dir/nolbd --version'" >&2
    exit 1
}
"$build_dir/nolbd" --check-config "$root/conf/package/nolb.toml"

work=$(mktemp -d "${TMPDIR:-/tmp}/nolb-package.XXXXXX")
trap 'rm -rf "$work"' EXIT
src="$work/nolb-$version"
mkdir -p "$src"
cp -r "$root/contrib/debian" "$src/debian"
mkdir -p "$src/debian/conf/examples"
cp "$root/conf/package/nolb.toml" "$src/debian/conf/nolb.toml"
cp "$root/conf/nolb.toml" "$src/debian/conf/examples/nolb.toml"
cp "$root/README.md" "$src/README.md"
cp "$root/contrib/nolb.sysusers.conf" "$src/debian/nolb.sysusers"
sed 's#/usr/local/sbin/nolbd#/usr/sbin/nolbd#g' "$root/contrib/nolbd.service" \
    >"$src/debian/nolb.nolbd.service"
if grep -q '/usr/local' "$src/debian/nolb.nolbd.service" ||
    ! grep -q '^ExecStart=/usr/sbin/nolbd ' "$src/debian/nolb.nolbd.service"; then
    echo "package: contrib/nolbd.service no longer runs /usr/local/sbin/nolbd; adjust the sed" >&2
    exit 1
fi

# The changelog: one entry for this version, dated from the commit built (the packages' file
# times follow it, so the same commit makes the same packages).
commit=$(git -C "$root" describe --always --dirty --abbrev=7 2>/dev/null || echo unknown)
date=$(git -C "$root" log -1 --format=%cD 2>/dev/null || date -R)
maintainer=$(sed -n 's/^Maintainer: //p' "$src/debian/control")
cat >"$src/debian/changelog" <<EOF
nolb ($version) bookworm; urgency=medium

  * nolb $version, built from commit $commit.

 -- $maintainer  $date
EOF

echo "package: dpkg-buildpackage in $src"
(cd "$src" && NOLB_BUILD_DIR="$build_dir" dpkg-buildpackage --build=binary --no-sign \
    --no-pre-clean)

mkdir -p "$out_dir"
arch=$(dpkg-architecture -qDEB_HOST_ARCH)
shopt -s nullglob
mv -f "$work"/*.deb "$work"/*.ddeb "$work"/*.buildinfo "$work"/*.changes "$out_dir/"
debs=("$out_dir/nolb_${version}_$arch.deb" "$out_dir/nolb-tools_${version}_$arch.deb")

echo "package: lintian"
status=0
lintian --fail-on error "${debs[@]}" || status=$?

echo "package: made in $((SECONDS - start)) s:"
for deb in "${debs[@]}"; do
    echo "  $deb ($(du -k "$deb" | cut -f1) KiB; installed $(dpkg-deb -f "$deb" Installed-Size) KiB)"
done
exit "$status"
