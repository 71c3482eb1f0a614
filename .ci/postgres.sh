#!/usr/bin/env bash
# `make test-postgres`: the store, migration and scheduler tests against a throwaway PostgreSQL.
#
# Installs PostgreSQL from the system packages when initdb/pg_ctl are missing (root only), installs the
# `postgres` extra (psycopg) into .venv, starts a private server on 127.0.0.1 on a free port with a temporary
# data directory, creates a database, runs `pytest -m postgres tests` (every test marked postgres) with
# TEST_DATABASE_URL pointing at it, then stops the server and removes the data directory (also on failure).
set -euo pipefail
cd "$(dirname "$0")/.."

PY=${PY:-.venv/bin/python}
DB_USER=saxo
DB_NAME=saxo_bot_test
say() { printf 'test-postgres: %s\n' "$*" >&2; }

[ -x "$PY" ] || { say "no $PY: run 'make test-postgres' (it builds .venv) or 'make test' first"; exit 1; }

# ---- PostgreSQL binaries -------------------------------------------------------------------------------
find_pg_bin() {
    local dir
    dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
    if [ -n "$dir" ] && [ -x "$dir/initdb" ] && [ -x "$dir/pg_ctl" ]; then
        echo "$dir"
        return
    fi
    if command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1; then
        dirname "$(readlink -f "$(command -v pg_ctl)")"
    fi
}

PG_BIN=$(find_pg_bin)
if [ -z "$PG_BIN" ]; then
    if [ "$(id -u)" -ne 0 ]; then
        say "PostgreSQL (initdb, pg_ctl) is not installed and this is not root: install the 'postgresql' package"
        exit 1
    fi
    say "installing PostgreSQL from the system packages (apt-get)"
    started=$SECONDS
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends postgresql >/dev/null
    say "PostgreSQL installed in $((SECONDS - started)) s"
    PG_BIN=$(find_pg_bin)
    [ -n "$PG_BIN" ] || { say "postgresql installed but no initdb/pg_ctl under /usr/lib/postgresql/*/bin"; exit 1; }
fi
say "using $("$PG_BIN/postgres" --version) from $PG_BIN"

# ---- psycopg in the venv -------------------------------------------------------------------------------
if ! "$PY" -c "import psycopg" >/dev/null 2>&1; then
    say "installing the postgres extra (psycopg) into .venv"
    "$PY" -m pip install --quiet -e ".[postgres]"
fi

# ---- a throwaway server --------------------------------------------------------------------------------
# initdb and postgres refuse to run as root: as root the server runs as the 'postgres' system user (created
# by the Debian package) or, failing that, as 'nobody'.
RUN_AS=()
if [ "$(id -u)" -eq 0 ]; then
    if id postgres >/dev/null 2>&1; then server_user=postgres; else server_user=nobody; fi
    RUN_AS=(runuser -u "$server_user" --)
fi

WORK=$(mktemp -d "${TMPDIR:-/tmp}/saxo-bot-pg.XXXXXX")
DATA="$WORK/data"
LOG="$WORK/server.log"
server_started=0

cleanup() {
    local status=$?
    if [ "$server_started" = 1 ]; then
        "${RUN_AS[@]}" "$PG_BIN/pg_ctl" -D "$DATA" -m fast -w -t 30 stop >/dev/null 2>&1 \
            || "${RUN_AS[@]}" "$PG_BIN/pg_ctl" -D "$DATA" -m immediate -w stop >/dev/null 2>&1 || true
    fi
    if [ "$status" -ne 0 ] && [ -f "$LOG" ]; then
        say "server log (last lines):"
        tail -n 20 "$LOG" >&2 || true
    fi
    rm -rf "$WORK"
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

PASSWORD=$("$PY" -c "import secrets; print(secrets.token_hex(16))")
PORT=$("$PY" -c "import socket; s = socket.socket(); s.bind(('127.0.0.1', 0)); print(s.getsockname()[1])")
printf '%s\n' "$PASSWORD" >"$WORK/pwfile"
chmod 0600 "$WORK/pwfile"
if [ "${#RUN_AS[@]}" -gt 0 ]; then
    chmod 0755 "$WORK"
    chown "$server_user" "$WORK" "$WORK/pwfile"
fi

"${RUN_AS[@]}" "$PG_BIN/initdb" -D "$DATA" --username="$DB_USER" --pwfile="$WORK/pwfile" \
    --auth-local=trust --auth-host=scram-sha-256 --encoding=UTF8 --locale=C >"$WORK/initdb.log" 2>&1 \
    || { cat "$WORK/initdb.log" >&2; exit 1; }
rm -f "$WORK/pwfile"

server_started=1
"${RUN_AS[@]}" "$PG_BIN/pg_ctl" -D "$DATA" -l "$LOG" -w -t 60 \
    -o "-c listen_addresses=127.0.0.1 -p $PORT -k $WORK -c fsync=off -c full_page_writes=off" start >/dev/null

PGPASSWORD=$PASSWORD "$PG_BIN/createdb" -h 127.0.0.1 -p "$PORT" -U "$DB_USER" "$DB_NAME"
say "throwaway server on 127.0.0.1:$PORT, database $DB_NAME (data in $DATA)"

export TEST_DATABASE_URL="postgresql+psycopg://$DB_USER:$PASSWORD@127.0.0.1:$PORT/$DB_NAME"

# ---- the tests -----------------------------------------------------------------------------------------
started=$SECONDS
"$PY" -m pytest -p no:cacheprovider -m postgres tests "$@"
say "postgres tests passed in $((SECONDS - started)) s"
