#!/usr/bin/env bash
# End-to-end test of the web dashboard (/ui) in headless Chromium: a real `rmq-connect standalone`
# (embedded broker, REST basic auth with an admin and a read user) with a file source and a file
# sink connector moving lines, then a second worker that takes bearer tokens only (the page's
# sign-in), and Debian's chromium driven by playwright-core from npm. See test.js for what is checked.
#
# usage: run.sh RMQ_CONNECT_BINARY [WORK_DIR]
#   DASHBOARD_SCREENSHOTS=DIR  also save the screenshots there (docs/images for the docs)
#
# WORK_DIR (default: a directory under ${TMPDIR:-/tmp}) receives package.json, package-lock.json
# and test.js plus the node_modules installed by `npm ci`; it is reused while the lock file is
# unchanged. node/npm and chromium are installed from Debian (apt) if missing
# (`npx playwright install` downloads browsers from outside: not used).
set -euo pipefail

BIN=${1:?usage: run.sh RMQ_CONNECT_BINARY [WORK_DIR]}
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
WORK=${2:-${TMPDIR:-/tmp}/rmqc-e2e-dashboard-$(id -u)}
CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
TEST_TIMEOUT=${DASHBOARD_TIMEOUT:-120}

# shellcheck source=../lib.sh
source "$HERE/../lib.sh"

[ -x "$BIN" ] || { echo "FAIL: $BIN is not an executable"; exit 1; }
BIN=$(cd "$(dirname "$BIN")" && pwd)/$(basename "$BIN")

ensure_node
if [ ! -x "$CHROMIUM" ]; then
  log "$CHROMIUM missing: installing chromium from Debian"
  apt_install chromium
fi
log "node $(node --version), $("$CHROMIUM" --version 2>/dev/null || echo chromium)"

# --- node packages (playwright-core, pinned by package-lock.json) -------------------------------
npm_install_pinned "$HERE" "$WORK"

# --- the worker ---------------------------------------------------------------------------------
RUN=$(mktemp -d "${TMPDIR:-/tmp}/rmqc-dashboard-run.XXXXXX")
WORKER_PID=""
FEED_PID=""
stop_worker() { # non-zero if the worker needed SIGKILL or exited non-zero
  local pid=$WORKER_PID
  WORKER_PID=""
  stop_child "$pid" worker
}
cleanup() {
  local rc=$?
  if [ -n "$FEED_PID" ]; then kill "$FEED_PID" 2>/dev/null || true; wait "$FEED_PID" 2>/dev/null || true; fi
  stop_worker || true
  if [ "$rc" -ne 0 ] && [ -f "$RUN/worker.err" ]; then
    echo "---- worker log (last 40 lines) ----"
    tail -n 40 "$RUN/worker.err" || true
  fi
  rm -rf "$RUN"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

cat >"$RUN/worker.conf" <<CONF
workerId=dashboard-worker
httpPort=0
namesrvAddr=
storePathRootDir=$RUN/store
embeddedNamesrvPort=0
embeddedBrokerPort=0
offsetCommitIntervalMsConfig=500
rest.auth.basic.users=admin:admin:dash-admin-pass,viewer:read:dash-viewer-pass
CONF
start_worker() { # start_worker CONF: sets WORKER_PID and URL (the worker's REST address)
  "$BIN" standalone "$1" >"$RUN/worker.out" 2>"$RUN/worker.err" &
  WORKER_PID=$!
  wait_ready "$WORKER_PID" "$RUN/worker.out" 'worker ready: ' 'the worker'
  URL=$(sed -n 's/^worker ready: rest=\(http[^ ]*\) .*$/\1/p' <<<"$READY")
  [ -n "$URL" ] || { echo "FAIL: cannot parse the ready line: $READY"; exit 1; }
  log "$READY"
}
start_worker "$RUN/worker.conf"

# A file source feeding a topic and a file sink draining it (and a sink that fails), with lines appended meanwhile so
# the throughput chart has something to show.
IN="$RUN/in.txt"
seq 1 2000 | sed 's/^/line /' >"$IN"
(i=0; while sleep 0.2; do i=$((i + 1)); seq 1 50 | sed "s/^/more $i /" >>"$IN"; done) &
FEED_PID=$!
AUTH="Authorization: Basic $(printf %s admin:dash-admin-pass | base64)"
create() { # create NAME JSON_CONFIG (with the credentials in $AUTH)
  local code
  code=$(curl -s -H "$AUTH" -o "$RUN/create.out" -w '%{http_code}' -X POST \
    -H 'Content-Type: application/json' \
    "$URL/connectors" -d "{\"name\":\"$1\",\"config\":$2}")
  [ "$code" = 201 ] || { echo "FAIL: creating $1 answered $code: $(cat "$RUN/create.out")"; exit 1; }
}
create file-source "{\"connector.class\":\"FileSourceConnector\",\"filename\":\"$IN\",\"connect.topicname\":\"dashboard-lines\",\"max.tasks\":\"1\"}"
create file-sink "{\"connector.class\":\"FileSinkConnector\",\"filename\":\"$RUN/out.txt\",\"connect.topicnames\":\"dashboard-lines\",\"max.tasks\":\"1\"}"
# A sink whose file cannot be created: its task fails, with a trace for the page to show.
create broken-sink "{\"connector.class\":\"FileSinkConnector\",\"filename\":\"$RUN/no/such/dir/out.txt\",\"connect.topicnames\":\"dashboard-lines\",\"max.tasks\":\"1\"}"

SHOTS=""
if [ -n "${DASHBOARD_SCREENSHOTS:-}" ]; then
  mkdir -p "$DASHBOARD_SCREENSHOTS"
  SHOTS=$(cd "$DASHBOARD_SCREENSHOTS" && pwd)
fi
cd "$WORK"
log "browser test against $URL"
timeout -k 5 "$TEST_TIMEOUT" node test.js --url "$URL" --chromium "$CHROMIUM" --dir "$RUN" \
  --admin admin:dash-admin-pass --viewer viewer:dash-viewer-pass \
  ${SHOTS:+--screenshots "$SHOTS"} ||
  { rc=$?; echo "FAIL: test.js exited with $rc (124 = timed out after $TEST_TIMEOUT s)"; exit 1; }
stop_worker || { echo "FAIL: the worker did not shut down cleanly on SIGTERM"; exit 1; }

# The same page on a worker that takes bearer tokens only: its shell (/ui and its two files, no
# data in them) is public, the page asks for a token and sends it with every call.
cat >"$RUN/bearer.conf" <<CONF
workerId=dashboard-bearer-worker
httpPort=0
namesrvAddr=
storePathRootDir=$RUN/bearer-store
embeddedNamesrvPort=0
embeddedBrokerPort=0
offsetCommitIntervalMsConfig=500
rest.auth.bearer.tokens=ops:admin:dash-admin-token,watcher:read:dash-read-token
rest.auth.public.paths=/health,/ready,/ui,/ui/app.js,/ui/app.css
CONF
start_worker "$RUN/bearer.conf"
AUTH="Authorization: Bearer dash-admin-token"
create file-source "{\"connector.class\":\"FileSourceConnector\",\"filename\":\"$IN\",\"connect.topicname\":\"dashboard-lines\",\"max.tasks\":\"1\"}"
log "browser test (bearer tokens) against $URL"
timeout -k 5 "$TEST_TIMEOUT" node test.js --url "$URL" --chromium "$CHROMIUM" --dir "$RUN" \
  --bearer dash-admin-token --bearer-read dash-read-token ||
  { rc=$?; echo "FAIL: test.js (bearer) exited with $rc (124 = timed out after $TEST_TIMEOUT s)"; exit 1; }
stop_worker || { echo "FAIL: the bearer worker did not shut down cleanly on SIGTERM"; exit 1; }
log "PASS"
