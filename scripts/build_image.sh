#!/usr/bin/env bash
# Build the production image from a clean clone of HEAD, check inside it that every
# entry-point command runs (and that a render works), and print its size. Needs podman, and
# debootstrap when the base image has to be made here:
#     apt-get install podman debootstrap
#     scripts/build_image.sh [TAG]          # default tag: localhost/video-pipeline:latest
# Not part of `make test`.
#
# Where no registry serves `python:3.11-slim`, a stand-in is made: Debian bookworm (the
# slim image's distribution) with python3 in a venv at /usr/local, without the documentation
# and locales the slim image leaves out. Containers need not start: the checks run in a
# chroot over the image (`podman image mount` plus a writable overlay, as a container's
# layer would be), as the image's user, with the image's environment.
set -euo pipefail

TAG="${1:-localhost/video-pipeline:latest}"
BASE="docker.io/library/python:3.11-slim"
REPO="$(cd "$(dirname "$0")/.." && pwd)"
WORK="$(mktemp -d)"
MOUNTED=""
ROOT="$WORK/root"
# A definitions load needs a database address, not a database.
PLACEHOLDER_DB="postgresql+psycopg2://nobody@127.0.0.1:9/none"

cleanup() {
    if [ -n "$MOUNTED" ]; then
        umount "$ROOT/dev" "$ROOT/proc" "$ROOT" 2>/dev/null || true
        podman image unmount "$TAG" >/dev/null || true
    fi
    rm -rf "$WORK"
}
trap cleanup EXIT

make_base_standin() {
    echo "== $BASE is not here: making a stand-in (debootstrap bookworm + python3)"
    local root="$WORK/base"
    debootstrap --variant=minbase --include=python3,python3-venv,ca-certificates \
        bookworm "$root" >"$WORK/debootstrap.log" 2>&1 || { tail -20 "$WORK/debootstrap.log"; exit 1; }
    chroot "$root" python3 -m venv /usr/local
    cp /etc/ssl/certs/ca-certificates.crt "$root/etc/ssl/certs/ca-certificates.crt"
    rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/* \
        "$root"/usr/share/doc/* "$root"/usr/share/man/* "$root"/usr/share/locale/* \
        "$root"/usr/share/info/*
    tar -C "$root" -c . | podman import - "$BASE" >/dev/null
}

podman image exists "$BASE" || make_base_standin
echo "== base $BASE: $(podman image inspect --format '{{.Size}}' "$BASE") bytes"

echo "== clean clone of $(git -C "$REPO" rev-parse --short HEAD)"
git clone --quiet --no-local "$REPO" "$WORK/src"

echo "== podman build -t $TAG"
podman build --pull=never --isolation=chroot --network=host -t "$TAG" "$WORK/src" >"$WORK/build.log" 2>&1 \
    || { tail -40 "$WORK/build.log"; exit 1; }

MOUNTED="$(podman image mount "$TAG")"
mkdir -p "$WORK/upper" "$WORK/overlay-work" "$ROOT"
mount -t overlay overlay -o "lowerdir=$MOUNTED,upperdir=$WORK/upper,workdir=$WORK/overlay-work" "$ROOT"
mount --bind /dev "$ROOT/dev"
mount -t proc proc "$ROOT/proc"
cp "$REPO/scripts/image_smoke.py" "$ROOT/tmp/image_smoke.py"
IMAGE_USER="$(podman image inspect --format '{{.Config.User}}' "$TAG")"
IMAGE_WORKDIR="$(podman image inspect --format '{{.Config.WorkingDir}}' "$TAG")"
mapfile -t IMAGE_ENV < <(podman image inspect --format '{{range .Config.Env}}{{println .}}{{end}}' "$TAG" | sed '/^$/d')

in_image() {
    chroot --userspec="$IMAGE_USER" "$ROOT" /usr/bin/env -i "${IMAGE_ENV[@]}" \
        HOME=/tmp DATABASE_URL="$PLACEHOLDER_DB" /bin/sh -c 'cd "$0" && exec "$@"' "$IMAGE_WORKDIR" "$@"
}

check() {
    echo "-- $*"
    if ! in_image "$@" >"$WORK/out" 2>&1; then
        tail -30 "$WORK/out"
        echo "FAILED: $*"
        exit 1
    fi
    sed -n '1,2p' "$WORK/out" | cut -c1-160
}

echo "== inside the image, as user $IMAGE_USER"
check id -u
check python /tmp/image_smoke.py development-parts
mapfile -t COMMANDS < <(in_image python /tmp/image_smoke.py commands)
for line in "${COMMANDS[@]}"; do
    read -r -a words <<<"$line"
    check "${words[@]}" --help
done
check python -c 'from video_pipeline.definitions import build_definitions; from video_pipeline.settings import load_settings; print(len(list(build_definitions(load_settings()).resolve_all_asset_keys())), "assets")'
# An empty DAGSTER_HOME gives the validation a local instance instead of the image's
# Postgres-backed dagster.yaml (there is no Postgres here).
check sh -c 'mkdir -p /tmp/validate-home && DAGSTER_HOME=/tmp/validate-home exec dagster definitions validate -m video_pipeline.definitions'
check dagster-webserver --help
check dagster-daemon --help
check dagster api grpc --help
check python /tmp/image_smoke.py s3-clients
check python /tmp/image_smoke.py text
check python /tmp/image_smoke.py render

SIZE="$(podman image inspect --format '{{.Size}}' "$TAG")"
echo "== $TAG: $SIZE bytes = $((SIZE / 1000000)) MB"
