#!/usr/bin/env bash
# repro fix script: bring staging closer to prod.
# Generated from prod (2025-06-01T03:00:00Z) and staging (2025-06-01T03:05:00Z).
# NOTHING WAS EXECUTED. Review every line, then run it against staging only, with REPRO_FIX_REVIEWED=1.
# Secrets are placeholders (prod's fingerprint tells which value): fill them from your
# vault. Nothing below has ever seen a secret's value.
set -euo pipefail
: "${REPRO_FIX_REVIEWED:?review this script first, then run it with REPRO_FIX_REVIEWED=1}"

# Python distributions pinned to prod's versions (PYTHON= picks the interpreter)
PYTHON="${PYTHON:-}"
if [ -z "$PYTHON" ]; then PYTHON=/usr/bin/python3; fi
"$PYTHON" -m pip install -- demo-pricing==2.1.0

# File owners and modes as in prod
chown -- :root /etc/demo-app/settings.yaml
chmod -- 0600 /etc/demo-app/settings.yaml

# PostgreSQL, as a superuser of the staging server
sql=(
    # extension hstore: prod has the older 1.4; extensions cannot be downgraded in place (drop and CREATE EXTENSION hstore VERSION '1.4')
    # prod value; risky: changes query results or failures
    -c $'ALTER SYSTEM SET TimeZone = \'America/New_York\';'
    # prod value
    -c $'ALTER SYSTEM SET random_page_cost = \'1.1\';'
    -c 'SELECT pg_reload_conf();'
)
psql -X -v ON_ERROR_STOP=1 -d "${STAGING_DSN:?set STAGING_DSN to the staging database}" "${sql[@]}"

# Environment as in prod: put these where the app's environment is defined
# (systemd unit, compose file, manifest); exporting here affects this shell only.
export FEATURE_NEW_CHECKOUT=1
export DATABASE_URL='<secret: set from your vault like postgresql://app:***@db:5432/shop; prod fingerprint hmac-sha256:0123456789ab:bf9b8f1e5ecc6d51a19ce0cbe2705ae1>'
export SECRET_KEY='<secret: set from your vault; prod fingerprint hmac-sha256:0123456789ab:41015c7dd50deaed6c1d9305a822b65f>'

# Not fixed automatically (review by hand):
# [critical] database.server.major: PostgreSQL versions cannot be changed by a script; run staging on prod's version (PostgreSQL 13 in prod vs 15 in staging: major versions differ (planner, defaults, features))
# [critical] files.paths./etc/demo-app/settings.yaml.access.read: app cannot read /etc/demo-app/settings.yaml in prod (can in staging) — follows from mode, owner and group (the chmod/chown lines above) and the parent directories
# [high] database.statistics.public.customers.columns.email.null_frac: not fixable by a command: public.customers.email: 5.0% NULL in prod vs none in staging: NULLs only in prod
# [high] runtime.cgroup.memory_limit_bytes: not fixable by a command: memory limit: 256 MiB in prod vs 512 MiB in staging (less in prod)
# [medium] config: incomparable, nothing generated: partial in staging: /etc/demo-app/local.yaml: permission denied
# [medium] database.statistics.public.customers.rows_estimate: not fixable by a command: public.customers: 20,000 rows in prod vs 3 in staging: data volume differs 6,667×
# [medium] schedules.jobs.cron:/etc/cron.d/demo-nightly-backup:/usr/local/bin/demo-backup: not fixable by a command: runs 0 3 * * * as root in prod only: pg_dump postgresql://backup:***@db/shop > /backup/shop.sql
