#!/usr/bin/env bash
# System packages that pip cannot provide, installed with apt-get when missing.
#   tools/sysdeps.sh test     R with survey, ordinal, lme4 and MASS (the references for the survey
#                             statistics and the regression models), Debian's chromium (browser
#                             tests) and a CJK font: everything `make test` needs
#   tools/sysdeps.sh reports  only the CJK font for Chinese map labels (optional: without it,
#                             maps fall back to English labels with a warning)
# Does nothing when everything is present.
set -euo pipefail
mode=${1:-test}
need=()
# The font list is read whole before grep looks at it: with `fc-list | grep -q` under pipefail, grep
# exits at the first match, fc-list dies of SIGPIPE, and the pipeline "fails" although the font is there.
has_font() {
  local fonts
  fonts=$(fc-list : family 2>/dev/null) || return 1
  grep -qiE 'wenquanyi|noto sans (cjk|sc)|source han sans|simhei|microsoft yahei|pingfang|arial unicode' <<<"$fonts"
}
if [ "$mode" = test ]; then
  # R packages: looked up without loading them (fast); apt-get skips the ones already there
  rpkgs='c("survey", "ordinal", "lme4", "MASS")'
  { command -v Rscript >/dev/null &&
    Rscript -e "quit(status = length(find.package($rpkgs, quiet = TRUE)) != 4)" >/dev/null 2>&1; } ||
    need+=(r-base-core r-cran-survey r-cran-ordinal r-cran-lme4 r-cran-mass)
  command -v chromium >/dev/null || need+=(chromium)
fi
has_font || need+=(fonts-wqy-microhei)
[ ${#need[@]} -eq 0 ] && exit 0
SUDO=""
if [ "$(id -u)" != 0 ]; then
  if command -v sudo >/dev/null && sudo -n true 2>/dev/null; then SUDO=sudo
  elif [ "$mode" = reports ]; then
    echo "warning: no CJK font and no root to install fonts-wqy-microhei; Chinese map labels fall back to English" >&2
    exit 0
  else
    echo "error: the tests need ${need[*]}; run as root or install them: sudo apt-get install ${need[*]}" >&2
    exit 1
  fi
fi
command -v apt-get >/dev/null || { echo "error: apt-get not found; install by hand: ${need[*]}" >&2; exit 1; }
echo ">> installing system packages: ${need[*]}"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
# fontconfig's cache is refreshed by a dpkg trigger that does not always run (e.g. in containers)
if command -v fc-cache >/dev/null; then $SUDO fc-cache >/dev/null 2>&1 || true; fi
echo ">> system packages ready"
