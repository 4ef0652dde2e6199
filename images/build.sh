#!/usr/bin/env bash
# Build the Docker images the tests and the replay sandbox use, from Debian packages.
#
# Why not `docker pull` / `docker build FROM debian`: these machines reach no image registry,
# only Debian's package mirror. So each image is a debootstrap rootfs turned into an image with
# `docker import`, which needs no base image.
#
#   images/build.sh                  build every missing image (what `make images` runs)
#   images/build.sh postgres-15 ...  build only these (names: postgres-13 postgres-15
#                                    postgres-17 python-app python-orm node-app)
#   FORCE=1 images/build.sh          rebuild even if the image exists
#   JOBS=1 images/build.sh           build one at a time (default 2: the work is mostly
#                                    download and dpkg, which overlap well on 2 cores)
#
# An image that exists is reused when its repro.build-hash label matches the current inputs
# (its package list, the entrypoint, IMAGE_REVISION): editing the entrypoint rebuilds the
# PostgreSQL images on the next `make images`. Each build ends with a smoke test and a failed
# one removes the image, so "exists" means "built from these inputs and started once".
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
JOBS="${JOBS:-2}"
FORCE="${FORCE:-0}"
# .debs are kept between builds so FORCE=1 or a lost image rebuilds without downloading
# everything again; one folder per image, since two debootstraps sharing one could race.
CACHE_ROOT="${REPRO_IMAGE_CACHE:-/var/cache/repro-images}"

ALL_IMAGES=(postgres-13 postgres-15 postgres-17 python-app python-orm node-app)
# Bump when a change to this script's build steps should rebuild existing images.
IMAGE_REVISION=2

log() { printf '[images %s] %s\n' "$(date '+%H:%M:%S')" "$*" >&2; }
# Phase timings go to the build's own log (shown on failure) and to its .phases summary.
phase_t=$SECONDS
phase() { # name: closes the phase that started at phase_t
    local d=$((SECONDS - phase_t))
    log "phase $1: ${d}s"
    [ -z "${PHASES_FILE:-}" ] || printf '%s %ss, ' "$1" "$d" >>"$PHASES_FILE"
    phase_t=$SECONDS
}
die() { log "error: $*"; exit 1; }

# major packages... -> "postgresql-MAJOR-p1,postgresql-MAJOR-p2"
ext() {
    local major="$1" out=() p
    shift
    for p in "$@"; do out+=("postgresql-$major-$p"); done
    (IFS=,; echo "${out[*]}")
}

# Extensions each image must be able to create (checked by the smoke test); by control file.
extensions_of() {
    case "$1" in
        13 | 15) echo "postgis pg_partman" ;;
        *) echo "postgis vector pg_partman" ;;
    esac
}

# name -> "suite|tag|extra tags|packages"
spec() {
    # Contrib extensions (pg_stat_statements, pgcrypto, ...) ship in postgresql-N itself since
    # PostgreSQL 10 in Debian (it Provides postgresql-contrib-N); build_postgres checks that.
    # `locales` lets us generate en_US.UTF-8, the official image's default; tzdata gives real
    # time zone names; procps gives ps/pgrep for `docker exec` debugging and the product's
    # process facet.
    local pg_pkgs="procps,locales,tzdata,ca-certificates"
    # The widely used extensions each Debian release packages for its PostgreSQL, so that a
    # snapshot using them can be recreated (issue 13): PostGIS and pg_partman everywhere,
    # pgvector from trixie on (bullseye and bookworm have no postgresql-N-pgvector).
    case "$1" in
        postgres-13) echo "bullseye|repro/postgres:13|postgres:13|postgresql-13,$(ext 13 postgis-3 postgis-3-scripts partman),$pg_pkgs" ;;
        postgres-15) echo "bookworm|repro/postgres:15|postgres:15|postgresql-15,$(ext 15 postgis-3 postgis-3-scripts partman),$pg_pkgs" ;;
        postgres-17) echo "trixie|repro/postgres:17|postgres:17|postgresql-17,$(ext 17 postgis-3 postgis-3-scripts pgvector partman),$pg_pkgs" ;;
        python-app)
            echo "bookworm|repro/python-app:bookworm||python3,python3-psycopg,python3-flask,python3-sentry-sdk,python3-yaml,procps,cron,ca-certificates"
            ;;
        # The base of the second demo app (fixtures/demo_ledger): an ORM app of another shape,
        # SQLAlchemy + alembic on psycopg2 under gunicorn, all from Debian.
        python-orm)
            echo "bookworm|repro/python-orm:bookworm||python3,python3-flask,python3-sqlalchemy,alembic,python3-psycopg2,gunicorn,procps,ca-certificates"
            ;;
        # The base of the Node.js demo service (fixtures/demo_accounts): Debian's Node.js; the
        # service's npm packages are installed on top by fixtures/demo/build-images.sh.
        node-app)
            echo "bookworm|repro/node-app:bookworm||nodejs,procps,ca-certificates"
            ;;
        *) return 1 ;;
    esac
}

image_exists() { docker image inspect "$1" >/dev/null 2>&1; }

build_hash() { # name -> short hash of everything the image is built from
    {
        echo "$IMAGE_REVISION"
        spec "$1"
        case "$1" in postgres-*) cat "$HERE/postgres/docker-entrypoint.sh" ;; esac
    } | sha256sum | cut -c1-16
}

image_hash() { # tag
    docker image inspect -f '{{index .Config.Labels "repro.build-hash"}}' "$1" 2>/dev/null || true
}

# --- preconditions ---------------------------------------------------------------------------

if [ "${1:-}" = --build-one ]; then
    WORK="${REPRO_IMAGES_WORK:?}"
else
    [ "$(id -u)" = 0 ] || die "debootstrap needs root; run as root (CI does)"
    if ! command -v debootstrap >/dev/null 2>&1; then
        log "debootstrap missing; installing it"
        bash "$HERE/provision.sh" debootstrap
    fi
    if ! docker info >/dev/null 2>&1; then
        log "no Docker engine answering; starting one"
        bash "$HERE/start-docker.sh"
    fi
fi

# --- one image -------------------------------------------------------------------------------

run_debootstrap() { # suite rootfs packages cache
    local suite="$1" rootfs="$2" pkgs="$3" cache="$4"
    mkdir -p "$cache"
    debootstrap --variant=minbase --cache-dir="$cache" --include="$pkgs" \
        "$suite" "$rootfs" "$MIRROR"
}

# Shrink the rootfs: package lists, cached .debs and docs are not needed at run time.
slim_rootfs() {
    local rootfs="$1"
    rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/* \
        "$rootfs"/usr/share/doc/* "$rootfs"/usr/share/man/* "$rootfs"/usr/share/info/* \
        "$rootfs"/var/log/*.log "$rootfs"/var/log/apt/*
}

import_rootfs() { # rootfs tag message change...
    local rootfs="$1" tag="$2" msg="$3"
    shift 3
    local changes=()
    local c
    for c in "$@"; do changes+=(-c "$c"); done
    # --numeric-owner: the rootfs's users (postgres, ...) have other ids than the host's.
    # /dev, /proc, /sys are provided by Docker at run time.
    tar --numeric-owner -C "$rootfs" \
        --exclude=./dev/* --exclude=./proc/* --exclude=./sys/* -c . |
        docker import -m "$msg" "${changes[@]}" - "$tag" >/dev/null
}

smoke_postgres() { # tag major
    local tag="$1" major="$2" cid i ok=0
    cid="$(docker run -d --label repro.managed=true --label repro.build-smoke=true \
        -e POSTGRES_PASSWORD=smoke "$tag" -c timezone=UTC)"
    # Poll over TCP inside the container, as testcontainers does; bounded, ~60 s.
    for i in $(seq 1 120); do
        # One -c per statement: psql 13 prints only the last result of a multi-statement -c.
        if docker exec -e PGPASSWORD=smoke "$cid" psql -h 127.0.0.1 -U postgres -d postgres -At \
            -c 'show server_version_num' -c 'show timezone' \
            -c 'create extension pg_stat_statements' -c 'create extension postgis' \
            -c "select postgis_full_version() like 'POSTGIS=%'" >"$WORK/smoke-$major.out" 2>&1; then
            ok=1
            break
        fi
        [ "$(docker inspect -f '{{.State.Running}}' "$cid")" = true ] || break
        sleep 0.5
    done
    if [ "$ok" = 1 ] && grep -q "^${major}" "$WORK/smoke-$major.out" && grep -qx UTC "$WORK/smoke-$major.out" &&
        grep -qx t "$WORK/smoke-$major.out"; then
        docker rm -f "$cid" >/dev/null
        return 0
    fi
    log "smoke test of $tag failed; container log:"
    docker logs "$cid" 2>&1 | tail -40 >&2 || true
    cat "$WORK/smoke-$major.out" >&2 || true
    docker rm -f "$cid" >/dev/null 2>&1 || true
    return 1
}

build_postgres() { # name
    local name="$1" suite tag extra pkgs major rootfs
    IFS='|' read -r suite tag extra pkgs <<<"$(spec "$name")"
    major="${tag##*:}"
    rootfs="$WORK/$name/rootfs"
    mkdir -p "$rootfs"
    run_debootstrap "$suite" "$rootfs" "$pkgs" "$CACHE_ROOT/$name"
    phase debootstrap

    [ -x "$rootfs/usr/lib/postgresql/$major/bin/postgres" ] || die "$name: no postgres binary"
    [ -f "$rootfs/usr/share/postgresql/$major/extension/pg_stat_statements.control" ] ||
        die "$name: contrib extensions missing"
    local extension
    for extension in $(extensions_of "$major"); do
        # -L too: postgis.control is an alternatives link, absolute inside the rootfs
        [ -e "$rootfs/usr/share/postgresql/$major/extension/$extension.control" ] ||
            [ -L "$rootfs/usr/share/postgresql/$major/extension/$extension.control" ] ||
            die "$name: extension $extension missing"
    done

    # postgresql-common's postinst created a 'main' cluster; the entrypoint initdb's its own
    # in $PGDATA, so drop it rather than ship an unused cluster with its own config.
    rm -rf "$rootfs/etc/postgresql/$major/main" "$rootfs/var/lib/postgresql/$major/main"
    # The official image's default locale; C.UTF-8 is built into libc already.
    chroot "$rootfs" localedef -i en_US -c -f UTF-8 -A /usr/share/locale/locale.alias en_US.UTF-8
    install -m 0755 "$HERE/postgres/docker-entrypoint.sh" "$rootfs/usr/local/bin/docker-entrypoint.sh"
    mkdir -p "$rootfs/docker-entrypoint-initdb.d" "$rootfs/var/lib/postgresql/data"
    chroot "$rootfs" chown -R postgres:postgres /var/lib/postgresql
    chroot "$rootfs" sh -c 'mkdir -p /var/run/postgresql && chown postgres:postgres /var/run/postgresql && chmod 3777 /var/run/postgresql'
    slim_rootfs "$rootfs"
    phase customise

    # No VOLUME (unlike the official image): an anonymous volume per test container would
    # outlive the container unless every remover passed v=True; the data is throw-away here.
    import_rootfs "$rootfs" "$tag" "repro postgres $major from Debian $suite (images/build.sh)" \
        'ENTRYPOINT ["docker-entrypoint.sh"]' \
        'CMD ["postgres"]' \
        'EXPOSE 5432' \
        "ENV PG_MAJOR=$major" \
        "ENV PATH=/usr/lib/postgresql/$major/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" \
        'ENV PGDATA=/var/lib/postgresql/data' \
        'ENV LANG=en_US.utf8' \
        "LABEL repro.image=postgres repro.debian-suite=$suite repro.build-hash=$(build_hash "$name")"
    rm -rf --one-file-system "$WORK/$name"
    phase import

    if ! smoke_postgres "$tag" "$major"; then
        docker rmi -f "$tag" >/dev/null 2>&1 || true
        die "$name: smoke test failed"
    fi
    phase smoke
    [ -z "$extra" ] || docker tag "$tag" "$extra"
}

# What a built app base must be able to do, else the image is removed.
app_smoke() { # name -> command
    case "$1" in
        python-app) echo "python3 -c 'import psycopg, flask, sentry_sdk, yaml'" ;;
        python-orm) echo "python3 -c 'import flask, sqlalchemy, alembic, psycopg2, gunicorn' && alembic --help >/dev/null && gunicorn --version" ;;
        node-app) echo "node -e 'if (+process.versions.node.split(\".\")[0] < 18) process.exit(1)'" ;;
    esac
}

build_app_base() { # name
    local name="$1" suite tag extra pkgs rootfs
    IFS='|' read -r suite tag extra pkgs <<<"$(spec "$name")"
    rootfs="$WORK/$name/rootfs"
    mkdir -p "$rootfs"
    run_debootstrap "$suite" "$rootfs" "$pkgs" "$CACHE_ROOT/$name"
    phase debootstrap
    slim_rootfs "$rootfs"
    local runtime=(CMD '["python3"]' ENV PYTHONUNBUFFERED=1)
    [ "$name" != node-app ] || runtime=(CMD '["node"]' ENV NODE_ENV=production)
    import_rootfs "$rootfs" "$tag" "repro $name base from Debian $suite (images/build.sh)" \
        "${runtime[0]} ${runtime[1]}" \
        'ENV LANG=C.UTF-8' \
        "${runtime[2]} ${runtime[3]}" \
        'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
        "LABEL repro.image=$name repro.debian-suite=$suite repro.build-hash=$(build_hash "$name")"
    rm -rf --one-file-system "$WORK/$name"
    phase import
    if ! docker run --rm --label repro.managed=true "$tag" sh -c "$(app_smoke "$name")" >&2; then
        docker rmi -f "$tag" >/dev/null 2>&1 || true
        die "$name: smoke test failed"
    fi
    phase smoke
}

# Runs as `build.sh --build-one NAME` in its own session (see below), so that an interrupted
# build can kill debootstrap and everything under it by process group.
build_one() { # name
    local name="$1" t0=$SECONDS old_id
    PHASES_FILE="$WORK/$name.phases"
    phase_t=$SECONDS
    old_id="$(docker image inspect -f '{{.Id}}' "$(spec "$name" | cut -d'|' -f2)" 2>/dev/null || true)"
    case "$name" in
        postgres-*) build_postgres "$name" ;;
        python-app | python-orm | node-app) build_app_base "$name" ;;
    esac
    # A rebuild (FORCE=1) leaves the previous image untagged; drop it unless something
    # still uses it (rmi without -f refuses then).
    if [ -n "$old_id" ]; then docker rmi "$old_id" >/dev/null 2>&1 || true; fi
    echo "$((SECONDS - t0))" >"$WORK/$name.seconds"
}

# --- schedule ----------------------------------------------------------------------------------

if [ "${1:-}" = --build-one ]; then
    build_one "$2"
    exit 0
fi

targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=("${ALL_IMAGES[@]}")
for t in "${targets[@]}"; do
    spec "$t" >/dev/null || die "unknown image '$t' (known: ${ALL_IMAGES[*]})"
done

WORK="$(mktemp -d /var/tmp/repro-images.XXXXXX)"
export REPRO_IMAGES_WORK="$WORK"
# dpkg fsyncs every file it unpacks; on tmpfs that costs nothing (seen: debootstrap 76 s on
# disk, 60 s on tmpfs). A rootfs is ~0.5 GB and RAM is plentiful; fall back to disk if the
# mount is not allowed.
WORK_TMPFS=0
if [ "${REPRO_IMAGES_TMPFS:-1}" = 1 ] && mount -t tmpfs -o size=6g,mode=0755 repro-images "$WORK" 2>/dev/null; then
    WORK_TMPFS=1
fi
declare -A pid_of=()

# Stop unfinished builds (each is its own process group), then unmount anything debootstrap
# left mounted (it mounts /proc and /sys in the target while installing) before deleting:
# rm -rf through a live /proc or bind mount would be a disaster. --one-file-system is the
# second guard.
cleanup() {
    local rc=$? pid m
    for pid in "${pid_of[@]}"; do kill -TERM -- "-$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    if [ -d "$WORK" ]; then
        awk -v w="$WORK/" 'index($2, w) == 1 { print $2 }' /proc/mounts | sort -r |
            while read -r m; do umount -l "$m" 2>/dev/null || true; done
        rm -rf --one-file-system "${WORK:?}"/* 2>/dev/null || true
        [ "$WORK_TMPFS" = 0 ] || umount -l "$WORK" || true
        rmdir "$WORK" 2>/dev/null || rm -rf --one-file-system "$WORK"
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

t_start=$SECONDS
todo=()
for name in "${targets[@]}"; do
    IFS='|' read -r suite tag extra pkgs <<<"$(spec "$name")"
    if [ "$FORCE" != 1 ] && image_exists "$tag"; then
        if [ "$(image_hash "$tag")" = "$(build_hash "$name")" ]; then
            # Re-point the postgres:N alias too: it may be missing or left on an older build.
            [ -z "$extra" ] || docker tag "$tag" "$extra"
            log "$tag is up to date, reusing (FORCE=1 rebuilds)"
            continue
        fi
        log "$tag was built from other inputs; rebuilding"
    fi
    todo+=("$name")
done

failed=()
reap_one() {
    local pid name rc
    wait -n || true
    for name in "${!pid_of[@]}"; do
        pid="${pid_of[$name]}"
        kill -0 "$pid" 2>/dev/null && continue
        rc=0
        wait "$pid" || rc=$?
        unset "pid_of[$name]"
        if [ "$rc" = 0 ]; then
            log "built $(spec "$name" | cut -d'|' -f2) in $(cat "$WORK/$name.seconds")s ($(sed 's/, $//' "$WORK/$name.phases"))"
        else
            log "FAILED $name (exit $rc); last lines of its log:"
            tail -40 "$WORK/$name.log" >&2 || true
            failed+=("$name")
        fi
    done
}

for name in "${todo[@]}"; do
    while [ "${#pid_of[@]}" -ge "$JOBS" ]; do reap_one; done
    log "building $name (log: $WORK/$name.log)"
    # A background job of a non-interactive shell is no process-group leader, so setsid needs
    # no fork and $! is the id of the build's own process group.
    setsid bash "$HERE/build.sh" --build-one "$name" >"$WORK/$name.log" 2>&1 &
    pid_of[$name]=$!
done
while [ "${#pid_of[@]}" -gt 0 ]; do reap_one; done

log "done in $((SECONDS - t_start))s: $((${#todo[@]} - ${#failed[@]})) built, ${#failed[@]} failed, $((${#targets[@]} - ${#todo[@]})) reused"
[ "${#failed[@]}" -eq 0 ] || die "failed: ${failed[*]}"
