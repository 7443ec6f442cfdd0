#!/bin/sh
# Benchmark flaskr with wrk: bench/run.sh [--posts N] [--tags N] [--duration S] [--connections C]
# Uses the repository's .venv (or $PYTHON) so flaskr, gunicorn and granian come from one place.
here=$(cd "$(dirname "$0")" && pwd)
python=${PYTHON:-"$here/../.venv/bin/python"}
exec "$python" "$here/run.py" "$@"
