#!/usr/bin/env bash
# holdfast's main job, end to end on one machine: a Spring-Boot-like Java
# service that fails at startup is restarted, then HELD for diagnosis with
# its evidence kept; we look at it, fix it, restart it, and stop it.
#
# holdfast runs as PID 1 of its own pid namespace, as in a container.
# Needs Debian 12, root and Go 1.26 (scripts/prereq.sh checks them before anything
# else); installs only what it uses (scripts/deps.sh --demo: a JDK, curl, CA
# certificates). Everything it makes lives under /tmp/holdfast-demo.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/prereq.sh
prereq_root "it runs holdfast as PID 1 of a new pid namespace with unshare"
prereq_debian
prereq_go

bash scripts/deps.sh --demo
echo "demo: building holdfast (go build; the first build downloads its Go modules)" >&2
bash scripts/build.sh bin/holdfast >/dev/null
work=/tmp/holdfast-demo
rm -rf "$work"; mkdir -p "$work/etc"
echo "demo: building the demo service (javac, jar)" >&2
bash demo/build.sh "$work/shop.jar" >/dev/null

hf="$PWD/bin/holdfast"
export HOLDFAST_STATE_DIR="$work/state"     # where runs, evidence and the control socket live
export SHOP_CONFIG="$work/etc/application.properties"   # missing: the app will fail at startup
export PORT=18080                                        # the shop's HTTP port
say() { printf '\n\033[1m### %s\033[0m\n' "$*"; }
step() { printf '\033[36m$ %s\033[0m\n' "$*"; "$@"; }
wait_phase() { # wait_phase PHASE [READY]: bounded wait for holdfast's status
  for _ in $(seq 1 600); do
    s=$("$hf" status --json 2>/dev/null || true)
    if echo "$s" | grep -q "\"phase\": \"$1\"" && { [ -z "${2:-}" ] || echo "$s" | grep -q "\"ready\": $2"; }; then return 0; fi
    sleep 0.1
  done
  echo "demo: holdfast did not reach phase $1 in 60s" >&2; exit 1
}

say "Start the shop service under holdfast as PID 1 (java -jar, config missing)"
flags=(--max-restarts=2 --backoff=1s --probe-addr=127.0.0.1:8558
       --app-ready-url=http://127.0.0.1:$PORT/actuator/health/readiness)
echo "unshare --pid --fork --mount-proc holdfast ${flags[*]} -- java -jar shop.jar"
unshare --pid --fork --mount-proc "$hf" "${flags[@]}" \
  -- java -Xmx64m -jar "$work/shop.jar" >"$work/container.log" 2>&1 &
container=$!
trap 'kill $container 2>/dev/null || true' EXIT

wait_phase held
say "What 'kubectl logs' shows (the container's stdout/stderr): the app's output, then holdfast's hold banner"
# From the last run's failure report (its line of asterisks) to the end: the cause
# itself, in the app's words, then the banner, which names it again in one line (why:).
last=$(grep -n 'APPLICATION FAILED TO START' "$work/container.log" | tail -n 1 | cut -d: -f1 || true)
tail -n +$(( ${last:-3} - 2 )) "$work/container.log"

say "The container is still up: kubelet's liveness probe stays green, readiness keeps traffic away"
step curl -s -w '  -> HTTP %{http_code}\n' http://127.0.0.1:8558/livez
step curl -s -w '  -> HTTP %{http_code}\n' http://127.0.0.1:8558/readyz
step curl -s http://127.0.0.1:8558/metrics -o "$work/metrics.txt"; grep -E '^holdfast_(held|app_restarts_total|app_last_exit_code) |^holdfast_app_last_cause\{.* 1$' "$work/metrics.txt"

say "Get in and look (this is what 'kubectl exec <pod> -- holdfast ...' does)"
step "$hf" status
step "$hf" runs
step "$hf" logs --why        # the lines of output.log around the cause, numbered
step ls -l "$work/state/runs/3"

say "Fix the cause (the missing datasource URL) and restart without restarting the container"
echo "shop.db.url=jdbc:postgresql://db:5432/shop" >"$SHOP_CONFIG"
step "$hf" restart
wait_phase running true
step "$hf" status
step curl -s -w '  -> HTTP %{http_code}\n' http://127.0.0.1:8558/readyz
step curl -s -w '  -> HTTP %{http_code}\n' http://127.0.0.1:$PORT/

say "Stop it the way kubelet does: SIGTERM to PID 1; holdfast exits with the app's code"
pid1=$(cat /proc/$container/task/*/children | awk '{print $1}')   # holdfast, PID 1 inside
step kill -TERM "$pid1"
set +e; wait $container; code=$?; set -e
trap - EXIT
echo "holdfast exited with code $code"
say "Evidence stays in $work/state/runs, one directory per run"
ls "$work/state/runs"
