#!/usr/bin/env bash
# Builds the kubespark operator image with no Docker daemon and no registry pull:
#   deploy/image/build.sh [OUT]     (./dev image calls it; OUT defaults to dist/kubespark-<version>.oci.tar)
#
# The same image as deploy/image/Dockerfile, assembled from Debian's own packages:
#   layer 1  Debian bookworm's python3.11 runtime, unpacked by mmdebstrap (no maintainer scripts,
#            no shell, no apt), plus /etc/passwd with the non-root user 65532 and a CA bundle;
#   layer 2  the pinned dependencies (constraints.txt), wheels only, byte-compiled;
#   layer 3  kubespark itself and the `kubespark` entrypoint.
# Written as an OCI image layout (umoci) and tarred: `skopeo copy oci-archive:OUT docker://...`,
# `podman load -i OUT` or `docker load -i OUT` (Docker 25+) read it.
# Needs root (umoci unpacks with ownership) and mmdebstrap + umoci, installed here from Debian's
# archive when missing. The Python that resolves the wheels must be 3.11 (Debian bookworm's).
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
py=${KUBESPARK_VENV:-.venv}/bin/python
version=$("$py" -c 'import tomllib;print(tomllib.load(open("pyproject.toml","rb"))["project"]["version"])')
out=${1:-dist/kubespark-$version.oci.tar}
suite=${KUBESPARK_IMAGE_SUITE:-bookworm}
uid=65532

need_tools() {
  local missing=()
  command -v mmdebstrap >/dev/null || missing+=(mmdebstrap)
  command -v umoci >/dev/null || missing+=(umoci)
  [ ${#missing[@]} -eq 0 ] && return
  if [ "$(id -u)" != 0 ]; then
    echo "image: ${missing[*]} missing; install them (apt-get install ${missing[*]}) or run as root" >&2
    exit 2
  fi
  echo "image: installing ${missing[*]} from Debian's archive" >&2
  apt-get update -q >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}" >/dev/null
}

[ "$(id -u)" = 0 ] || { echo "image: umoci unpacks with file ownership: run as root" >&2; exit 2; }
"$py" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' || {
  echo "image: $py is not Python 3.11 (the image runs Debian $suite's python3.11); set KUBESPARK_VENV" >&2
  exit 2
}
need_tools

work=build/image
mkdir -p "$work" "$(dirname "$out")"
# The base layer is cached by what goes into it; everything after it is rebuilt each time.
# libstdc++6: google-re2 (cel-python's regex engine, for the CRDs' CEL rules) is a C++ extension.
packages="python3.11-minimal,libpython3.11-stdlib,libstdc++6,tzdata,ca-certificates"
base="$work/base-$(echo "$suite $packages" | sha256sum | cut -c1-12).tar"
if [ ! -s "$base" ]; then
  echo "image: mmdebstrap $suite ($packages)" >&2
  # extract: unpack the packages and their dependencies without running their scripts.
  mmdebstrap --quiet --format=tar --variant=extract --include="$packages" \
    --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-exclude=/usr/share/man/*' \
    --dpkgopt='path-exclude=/usr/share/locale/*' --dpkgopt='path-exclude=/usr/share/info/*' \
    --dpkgopt='path-exclude=/usr/share/lintian/*' --dpkgopt='path-exclude=/usr/share/perl5/*' \
    --dpkgopt='path-exclude=/usr/lib/python3.11/test/*' \
    --dpkgopt='path-exclude=/usr/lib/python3.11/idlelib/*' \
    --dpkgopt='path-exclude=/usr/lib/python3.11/tkinter/*' \
    --dpkgopt='path-exclude=/usr/lib/python3.11/ensurepip/*' \
    "$suite" "$base.tmp"
  mv "$base.tmp" "$base"
fi

layout=$work/oci
bundle=$work/bundle
rm -rf "$layout" "$bundle"
umoci init --layout "$layout"
umoci new --image "$layout:$version"
umoci unpack --image "$layout:$version" "$bundle"
rootfs=$bundle/rootfs

# ---- layer 1: the Debian runtime ----
tar -x -C "$rootfs" -f "$base"
rm -rf "$rootfs"/var/lib/apt "$rootfs"/var/cache/apt "$rootfs"/var/cache/debconf "$rootfs"/var/log/*
printf 'root:x:0:0:root:/root:/usr/sbin/nologin\nkubespark:x:%s:%s:kubespark:/home/kubespark:/usr/sbin/nologin\n' \
  "$uid" "$uid" > "$rootfs/etc/passwd"
printf 'root:x:0:\nkubespark:x:%s:\n' "$uid" > "$rootfs/etc/group"
mkdir -p "$rootfs/etc/ssl/certs" "$rootfs/home/kubespark" "$rootfs/tmp" "$rootfs/proc" "$rootfs/sys" "$rootfs/dev"
chown "$uid:$uid" "$rootfs/home/kubespark"
chmod 1777 "$rootfs/tmp"
# What update-ca-certificates (a maintainer script, not run by extract) would have written.
cat "$rootfs"/usr/share/ca-certificates/*/*.crt > "$rootfs/etc/ssl/certs/ca-certificates.crt"
ln -sf python3.11 "$rootfs/usr/bin/python3"
# What the runtime never loads (about 13 MB): glibc's iconv modules (Python has its own codecs),
# pydoc's help topics, the leap-second zoneinfo variants, and the programs the packages' own
# dependencies brought (dpkg, tar, openssl, ...): the image runs python3.11 and nothing else.
rm -rf "$rootfs"/usr/lib/*-linux-gnu/gconv "$rootfs/usr/lib/python3.11/pydoc_data" \
  "$rootfs/usr/share/zoneinfo/right"
find "$rootfs/bin" "$rootfs/sbin" "$rootfs/usr/bin" "$rootfs/usr/sbin" \
  ! -type d ! -name python3.11 ! -name python3 -delete
# Byte-compiled ahead: a read-only root filesystem cannot cache bytecode at run time.
"$py" -m compileall -q -j 0 --invalidation-mode unchecked-hash "$rootfs/usr/lib/python3.11" \
  -x '/(test|tests|lib2to3|pydoc_data)/' -s "$rootfs" -p / >/dev/null || true
umoci repack --refresh-bundle --image "$layout:$version" --history.created_by "mmdebstrap $suite $packages" "$bundle"

# ---- layer 2: the pinned dependencies ----
lib=$rootfs/opt/kubespark/lib
mkdir -p "$lib"
"$py" -m pip install -q --disable-pip-version-check --no-compile --only-binary=:all: \
  --target "$lib" -c constraints.txt -r <("$py" - <<'PY'
import tomllib
for dep in tomllib.load(open("pyproject.toml", "rb"))["project"]["dependencies"]:
    print(dep)
PY
)
rm -rf "$lib/bin"
# Files of the dependencies the operator never reads (about 10 MB): their test suites and type
# stubs; pip's tzdata (Python's zoneinfo reads Debian's /usr/share/zoneinfo first, which layer 1
# has); pendulum's translations other than English (croniter's and kubespark's times are
# English); and Pygments' lexers except Python's and plain text (rich renders no code here:
# kubespark's CLI uses no Syntax or Markdown code blocks; rich.syntax imports only the package).
find "$lib" -depth -type d \( -name tests -o -name test \) -path "$lib/*/*" -exec rm -rf {} +
find "$lib" -name '*.pyi' -delete
rm -rf "$lib"/tzdata "$lib"/tzdata-*.dist-info
find "$lib/pendulum/locales" -mindepth 1 -maxdepth 1 -type d ! -name en ! -name __pycache__ -exec rm -rf {} +
find "$lib/pygments/lexers" -maxdepth 1 -name '*.py' ! -name __init__.py ! -name _mapping.py \
  ! -name python.py ! -name special.py -delete
"$py" -m compileall -q -j 0 --invalidation-mode unchecked-hash "$lib" -s "$rootfs" -p / >/dev/null || true
umoci repack --refresh-bundle --image "$layout:$version" --history.created_by "pip install -c constraints.txt" "$bundle"

# ---- layer 3: kubespark and its entrypoint ----
"$py" -m pip install -q --disable-pip-version-check --no-compile --no-deps \
  --target "$work/app" --upgrade "$root"
cp -a "$work/app/kubespark" "$work"/app/kubespark-*.dist-info "$lib/"
rm -rf "$work/app"
"$py" -m compileall -q -j 0 --invalidation-mode unchecked-hash "$lib/kubespark" -s "$rootfs" -p / >/dev/null
mkdir -p "$rootfs/usr/local/bin"
cat > "$rootfs/usr/local/bin/kubespark" <<'PY'
#!/usr/bin/python3.11 -sE
import sys
sys.path.insert(0, "/opt/kubespark/lib")
from kubespark.cli.app import main
sys.exit(main())
PY
chmod 0755 "$rootfs/usr/local/bin/kubespark"
umoci repack --refresh-bundle --image "$layout:$version" --history.created_by "kubespark $version" "$bundle"

umoci config --image "$layout:$version" \
  --config.entrypoint /usr/local/bin/kubespark --config.cmd operator \
  --config.user "$uid:$uid" --config.workingdir /home/kubespark \
  --config.env PYTHONDONTWRITEBYTECODE=1 --config.env PYTHONUNBUFFERED=1 \
  --config.env HOME=/home/kubespark \
  --config.label "org.opencontainers.image.title=kubespark" \
  --config.label "org.opencontainers.image.version=$version" \
  --config.label "org.opencontainers.image.licenses=Apache-2.0" \
  --history.created_by "entrypoint kubespark, user $uid"
umoci gc --layout "$layout"
rm -rf "$bundle"
tar -C "$layout" -cf "$out" .
echo "image: $out ($(du -m "$out" | cut -f1) MB)" >&2
