#!/usr/bin/env bash
# System packages the tests need and pip cannot provide:
#   R with the survey package (reference for survey statistics),
#   Debian's chromium (browser tests), a CJK font (Chinese map labels).
# Installs them with apt-get when missing; does nothing when present.
set -euo pipefail
need=()
command -v Rscript >/dev/null && Rscript -e 'suppressMessages(library(survey))' >/dev/null 2>&1 || need+=(r-base-core r-cran-survey)
command -v chromium >/dev/null || need+=(chromium)
fc-list 2>/dev/null | grep -qiE 'wqy|noto sans cjk' || need+=(fonts-wqy-microhei)
[ ${#need[@]} -eq 0 ] && exit 0
echo ">> installing system packages: ${need[*]}"
SUDO=""
if [ "$(id -u)" != 0 ]; then
  command -v sudo >/dev/null || { echo "error: need root (or sudo) to apt-get install ${need[*]}" >&2; exit 1; }
  SUDO=sudo
fi
command -v apt-get >/dev/null || { echo "error: apt-get not found; install by hand: ${need[*]}" >&2; exit 1; }
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
echo ">> system packages ready"
