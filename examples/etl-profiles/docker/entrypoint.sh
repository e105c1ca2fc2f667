#!/bin/bash
# Every role: wait for the database (at most DB_WAIT_TIMEOUT seconds, each
# attempt a JSON log line), then become the role's command.
set -o errexit -o nounset -o pipefail

python -m etl.waitdb --timeout "${DB_WAIT_TIMEOUT:-30}"
exec "$@"
