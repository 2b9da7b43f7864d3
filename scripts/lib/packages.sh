# shellcheck shell=bash
# Sourced by scripts/setup.sh and scripts/sanitize.sh: installs the Debian
# packages given that are not installed yet (apt-get, through sudo when not
# root). Returns non-zero if apt-get fails; prints what it installs, after
# FLASHC_LOG_PREFIX.
flashc_install_packages() {
  local missing=() p
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  local sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  echo "${FLASHC_LOG_PREFIX:-}installing ${missing[*]}"
  $sudo apt-get update -qq &&
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq \
      --no-install-recommends "${missing[@]}"
}
