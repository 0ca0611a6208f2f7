#!/usr/bin/env bash
# Fails when a C++ source of ours is not formatted as .clang-format says
# (clang-format 14, Debian 12's). Reformat with:  scripts/check_format.sh --fix
# Exit 77 (a skipped test) where another clang-format major version is
# installed: versions format differently, so only 14 is the reference.
set -euo pipefail
cd "$(dirname "$0")/.."

CLANG_FORMAT="${CLANG_FORMAT:-clang-format}"
if ! command -v "$CLANG_FORMAT" >/dev/null 2>&1; then
  echo "check_format: $CLANG_FORMAT not found (scripts/deps.sh installs it)" >&2
  exit 1
fi
major=$("$CLANG_FORMAT" --version | sed -E 's/.*version ([0-9]+).*/\1/')
if [ "$major" != "14" ]; then
  echo "check_format: clang-format $major is not the reference version 14; skipped"
  exit 77
fi

mapfile -d '' files < <(find core ui app tests \( -name '*.cpp' -o -name '*.hpp' \) -print0 | sort -z)
if [ "${1:-}" = "--fix" ]; then
  "$CLANG_FORMAT" -i "${files[@]}"
  exit 0
fi
report=$(mktemp)
trap 'rm -f "$report"' EXIT
if ! "$CLANG_FORMAT" --dry-run --Werror "${files[@]}" 2>"$report"; then
  grep -E '^[^ ].*: (error|warning):' "$report" | cut -d: -f1 | sort | uniq -c | sort -rn | head -40 >&2
  echo "check_format: the files above are not formatted (${#files[@]} checked); run scripts/check_format.sh --fix" >&2
  exit 1
fi
echo "check_format: ${#files[@]} files formatted as .clang-format says"
