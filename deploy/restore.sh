#!/usr/bin/env bash
# Restore a dump made by backup.sh into a database that exists (it may be empty or hold an older copy).
#
#   restore.sh DUMP DATABASE [ROLE]
#
# DATABASE is a name or a postgresql:// URI. Objects that exist in the dump are dropped and recreated
# (--clean --if-exists), in ONE transaction: a restore that fails changes nothing. Ownership in the dump is
# ignored (--no-owner) and so are GRANTs (--no-privileges; the owner needs none): everything belongs to ROLE
# when given (SET ROLE after connecting; run as postgres and give the app's role, atu), else to whoever
# connects. Stop the web and scheduler units before restoring into the live database; a restore drill goes
# into a scratch database instead (deploy/README.md).
set -euo pipefail

if [ $# -lt 2 ] || [ $# -gt 3 ]; then
    echo "usage: $0 DUMP DATABASE [ROLE]" >&2
    exit 2
fi
dump=$1
database=$2
role=${3:-}

if [ ! -r "$dump" ]; then
    echo "restore.sh: cannot read $dump" >&2
    exit 2
fi
# A damaged or foreign file stops here, before anything is dropped.
pg_restore --list "$dump" >/dev/null

pg_restore --clean --if-exists --no-owner --no-privileges --single-transaction --exit-on-error \
    ${role:+--role="$role"} --dbname="$database" "$dump"
echo "restore.sh: restored $dump into $database"
