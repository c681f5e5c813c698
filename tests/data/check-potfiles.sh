#!/usr/bin/env bash
# Copyright 2026 The Switchyard authors
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Checks po/POTFILES.in against the tree, as libadwaita's CI does: every file under app/, ui/
# and backend/ that marks strings for translation, and every translatable data/*.in file, must
# be listed; every listed file must exist; the list must be sorted and free of duplicates.
#
# Usage: check-potfiles.sh SRCDIR [POTFILES]   (POTFILES defaults to SRCDIR/po/POTFILES.in)
set -euo pipefail
export LC_ALL=C

srcdir="${1:?usage: check-potfiles.sh SRCDIR [POTFILES]}"
potfiles="${2:-$srcdir/po/POTFILES.in}"
cd "$srcdir"

if [ ! -r "$potfiles" ]; then
  echo "FAIL: cannot read $potfiles"
  exit 1
fi

# The listed files, without comments and blank lines.
listed="$(sed -e 's/#.*//' -e 's/[[:space:]]*$//' -e '/^$/d' "$potfiles")"

# gettext calls in C (_(), N_(), C_(), NC_(), Q_(), with or without a space before the
# parenthesis, and the plural/context functions) and translatable properties in .ui files.
code_pattern='(^|[^A-Za-z0-9_])(N|C|NC|Q)?_ ?\(|g_dngettext|g_dpgettext2?|(^|[^A-Za-z0-9_])ngettext ?\(|translatable="yes"'
# Desktop keys, metainfo and gschema elements that xgettext extracts.
data_pattern='^(Name|GenericName|Comment|Keywords)=|<(name|summary|description|caption|p|li)>'

failed=0

while IFS= read -r file; do
  [ -n "$file" ] || continue
  if ! grep -qxF -- "$file" <<<"$listed"; then
    echo "FAIL: $file has translatable strings but is not in po/POTFILES.in"
    failed=1
  fi
  case "$file" in
    backend/*) echo "NOTE: $file is in the backend, whose REST texts stay English" ;;
  esac
done < <(
  {
    find app ui backend -type f \( -name '*.c' -o -name '*.h' -o -name '*.ui' \) -print0 2>/dev/null |
      xargs -0 -r grep -lE -- "$code_pattern" || true
    find data -maxdepth 1 -type f -name '*.in' -print0 |
      xargs -0 -r grep -lE -- "$data_pattern" || true
  } | sort -u
)

while IFS= read -r file; do
  [ -n "$file" ] || continue
  if [ ! -f "$file" ]; then
    echo "FAIL: $file is listed in po/POTFILES.in but does not exist"
    failed=1
  fi
done <<<"$listed"

if [ "$(sort <<<"$listed")" != "$listed" ]; then
  echo "FAIL: po/POTFILES.in is not sorted (LC_ALL=C sort)"
  failed=1
fi

duplicates="$(sort <<<"$listed" | uniq -d)"
if [ -n "$duplicates" ]; then
  echo "FAIL: listed more than once in po/POTFILES.in: $duplicates"
  failed=1
fi

if [ "$failed" -ne 0 ]; then
  exit 1
fi
echo "ok: po/POTFILES.in lists every file with translatable strings ($(wc -l <<<"$listed") files)"
