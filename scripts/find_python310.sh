#!/usr/bin/env bash
# Prints the path of a Python 3.10 interpreter (Rasa 3.6 needs it), or fails clearly.
set -u
for candidate in "${PYTHON310:-}" "$(pyenv prefix 3.10 2>/dev/null | head -n1)/bin/python" "$(command -v python3.10 2>/dev/null)"; do
  if [ -n "$candidate" ] && [ -x "$candidate" ] && "$candidate" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 10))' 2>/dev/null; then
    echo "$candidate"; exit 0
  fi
done
echo "error: Python 3.10 is required for Rasa 3.6 and was not found." >&2
echo "       Install it (e.g. 'pyenv install 3.10') or set PYTHON310=/path/to/python3.10." >&2
exit 1
