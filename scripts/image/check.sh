#!/usr/bin/env bash
# Checks the images scripts/image.sh built, the way the cluster runs them (podman, runc):
#   - the training image trains MNIST and the power model as uid 1000 on a read-only root
#     filesystem with only /tmp writable, and records the commit it was built from;
#   - the XCom sidecar stops on the operator's kill command (exit 0) and on SIGTERM within a
#     second (plain busybox sh as PID 1 ignores SIGTERM and waits for the whole grace period);
#   - the pause image exits 0 on SIGTERM.
# Usage: scripts/image/check.sh [--tag TAG]      (after scripts/image.sh [--tag TAG]; as root)
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
tag="$(node -p "require('$root/package.json').version")"
if [ "${1:-}" = --tag ]; then tag="${2:?--tag needs a value}"; fi
podman() { "$root/scripts/image.sh" podman "$@"; }
image="localhost/ml-platform/podtrain:$tag"
sidecar="localhost/ml-platform/podtrain-xcom-sidecar:$tag"
pause_image="localhost/pause:3.10"
failures=0
ok() { echo "check: ok: $*"; }
bad() { echo "check: FAILED: $*" >&2; failures=$((failures + 1)); }
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }
locked=(--rm --read-only --tmpfs /tmp --user 1000 --network host)
names=()
cleanup() { for n in "${names[@]}"; do podman rm -f "$n" >/dev/null 2>&1 || true; done; }
trap cleanup EXIT

if out="$(podman run "${locked[@]}" "$image" mnist --epochs 1 --train-limit 500 --test-limit 200 \
  --no-register --tracking-uri /tmp/mlruns 2>&1)" && grep -q "test_accuracy" <<<"$out" && grep -q "evaluate_report_seconds" <<<"$out"; then
  ok "mnist trains and renders its evaluation report in $image (read-only root, uid 1000)"
else
  bad "mnist in $image: $(tail -3 <<<"$out")"
fi
if out="$(podman run "${locked[@]}" --entrypoint /bin/sh "$image" -c \
  'train power generate --out /tmp/power.txt --days 60 --seed 1 && train power --data-file /tmp/power.txt --no-register --tracking-uri /tmp/mlruns' 2>&1)" \
  && grep -q "test_skill_vs_seasonal_naive" <<<"$out" && grep -q "evaluate_report_seconds" <<<"$out"; then
  ok "power generate + power train (with its evaluation report) in $image"
else
  bad "power in $image: $(tail -3 <<<"$out")"
fi
sha="$(git -C "$root" rev-parse HEAD)"
recorded="$(podman image inspect "$image" --format '{{range .Config.Env}}{{println .}}{{end}}' | sed -n 's/^PODTRAIN_GIT_SHA=//p')"
case "$recorded" in
  "$sha" | "$sha-dirty") ok "$image records PODTRAIN_GIT_SHA=$recorded" ;;
  *) bad "$image records PODTRAIN_GIT_SHA=$recorded, HEAD is $sha" ;;
esac

xcom_cmd='trap "exit 0" INT; while true; do sleep 1; done;'
start_sidecar() {
  names+=("$1")
  podman run -d --name "$1" --read-only --user 1000 "$sidecar" sh -c "$xcom_cmd" >/dev/null
  sleep 1
}
start_sidecar podtrain-check-xcom-int
t0="$(now)"
echo "kill -2 \$(pgrep -u \$(id -u) -f 'sh')" | timeout 20 "$root/scripts/image.sh" podman exec -i podtrain-check-xcom-int /bin/sh || true
code="$(timeout 20 "$root/scripts/image.sh" podman wait podtrain-check-xcom-int || echo timeout)"
if [ "$code" = 0 ]; then ok "sidecar: the operator's kill command ends it with 0 ($(elapsed "$t0" "$(now)") s)"; else bad "sidecar after the operator's kill command: exit $code"; fi
start_sidecar podtrain-check-xcom-term
t0="$(now)"
podman stop -t 30 podtrain-check-xcom-term >/dev/null
took="$(elapsed "$t0" "$(now)")"
if awk -v t="$took" 'BEGIN { exit !(t < 5) }'; then ok "sidecar: SIGTERM ends it in $took s (grace period 30 s)"; else bad "sidecar: SIGTERM took $took s"; fi

names+=(podtrain-check-pause)
podman run -d --name podtrain-check-pause "$pause_image" >/dev/null
sleep 1
t0="$(now)"
podman stop -t 30 podtrain-check-pause >/dev/null
code="$(podman inspect podtrain-check-pause --format '{{.State.ExitCode}}')"
took="$(elapsed "$t0" "$(now)")"
if [ "$code" = 0 ] && awk -v t="$took" 'BEGIN { exit !(t < 5) }'; then ok "pause: SIGTERM ends it with 0 in $took s"; else bad "pause: exit $code after $took s"; fi

[ "$failures" = 0 ] || { echo "check: $failures check(s) failed" >&2; exit 1; }
echo "check: all passed"
