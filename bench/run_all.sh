#!/usr/bin/env bash
# Runs every benchmark in turn; each prints its own table of ratios.
set -uo pipefail
cd "$(dirname "$0")"
status=0
for script in launch.sh seccomp.py lint.py scan.py images.py audit.py; do
  [ -e "$script" ] || continue
  echo "=== $script"
  case "$script" in
    *.sh) bash "$script" || status=1 ;;
    *.py) python "$script" || status=1 ;;
  esac
done
exit $status
