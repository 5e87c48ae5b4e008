#!/usr/bin/env bash
# Dump the ATU Facilities database into a date-stamped file and keep the last 14 days of them.
# Run nightly by atu-facilities-backup.timer as the postgres user; by hand: runuser -u postgres -- backup.sh
#
#   ATU_BACKUP_DATABASE   database name or postgresql:// URI to dump     (default atu_facilities)
#   ATU_BACKUP_DIR        where the dumps go                             (default /var/backups/atu-facilities)
#   ATU_BACKUP_KEEP_DAYS  dumps older than this many days are deleted   (default 14)
#
# Each dump is pg_dump's custom format (compressed; restore.sh restores it), written under a temporary name
# and renamed once pg_restore has read its table of contents back, so a file named *.dump is complete.
# Old dumps are deleted only after a new one succeeded.
set -euo pipefail

database=${ATU_BACKUP_DATABASE:-atu_facilities}
dir=${ATU_BACKUP_DIR:-/var/backups/atu-facilities}
keep_days=${ATU_BACKUP_KEEP_DAYS:-14}
case $keep_days in '' | *[!0-9]* | 0) echo "backup.sh: ATU_BACKUP_KEEP_DAYS must be a whole number of days, at least 1" >&2; exit 2 ;; esac

umask 077
mkdir -p "$dir"
stamp=$(date -u +%Y%m%dT%H%M%SZ)
target="$dir/atu-facilities-$stamp.dump"
partial="$target.partial"
trap 'rm -f "$partial"' EXIT

pg_dump --format=custom --file="$partial" --dbname="$database"
pg_restore --list "$partial" >/dev/null
mv "$partial" "$target"
echo "backup.sh: wrote $target ($(du -h "$target" | cut -f1))"

# -mtime +N is "at least N+1 whole days old": keep_days=14 keeps today's dump and the 13 before it.
find "$dir" -maxdepth 1 -type f -name 'atu-facilities-*.dump' -mtime +"$((keep_days - 1))" -print -delete |
    sed 's/^/backup.sh: deleted /'
