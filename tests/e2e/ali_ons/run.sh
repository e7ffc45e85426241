#!/usr/bin/env bash
# End-to-end test: the independent npm RocketMQ client ali-ons (pure JavaScript) against the
# rmq-connect embedded name server + broker. See test.js for what is checked.
#
# usage: run.sh RMQ_CONNECT_BINARY [WORK_DIR]
#
# WORK_DIR (default: a directory under ${TMPDIR:-/tmp}) receives a copy of package.json,
# package-lock.json and test.js plus the node_modules installed by `npm ci`; it is reused between
# runs while the lock file is unchanged. node and npm are installed from Debian (apt) if missing.
# Two brokers run one after the other (plain, then with --acl-account), each on free ports with a
# fresh store; the running one is always stopped at the end, also on failure or timeout.
set -euo pipefail

BIN=${1:?usage: run.sh RMQ_CONNECT_BINARY [WORK_DIR]}
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
WORK=${2:-${TMPDIR:-/tmp}/rmqc-e2e-ali-ons-$(id -u)}
FIRST_TIMEOUT=${ALI_ONS_FIRST_TIMEOUT:-180}
RESTART_TIMEOUT=${ALI_ONS_RESTART_TIMEOUT:-120}

# shellcheck source=../lib.sh
source "$HERE/../lib.sh"

[ -x "$BIN" ] || { echo "FAIL: $BIN is not an executable"; exit 1; }

# --- node + npm, and the node packages (ali-ons and its dependencies, pinned by package-lock.json)
ensure_node
log "node $(node --version), npm $(npm --version 2>/dev/null)"
npm_install_pinned "$HERE" "$WORK"

# --- broker ---------------------------------------------------------------------------------
RUN=$(mktemp -d "${TMPDIR:-/tmp}/rmqc-ali-ons-run.XXXXXX")
BROKER_PID=""
BROKER_LOG=""
NAMESRV=""
stop_broker() { # non-zero if the broker needed SIGKILL or exited non-zero
  local pid=$BROKER_PID
  BROKER_PID=""
  stop_child "$pid" broker
}
start_broker() { # start_broker NAME [extra broker args...]: fresh store, free ports; sets NAMESRV
  local name=$1
  shift
  BROKER_LOG="$RUN/$name.err"
  "$BIN" broker --store "$RUN/$name-store" --host 127.0.0.1 --namesrv-port 0 --broker-port 0 "$@" \
    >"$RUN/$name.out" 2>"$BROKER_LOG" &
  BROKER_PID=$!
  wait_ready "$BROKER_PID" "$RUN/$name.out" 'broker ready: ' broker
  NAMESRV=$(sed -n 's/^broker ready: namesrv=\([^ ]*\) broker=.*$/\1/p' <<<"$READY")
  [ -n "$NAMESRV" ] || { echo "FAIL: cannot parse the ready line: $READY"; exit 1; }
  log "$name: $READY"
}
cleanup() {
  local rc=$?
  stop_broker || true
  if [ "$rc" -ne 0 ] && [ -n "$BROKER_LOG" ] && [ -f "$BROKER_LOG" ]; then
    echo "---- broker log $BROKER_LOG (last 40 lines) ----"
    tail -n 40 "$BROKER_LOG" || true
  fi
  rm -rf "$RUN"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# phase() NAME TIMEOUT ARGS...: one client process, bounded in time
phase() {
  local name=$1 limit=$2
  shift 2
  log "phase $name"
  timeout -k 5 "$limit" node test.js "$name" --namesrv "$NAMESRV" "$@" ||
    { local rc=$?; echo "FAIL: phase $name exited with $rc (124 = timed out after $limit s)"; exit 1; }
}
cd "$WORK"

# --- 1. producer + push consumer, then a restarted consumer (new process) of the same group -----
start_broker plain
phase first "$FIRST_TIMEOUT" --topic AliOnsE2E --group AliOnsE2EGroup
phase restart "$RESTART_TIMEOUT" --topic AliOnsE2E --group AliOnsE2EGroup
stop_broker || { echo "FAIL: the broker did not shut down cleanly on SIGTERM"; exit 1; }

# --- 2. the same client with ACL signatures against a broker with ACL on -----------------------
start_broker acl --acl-account AliOnsAK:AliOnsSecret
phase acl "$RESTART_TIMEOUT" --topic AliOnsAcl --group AliOnsAclGroup \
  --access-key AliOnsAK --secret-key AliOnsSecret
stop_broker || { echo "FAIL: the ACL broker did not shut down cleanly on SIGTERM"; exit 1; }
log "PASS"
