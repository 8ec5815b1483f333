#!/usr/bin/env bash
# Start a PostgreSQL server for the test suite and print its URL on stdout.
#
# The server is a cluster of its own (not the system's), in $VELLUM_TEST_PG_DIR
# (default /tmp/vellum-test-pg-UID), listening on 127.0.0.1 only, port
# $VELLUM_TEST_PG_PORT (default 54329). Idempotent: a running server is reused.
# As root the server runs as the 'postgres' user; as anyone else, as that user
# (no sudo needed once the PostgreSQL package is installed: `make system-deps`).
# It creates the role 'vellum' (password 'vellum', may create databases) and its
# database 'vellum_test'; each test works in a fresh schema of it and drops it.
set -euo pipefail

PORT="${VELLUM_TEST_PG_PORT:-54329}"
DIR="${VELLUM_TEST_PG_DIR:-/tmp/vellum-test-pg-$(id -u)}"

BIN="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)"
if [ -z "$BIN" ] || [ ! -x "$BIN/initdb" ]; then
    echo "postgres.sh: PostgreSQL is not installed (run 'make system-deps')" >&2
    exit 1
fi

as_owner() {
    if [ "$(id -u)" = 0 ]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

if [ ! -s "$DIR/PG_VERSION" ]; then
    mkdir -p "$DIR"
    chmod 700 "$DIR"
    if [ "$(id -u)" = 0 ]; then chown postgres: "$DIR"; fi
    as_owner "$BIN/initdb" -D "$DIR" -U postgres -E UTF8 --locale=C.UTF-8 \
        --auth-local=trust --auth-host=scram-sha-256 >"$DIR.initdb.log" 2>&1 || {
        cat "$DIR.initdb.log" >&2
        exit 1
    }
fi

if ! as_owner "$BIN/pg_ctl" -D "$DIR" status >/dev/null 2>&1; then
    as_owner "$BIN/pg_ctl" -D "$DIR" -l "$DIR/server.log" -w -t 60 \
        -o "-c listen_addresses=127.0.0.1 -p $PORT -k $DIR -c fsync=off" start >/dev/null || {
        tail -n 20 "$DIR/server.log" >&2
        exit 1
    }
fi

psql_admin() {
    as_owner "$BIN/psql" -h "$DIR" -p "$PORT" -U postgres -d postgres -v ON_ERROR_STOP=1 -qtA "$@"
}
if [ -z "$(psql_admin -c "SELECT 1 FROM pg_roles WHERE rolname = 'vellum'")" ]; then
    psql_admin -c "CREATE ROLE vellum LOGIN CREATEDB PASSWORD 'vellum'"
fi
if [ -z "$(psql_admin -c "SELECT 1 FROM pg_database WHERE datname = 'vellum_test'")" ]; then
    psql_admin -c "CREATE DATABASE vellum_test OWNER vellum"
fi

echo "postgresql+psycopg://vellum:vellum@127.0.0.1:$PORT/vellum_test"
