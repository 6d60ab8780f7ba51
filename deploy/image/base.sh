#!/usr/bin/env bash
# Makes a distroless-style runtime base from this machine's own Debian files,
# for where no registry is reachable (the published Containerfile names
# gcr.io/distroless/cc-debian12:nonroot): the C runtime the binary links
# against (found with ldd), CA certificates, and /etc/passwd with the
# `nonroot` user (65532) — no shell, no package manager.
# Usage: deploy/image/base.sh BINARY [IMAGE, default localhost/spotlight-runtime-base]
set -euo pipefail
binary=$1
image=${2:-localhost/spotlight-runtime-base}
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
mkdir -p "$root"/{etc/ssl/certs,tmp,usr/local/bin}
chmod 1777 "$root/tmp"
# Every shared object the binary loads, at the path the loader looks for it.
ldd "$binary" | grep -oE '/[^ ]+' | sort -u | while read -r lib; do
  mkdir -p "$root$(dirname "$lib")"
  cp -L "$lib" "$root$lib"
done
# Name lookups (getaddrinfo) read these.
for f in /etc/nsswitch.conf /etc/host.conf; do [ -f "$f" ] && cp "$f" "$root$f"; done
cp -L /etc/ssl/certs/ca-certificates.crt "$root/etc/ssl/certs/"
printf 'root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n' >"$root/etc/passwd"
printf 'root:x:0:\nnonroot:x:65532:\n' >"$root/etc/group"
tar -C "$root" --owner=0 --group=0 -c . | podman import --change 'USER 65532:65532' - "$image" >/dev/null
echo "$image"
