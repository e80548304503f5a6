#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for the `postgres` feature's tests.
#
#   source .ci/postgres.sh
#   pg_start && ...tests using $TOKIO_TWISTED_PG_URL...; pg_stop
#
# pg_start installs PostgreSQL from the distribution's packages when its binaries are
# missing (as root, non-interactively), creates a cluster in a temporary directory owned
# by an unprivileged user (initdb refuses to run as root), and starts it listening only
# on a unix socket in that directory, so no TCP port is taken. On success it exports
# TOKIO_TWISTED_PG_URL; on failure it prints why and returns non-zero (the tests then
# skip with that reason).

pg_bindir() {
    local d
    if command -v pg_ctl >/dev/null 2>&1 && command -v initdb >/dev/null 2>&1; then
        dirname "$(command -v pg_ctl)"
        return 0
    fi
    for d in /usr/lib/postgresql/*/bin; do
        if [[ -x $d/pg_ctl && -x $d/initdb ]]; then
            echo "$d"
            return 0
        fi
    done
    return 1
}

pg_start() {
    local bindir user
    if ! bindir=$(pg_bindir); then
        if [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null 2>&1; then
            echo "installing PostgreSQL from the distribution's packages"
            DEBIAN_FRONTEND=noninteractive apt-get update -qq </dev/null >/dev/null || true
            DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql </dev/null >/dev/null ||
                echo "note: apt-get install postgresql failed"
        fi
        if ! bindir=$(pg_bindir); then
            echo "note: no PostgreSQL binaries (initdb, pg_ctl) and none could be installed"
            return 1
        fi
    fi
    PG_DIR=$(mktemp -d /tmp/tokio-twisted-pg.XXXXXX)
    chmod 755 "$PG_DIR"
    user=$(id -un)
    if [[ $(id -u) == 0 ]]; then
        user=postgres
        id "$user" >/dev/null 2>&1 || useradd --system --no-create-home "$user" || return 1
        chown "$user" "$PG_DIR"
    fi
    pg_as() {
        if [[ $(id -u) == 0 ]]; then
            runuser -u "$user" -- "$@"
        else
            "$@"
        fi
    }
    if ! pg_as "$bindir/initdb" -D "$PG_DIR/data" -U postgres --auth=trust -E UTF8 --no-sync >"$PG_DIR/initdb.log" 2>&1; then
        cat "$PG_DIR/initdb.log"
        echo "note: initdb failed"
        return 1
    fi
    if ! pg_as "$bindir/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/server.log" -w -t 60 \
        -o "-c listen_addresses='' -k $PG_DIR -c fsync=off -c max_connections=50" start >/dev/null; then
        cat "$PG_DIR/server.log"
        echo "note: the PostgreSQL server did not start"
        return 1
    fi
    PG_BINDIR=$bindir
    PG_USER=$user
    export TOKIO_TWISTED_PG_URL="host=$PG_DIR port=5432 user=postgres dbname=postgres"
    echo "PostgreSQL running: $TOKIO_TWISTED_PG_URL"
}

pg_stop() {
    if [[ -n ${PG_DIR:-} && -d $PG_DIR/data ]]; then
        if [[ $(id -u) == 0 ]]; then
            runuser -u "$PG_USER" -- "$PG_BINDIR/pg_ctl" -D "$PG_DIR/data" -m fast -w stop >/dev/null || true
        else
            "$PG_BINDIR/pg_ctl" -D "$PG_DIR/data" -m fast -w stop >/dev/null || true
        fi
    fi
    [[ -n ${PG_DIR:-} ]] && rm -rf "$PG_DIR"
    unset TOKIO_TWISTED_PG_URL PG_DIR
}
