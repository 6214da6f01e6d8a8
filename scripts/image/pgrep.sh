#!/bin/sh
# pgrep for the XCom sidecar image: Debian's busybox-static is built without it, and the
# KubernetesPodOperator stops its sidecar with `kill -2 $(pgrep -u $(id -u) -f 'sh')` (its fallback
# loop over /proc/*/comm works too, after a logged failure). The options that command uses:
#   pgrep [-u UID[,UID…]] [-f] PATTERN     prints matching process ids; exit 1 when none match
# PATTERN is an extended regular expression matched against the process name (comm) or, with -f,
# the whole command line. The pgrep process itself is never listed.
uids="" full=0
while [ $# -gt 1 ]; do
  case "$1" in
    -u) uids=",$2,"; shift 2 ;;
    -f) full=1; shift ;;
    *) echo "pgrep: unsupported option $1 (this pgrep knows -u and -f)" >&2; exit 2 ;;
  esac
done
[ $# -eq 1 ] || { echo "usage: pgrep [-u UID] [-f] PATTERN" >&2; exit 2; }
pattern="$1" status=1
for dir in /proc/[0-9]*; do
  pid="${dir#/proc/}"
  [ "$pid" = "$$" ] && continue
  if [ -n "$uids" ]; then
    owner="$(stat -c %u "$dir" 2>/dev/null)" || continue
    case "$uids" in *",$owner,"*) ;; *) continue ;; esac
  fi
  if [ "$full" = 1 ]; then
    text="$(tr '\0' ' ' <"$dir/cmdline" 2>/dev/null)"
  else
    read -r text <"$dir/comm" 2>/dev/null || continue
  fi
  [ -n "$text" ] || continue
  if printf '%s\n' "${text% }" | grep -q -E -e "$pattern"; then
    echo "$pid"
    status=0
  fi
done
exit "$status"
