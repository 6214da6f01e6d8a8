#!/bin/sh
# containerd's runc binary for the test cluster. Without CAP_SYS_RESOURCE the kernel refuses a
# negative oom_score_adj, and the kubelet asks for -998 on every pod sandbox (-997 for
# Guaranteed pods), so runc would fail every pod. Rewrites a negative oomScoreAdj in the
# bundle's config.json to 0, then runs the real runc with the same arguments.
bundle=""
previous=""
for argument in "$@"; do
  case "$previous" in --bundle | -b) bundle="$argument" ;; esac
  case "$argument" in --bundle=*) bundle="${argument#--bundle=}" ;; esac
  previous="$argument"
done
if [ -n "$bundle" ] && [ -f "$bundle/config.json" ]; then
  sed -i -E 's/"oomScoreAdj": *-[0-9]+/"oomScoreAdj":0/' "$bundle/config.json"
fi
exec /usr/bin/runc "$@"
