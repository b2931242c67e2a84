#!/usr/bin/env bash
# Builds deploy/image/Dockerfile as Docker would, with Debian's buildah and no registry:
#   deploy/image/build-dockerfile.sh [OUT]   (OUT defaults to dist/kubespark-<version>-dockerfile.oci.tar)
#
# The Dockerfile's FROM is a build argument (BASE, by default Docker Hub's debian:bookworm-slim).
# Where no registry is reachable, this makes that base from Debian's archive instead:
# `mmdebstrap --variant=minbase bookworm` (what debian:bookworm-slim holds: apt, dpkg, a shell),
# imported into buildah's storage as localhost/debian:bookworm-slim, then
# `buildah build --pull=never --build-arg BASE=localhost/debian:bookworm-slim`. The build stage's
# apt-get and pip reach Debian's archive and PyPI as the host does (the host's CA bundle is
# mounted for pip, for TLS-intercepting proxies). The result is written as an OCI archive, the
# format `./dev image` writes, so the same test harness runs it.
# Needs root (buildah's chroot isolation), buildah and mmdebstrap (installed from Debian's archive
# when missing). vfs storage: works inside containers without overlayfs.
set -euo pipefail
cd "$(dirname "$0")/../.."
py=${KUBESPARK_VENV:-.venv}/bin/python
version=$("$py" -c 'import tomllib;print(tomllib.load(open("pyproject.toml","rb"))["project"]["version"])')
out=${1:-dist/kubespark-$version-dockerfile.oci.tar}
suite=bookworm
base=localhost/debian:$suite-slim
export STORAGE_DRIVER=${STORAGE_DRIVER:-vfs}

[ "$(id -u)" = 0 ] || { echo "dockerfile: buildah's chroot isolation needs root" >&2; exit 2; }
missing=()
command -v buildah >/dev/null || missing+=(buildah)
command -v mmdebstrap >/dev/null || missing+=(mmdebstrap)
if [ ${#missing[@]} -gt 0 ]; then
  echo "dockerfile: installing ${missing[*]} from Debian's archive" >&2
  apt-get update -q >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}" >/dev/null
fi

work=build/image
mkdir -p "$work" "$(dirname "$out")"
if ! buildah inspect --type image "$base" >/dev/null 2>&1; then
  tarball=$work/minbase-$suite.tar
  if [ ! -s "$tarball" ]; then
    echo "dockerfile: mmdebstrap --variant=minbase $suite (the base image, from Debian's archive)" >&2
    mmdebstrap --quiet --variant=minbase --format=tar \
      --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-exclude=/usr/share/man/*' \
      "$suite" "$tarball.tmp"
    mv "$tarball.tmp" "$tarball"
  fi
  ctr=$(buildah from scratch)
  trap 'buildah rm "$ctr" >/dev/null 2>&1 || true' EXIT
  buildah add --quiet "$ctr" "$tarball" / >/dev/null   # a local tar is unpacked, as ADD does
  buildah config --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    --cmd /bin/bash "$ctr"
  buildah commit --quiet "$ctr" "$base" >/dev/null
fi

ca=/etc/ssl/certs/ca-certificates.crt
buildah build --quiet --layers --isolation chroot --pull=never \
  --build-arg BASE="$base" -v "$ca:/etc/ssl/host-ca.crt:ro" --build-arg PIP_CERT=/etc/ssl/host-ca.crt \
  -f deploy/image/Dockerfile -t "localhost/kubespark:$version-dockerfile" . >/dev/null
rm -f "$out"
buildah push --quiet "localhost/kubespark:$version-dockerfile" "oci-archive:$out:$version"
echo "dockerfile: $out ($(du -m "$out" | cut -f1) MB)" >&2
