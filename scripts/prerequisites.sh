#!/usr/bin/env bash
# Finds what the app and its test suite need outside npm: redis-server (or a Redis answering on
# REDIS_URL / 127.0.0.1:6379), Debian's Chromium for the browser tests, and CJK fonts so Chinese
# pages render. Installs what is missing with apt-get when it can (root or passwordless sudo);
# otherwise stops at once with the one command to run. Used by `npm test` (pretest), `.ci/run`
# and `npm start` (which needs only Redis).
#   scripts/prerequisites.sh           everything the tests need
#   scripts/prerequisites.sh --redis   only Redis
set -uo pipefail

only_redis=false
[ "${1:-}" = "--redis" ] && only_redis=true

redis_answers() {
  local url="${REDIS_URL:-redis://127.0.0.1:6379}" hostport host port
  hostport="${url#*://}"; hostport="${hostport##*@}"; hostport="${hostport%%/*}"
  host="${hostport%%:*}"; port="${hostport##*:}"; [ "$port" = "$hostport" ] && port=6379
  (exec 3<>"/dev/tcp/$host/$port") 2>/dev/null
}

missing=()
command -v redis-server >/dev/null 2>&1 || redis_answers || missing+=(redis-server)
if ! $only_redis; then
  [ -x "${CHROMIUM_PATH:-/usr/bin/chromium}" ] || missing+=(chromium)
  fc-list 2>/dev/null | grep -qi 'noto sans cjk' || missing+=(fonts-noto-cjk)
fi
[ ${#missing[@]} -eq 0 ] && exit 0

command_line="sudo apt-get update && sudo apt-get install -y --no-install-recommends ${missing[*]}"
if [ "$(id -u)" = 0 ]; then as_root=(); elif sudo -n true 2>/dev/null; then as_root=(sudo -n); else
  echo "Missing: ${missing[*]}. Install them once, then run the command again:" >&2
  echo "  $command_line" >&2
  exit 1
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "Missing: ${missing[*]}, and this machine has no apt-get. Install them with its package manager (Debian names given)." >&2
  exit 1
fi
echo "installing ${missing[*]} (apt-get) …"
if ! "${as_root[@]}" apt-get update -qq >/dev/null \
  || ! "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null; then
  echo "Could not install ${missing[*]}. Run:" >&2
  echo "  $command_line" >&2
  exit 1
fi
echo "installed ${missing[*]}"
