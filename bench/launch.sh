#!/usr/bin/env bash
# Launch latency: pysandbox (cold CLI, warm API) vs bwrap and runc. See bench/launch.py.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
exec "$here/../.venv/bin/python" "$here/launch.py" "$@"
