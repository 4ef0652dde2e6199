#!/usr/bin/env bash
# Entrypoint of the locally built repro/postgres:N images.
#
# Why this exists: these machines cannot pull the official postgres image, so images/build.sh
# builds one from Debian packages. This script reproduces the parts of the official image's
# contract that clients rely on, so the same code (testcontainers' PostgresContainer, the
# product's sandbox) works against either image:
#   - POSTGRES_USER (default postgres), POSTGRES_PASSWORD, POSTGRES_DB (default = user),
#     POSTGRES_INITDB_ARGS, POSTGRES_HOST_AUTH_METHOD, PGDATA
#   - initdb on first start only, as the postgres OS user
#   - /docker-entrypoint-initdb.d/*.sh|*.sql|*.sql.gz run once after initdb
#   - arguments that start with '-' are passed to postgres (`docker run IMAGE -c timezone=UTC`)
#   - postgres runs in the foreground as PID 1 and logs to stderr.
# Like the official image, the temporary server used for initialisation listens on the unix
# socket only, so nothing can connect over TCP until the real server is up. It also prints
# "database system is ready to accept connections": on a first start the line appears twice,
# so a log-watcher must confirm readiness with a real TCP connection (testcontainers does).
set -Eeuo pipefail

: "${PGDATA:=/var/lib/postgresql/data}"
export PGDATA

log() { printf '%s [entrypoint] %s\n' "$(date -u '+%Y-%m-%d %H:%M:%S UTC')" "$*" >&2; }

# `docker run IMAGE -c x=y` means "postgres -c x=y", as with the official image.
if [ "${1:0:1}" = '-' ]; then
    set -- postgres "$@"
fi

# Anything other than postgres (bash, psql, ...) runs as given.
if [ "$1" != 'postgres' ]; then
    exec "$@"
fi

if [ "$(id -u)" = '0' ]; then
    # Run as root only to fix ownership (a bind-mounted PGDATA may be root-owned), then drop to
    # the postgres user; setpriv is part of util-linux, which every Debian rootfs has.
    mkdir -p "$PGDATA" /var/run/postgresql
    # Only what postgres does not own yet, as the official image does: changing an owner
    # copies the file up into the container's layer, and a data directory that comes with
    # the image (repro's cached clusters) would be copied whole at every start.
    find "$PGDATA" /var/run/postgresql \! -user postgres -exec chown postgres:postgres '{}' +
    chmod 700 "$PGDATA"
    chmod 3777 /var/run/postgresql
    exec setpriv --reuid=postgres --regid=postgres --init-groups -- "${BASH_SOURCE[0]}" "$@"
fi

POSTGRES_USER="${POSTGRES_USER:-postgres}"
POSTGRES_DB="${POSTGRES_DB:-$POSTGRES_USER}"
POSTGRES_PASSWORD="${POSTGRES_PASSWORD:-}"
# "postgres (PostgreSQL) 15.18 (Debian ...)" -> 15; the image sets PG_MAJOR anyway.
PG_MAJOR="${PG_MAJOR:-$(postgres --version | awk '{print $3}' | cut -d. -f1)}"

if [ -z "${POSTGRES_HOST_AUTH_METHOD:-}" ]; then
    # 14+ stores SCRAM verifiers by default; 13 stores md5 hashes, which 'md5' accepts.
    if [ "$PG_MAJOR" -ge 14 ]; then
        POSTGRES_HOST_AUTH_METHOD='scram-sha-256'
    else
        POSTGRES_HOST_AUTH_METHOD='md5'
    fi
fi

if [ ! -s "$PGDATA/PG_VERSION" ]; then
    if [ -z "$POSTGRES_PASSWORD" ] && [ "$POSTGRES_HOST_AUTH_METHOD" != 'trust' ]; then
        # Same refusal as the official image: an open server by accident is worse than an error.
        log 'error: database is uninitialized and POSTGRES_PASSWORD is not set'
        log '       set POSTGRES_PASSWORD, or POSTGRES_HOST_AUTH_METHOD=trust to allow all connections'
        exit 1
    fi

    log "initialising PostgreSQL $PG_MAJOR in $PGDATA (user=$POSTGRES_USER db=$POSTGRES_DB)"
    pwfile="$(mktemp)"
    printf '%s\n' "${POSTGRES_PASSWORD:-unused}" >"$pwfile"
    # shellcheck disable=SC2086  # POSTGRES_INITDB_ARGS is a word list by contract
    initdb --username="$POSTGRES_USER" --pwfile="$pwfile" --auth-local=trust \
        ${POSTGRES_INITDB_ARGS:-} >&2
    rm -f "$pwfile"

    {
        echo
        echo '# added by docker-entrypoint.sh: reachable through published ports'
        echo "listen_addresses = '*'"
    } >>"$PGDATA/postgresql.conf"
    {
        echo
        echo '# added by docker-entrypoint.sh'
        echo "host all all all $POSTGRES_HOST_AUTH_METHOD"
    } >>"$PGDATA/pg_hba.conf"

    # Temporary server: unix socket only, so TCP clients cannot mistake it for the real one.
    pg_ctl -D "$PGDATA" -o "-c listen_addresses='' -p 5432" -w start >&2

    psql_local=(psql -v ON_ERROR_STOP=1 --no-psqlrc --username "$POSTGRES_USER" --no-password)
    if [ "$POSTGRES_DB" != 'postgres' ]; then
        # :"db" quotes the name as an identifier; psql expands variables in scripts, not in -c.
        printf 'CREATE DATABASE :"db";\n' |
            "${psql_local[@]}" --dbname postgres --set db="$POSTGRES_DB" >&2
    fi

    shopt -s nullglob
    for f in /docker-entrypoint-initdb.d/*; do
        case "$f" in
            *.sh)
                # Official semantics: executable scripts run, others are sourced.
                log "running $f"
                if [ -x "$f" ]; then "$f"; else . "$f"; fi
                ;;
            *.sql) log "running $f"; "${psql_local[@]}" --dbname "$POSTGRES_DB" -f "$f" >&2 ;;
            *.sql.gz) log "running $f"; gunzip -c "$f" | "${psql_local[@]}" --dbname "$POSTGRES_DB" >&2 ;;
            *) log "ignoring $f" ;;
        esac
    done
    shopt -u nullglob

    pg_ctl -D "$PGDATA" -m fast -w stop >&2
    log 'PostgreSQL init process complete; ready for start up.'
fi

exec "$@"
