#!/usr/bin/env bash
# `rmq-connect ctl` against live `rmq-connect standalone` workers (embedded broker, free ports):
# every command with its output and exit code (docs/ctl.md), then a second worker with TLS and
# basic/bearer auth for the credential and certificate options and exit codes 3 and 5.
set -u
bin="$1"
dir=$(mktemp -d "${TMPDIR:-/tmp}/rmqc-ctl.XXXXXX")
worker=""
cleanup() {
  [ -n "$worker" ] && kill "$worker" 2>/dev/null && wait "$worker" 2>/dev/null
  rm -rf "$dir"
}
trap cleanup EXIT
fail=0

# start_worker <conf>: starts it, sets $worker and $url (from the ready line).
start_worker() {
  "$bin" standalone "$1" >"$dir/worker.out" 2>"$dir/worker.err" &
  worker=$!
  for _ in $(seq 1 200); do grep -q "worker ready" "$dir/worker.out" && break; sleep 0.05; done
  url=$(sed -n 's/.*rest=\([^ ]*\).*/\1/p' "$dir/worker.out")
  [ -n "$url" ] || { echo "FAIL: worker did not start"; cat "$dir/worker.err"; exit 1; }
}
stop_worker() { kill "$worker"; wait "$worker" 2>/dev/null; worker=""; }

# check <description> <exit code> <pattern or ""> <ctl args...>: the exit code, and the output
# (stdout and stderr) matching the extended regex.
check() {
  local what="$1" want="$2" pattern="$3"; shift 3
  out=$("$bin" ctl "$@" 2>&1)
  local got=$?
  if [ "$got" -ne "$want" ]; then
    echo "FAIL: $what: exit $got, want $want"; echo "$out"; fail=1; return
  fi
  if [ -n "$pattern" ] && ! grep -Eq -- "$pattern" <<<"$out"; then
    echo "FAIL: $what: no '$pattern' in:"; echo "$out"; fail=1; return
  fi
  echo "ok: $what"
}
# check_not <description> <pattern> <ctl args...>: exit 0 and no line matching.
check_not() {
  local what="$1" pattern="$2"; shift 2
  out=$("$bin" ctl "$@" 2>&1)
  local got=$?
  if [ "$got" -ne 0 ] || grep -Eq -- "$pattern" <<<"$out"; then
    echo "FAIL: $what: exit $got, or '$pattern' in:"; echo "$out"; fail=1; return
  fi
  echo "ok: $what"
}
# until_match <pattern> <ctl args...>: polls (up to 10 s) until the output matches.
until_match() {
  local pattern="$1"; shift
  for _ in $(seq 1 100); do
    "$bin" ctl "$@" 2>&1 | grep -Eq -- "$pattern" && return 0
    sleep 0.1
  done
  return 1
}

conf="$dir/worker.conf"
printf 'workerId=ctl-worker\nhttpPort=0\nnamesrvAddr=\nstorePathRootDir=%s/store\nembeddedNamesrvPort=0\nembeddedBrokerPort=0\noffsetCommitIntervalMsConfig=200\n' "$dir" >"$conf"
start_worker "$conf"
export RMQ_CONNECT_URL="$url"
printf 'one\ntwo\nthree\n' >"$dir/in.txt"

# --- usage errors (2) ---
check "no subcommand" 2 "subcommand is required"
check "unknown kind for get" 2 "foo not in" get foo
check "patch needs key=value" 2 "'oops' is not key=value" patch x oops
check "restart task needs a numeric id" 2 "not a task id" restart task x y
check "bad --url" 2 "bad port" --url http://127.0.0.1:notaport get connectors
check "apply of a missing file" 2 "cannot read" apply -f "$dir/missing.json"
check "--help" 0 "Exit codes: 0 ok" --help

# --- apply: Kafka's shape from a file, a flat config from stdin, initial_state ---
cat >"$dir/src.json" <<EOF
{"name": "file-src", "config": {"connector.class": "FileSourceConnector",
 "filename": "$dir/in.txt", "connect.topicname": "ctl-lines", "max.tasks": "1"}}
EOF
check "apply creates (Kafka shape)" 0 "^connector file-src created$" apply -f "$dir/src.json"
check "apply again updates" 0 "^connector file-src configured$" apply -f "$dir/src.json"
out=$(printf '{"name":"file-sink","connector.class":"FileSinkConnector","filename":"%s","connect.topicnames":"ctl-lines"}' \
  "$dir/out.txt" | "$bin" ctl apply -f - 2>&1)
if [ $? -eq 0 ] && grep -q "^connector file-sink created$" <<<"$out"; then echo "ok: apply -f - (flat config)"; else echo "FAIL: apply -f -: $out"; fail=1; fi
printf '{"name":"held","initial_state":"PAUSED","config":{"connector.class":"FileSourceConnector","filename":"%s","connect.topicname":"ctl-held"}}' \
  "$dir/in.txt" >"$dir/held.json"
check "apply with initial_state" 0 "^connector held created \\(PAUSED\\)$" apply -f "$dir/held.json"
check "apply with initial_state, existing" 0 "^connector held configured$" apply -f "$dir/held.json"
printf '{"connector.class":"FileSourceConnector"}' >"$dir/noname.json"
check "apply without a name" 2 "no connector name" apply -f "$dir/noname.json"
check "apply of a file that is not JSON" 2 "not valid JSON" apply -f "$dir/in.txt"

# --- get, describe ---
until_match "^file-src +source +RUNNING +1/1 +ctl-worker$" get connectors ||
  { echo "FAIL: file-src never RUNNING 1/1"; fail=1; }
check "get connectors lists every connector" 0 "^NAME +TYPE +STATE +TASKS +WORKER$" get connectors
grep -Eq "^file-sink +sink " <<<"$out" && grep -Eq "^held +source +PAUSED " <<<"$out" ||
  { echo "FAIL: get connectors: $out"; fail=1; }
check "get connectors -o json" 0 '"file-src": \{' get connectors -o json
check "get plugins" 0 "FileSourceConnector +source +[0-9]" get plugins
check "get plugins --all" 0 " converter " get plugins --all
check "get workers" 0 "^ctl-worker +3 +[0-9]+/3$" get workers
check "info" 0 "^Mode: +standalone$" info
check "describe shows RUNNING" 0 "^State: +RUNNING$" describe connector file-src
grep -Eq "^Topics: +ctl-lines$" <<<"$out" && grep -Eq "^  0 +RUNNING +ctl-worker$" <<<"$out" &&
  grep -Eq "^  filename +$dir/in.txt$" <<<"$out" || { echo "FAIL: describe: $out"; fail=1; }
check "describe -o json" 0 '"status": \{' describe connector file-src -o json
check "options after the subcommand" 0 "^Name: +file-src$" describe connector file-src --url "$url"

# --- pause, resume, restart ---
check "pause" 0 "^connector file-src paused$" pause file-src
until_match "^State: +PAUSED$" describe connector file-src || { echo "FAIL: never PAUSED"; fail=1; }
check "pause -> PAUSED" 0 "^file-src +source +PAUSED " get connectors
check "resume" 0 "^connector file-src resumed$" resume file-src
until_match "^file-src +source +RUNNING +1/1" get connectors || { echo "FAIL: never resumed"; fail=1; }
check "restart --tasks" 0 "restart requested" restart file-src --tasks
grep -Eq "^  0 +[A-Z]+ +ctl-worker$" <<<"$out" || { echo "FAIL: restart --tasks names task 0: $out"; fail=1; }
check "restart (connector only)" 0 "^connector file-src restarted$" restart file-src
check "restart --tasks --failed-only" 0 "" restart file-src --tasks --failed-only
check "restart task" 0 "^task file-src-0 restarted$" restart task file-src 0
check "restart of an unknown task" 4 "Task 7 of connector file-src not found" restart task file-src 7
until_match "^file-src +source +RUNNING +1/1" get connectors || { echo "FAIL: not running after restarts"; fail=1; }

# --- patch ---
check "patch" 0 "1 set, 1 removed" patch file-src poll.interval.ms=250 --delete max.tasks
check "patch changed the key" 0 "^  poll.interval.ms +250$" describe connector file-src
check_not "patch removed the key" "max.tasks" describe connector file-src
check "patch that removes connector.class is refused" 1 "connector.class" patch file-src --delete connector.class

# --- offsets (stopped connector) ---
until_match "position.*1[0-9]" offsets get file-src -o json ||
  { echo "FAIL: file-src never committed its position"; fail=1; }
printf '[{"partition":{"filename":"%s"},"offset":{"position":4}}]' "$dir/in.txt" >"$dir/offsets.json"
check "offsets alter on a running connector is refused" 1 "STOPPED" offsets alter file-src -f "$dir/offsets.json"
check "stop" 0 "^connector file-src stopped$" stop file-src
until_match "^file-src +source +STOPPED" get connectors || { echo "FAIL: never STOPPED"; fail=1; }
check "offsets get" 0 "\"filename\":\"$dir/in.txt\"\\} +\\{\"position\":14\\}" offsets get file-src
check "offsets alter" 0 "altered successfully" offsets alter file-src -f "$dir/offsets.json"
check "offsets get after alter" 0 "\\{\"position\":4\\}" offsets get file-src
check "offsets alter needs -f" 2 "needs -f" offsets alter file-src
check "offsets reset" 0 "reset successfully" offsets reset file-src
check_not "offsets get after reset" "position" offsets get file-src
check "resume after stop" 0 "resumed" resume file-src

# --- validate ---
printf '{"name":"bad","connector.class":"FileSourceConnector","max.tasks":"zero","filename":"/tmp/x"}' >"$dir/bad.json"
check "validate a bad config exits 1 naming the key" 1 "^max.tasks: .*zero" validate -f "$dir/bad.json"
grep -q "^1 error in" <<<"$out" || { echo "FAIL: validate counts: $out"; fail=1; }
check "validate -o json still exits 1" 1 '"error_count": 1' validate -f "$dir/bad.json" -o json
check "validate a good config" 0 "^config is valid" validate -f "$dir/src.json"
printf '{"connector.class":"NoSuchConnector"}' >"$dir/nosuch.json"
check "validate against an unknown plugin" 1 "^connector.class: no connector plugin named 'NoSuchConnector'" validate -f "$dir/nosuch.json"

# --- delete, unknown names, dead worker ---
check "delete" 0 "^connector held deleted$" delete held
check_not "deleted connector is gone" "^held " get connectors
check "describe unknown" 4 "Connector held not found" describe connector held
check "pause unknown" 4 "not found" pause nope
check "delete unknown" 4 "not found" delete nope
check "offsets of unknown" 4 "not found" offsets get nope
check "dead URL" 3 "cannot reach the worker at http://127.0.0.1:1" --url http://127.0.0.1:1 get connectors
namesrv=$(sed -n 's/.*namesrv=\([^ ]*\).*/\1/p' "$dir/worker.out")
check "a port that does not speak HTTP" 3 "cannot reach" --url "http://$namesrv" --timeout 5 get connectors
stop_worker

# --- a worker with TLS and credentials ---
if ! openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 \
  -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 \
  -keyout "$dir/key.pem" -out "$dir/cert.pem" >/dev/null 2>&1; then
  echo "FAIL: openssl could not make a certificate"; exit 1
fi
printf 'workerId=ctl-secure\nhttpPort=0\nnamesrvAddr=\nstorePathRootDir=%s/store2\nembeddedNamesrvPort=0\nembeddedBrokerPort=0\nrest.auth.basic.users=admin:admin:s3cret,viewer:read:r3ad\nrest.auth.bearer.tokens=ops:admin:t0ken\nrest.tls.cert.file=%s/cert.pem\nrest.tls.key.file=%s/key.pem\n' \
  "$dir" "$dir" "$dir" >"$conf"
start_worker "$conf"
export RMQ_CONNECT_URL="$url"
case "$url" in https://*) echo "ok: secure worker serves https";; *) echo "FAIL: not https: $url"; fail=1;; esac
check "untrusted certificate" 3 "not trusted" get connectors --user admin --password s3cret
check "no credentials" 5 "HTTP 401" get connectors --cacert "$dir/cert.pem"
check "wrong password" 5 "HTTP 401" get connectors --cacert "$dir/cert.pem" --user admin --password nope
check "basic auth" 0 "^NAME " get connectors --cacert "$dir/cert.pem" --user admin --password s3cret
check "bearer token" 0 "^ctl-secure " get workers --cacert "$dir/cert.pem" --token t0ken
check "--insecure" 0 "^NAME " get connectors --insecure --user viewer --password r3ad
check "read role may not change" 5 "HTTP 403" apply -f "$dir/src.json" --insecure --user viewer --password r3ad
RMQ_CONNECT_USER=admin RMQ_CONNECT_PASSWORD=s3cret check "credentials from the environment" 0 \
  "^connector file-src created$" apply -f "$dir/src.json" --insecure
RMQ_CONNECT_TOKEN=t0ken check "token from RMQ_CONNECT_TOKEN" 0 "^connector file-src deleted$" delete file-src --insecure
check "plain http to an https worker" 3 "https://" get connectors --url "http://${url#https://}" --user admin --password s3cret
stop_worker

exit $fail
