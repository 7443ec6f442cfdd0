#!/bin/sh
# Issue 9's benchmark: bench/run.sh [--quick] [--million | --sizes N,N...] [--no-pg] [--ref REF] ...
# (bench/run.py --help lists every option; bench/RESULTS.md says what a run does.)
# Uses the repository's .venv (or $PYTHON) so flaskr, granian and psycopg come from one place.
here=$(cd "$(dirname "$0")" && pwd)
python=${PYTHON:-"$here/../.venv/bin/python"}
exec "$python" "$here/run.py" "$@"
