#!/usr/bin/env bash
# Smoke test of `rmq-connect admin` against a `rmq-connect broker` on free ports: topic create /
# list / route / status, send (argument and --lines), consume with a group, group progress,
# consumers and connections, message query by key and unique key and view by id (also after a
# kill -9 of the broker), bench produce/consume; every subcommand with -n after it too.
set -u
bin="$1"
dir=$(mktemp -d "${TMPDIR:-/tmp}/rmqc-admin-cli.XXXXXX")
start_broker() {
  "$bin" broker --store "$dir/store" --namesrv-port 0 --broker-port 0 >"$dir/broker.out" 2>"$dir/broker.err" &
  broker=$!
  for _ in $(seq 1 100); do grep -q "broker ready" "$dir/broker.out" && break; sleep 0.1; done
  ns=$(sed -n 's/.*namesrv=\([^ ]*\).*/\1/p' "$dir/broker.out")
  [ -n "$ns" ] || { echo "FAIL: broker did not start"; cat "$dir/broker.err"; exit 1; }
}
live=""
cleanup() { [ -n "$live" ] && kill "$live" 2>/dev/null; kill "$broker" 2>/dev/null; wait "$broker" 2>/dev/null; rm -rf "$dir"; }
trap cleanup EXIT
start_broker
fail=0
expect() {  # expect <description> <pattern> <command...>: exit 0 and output matching pattern
  local what="$1" pattern="$2"; shift 2
  if ! out=$("$@" 2>&1); then echo "FAIL: $what: exit $?"; echo "$out"; fail=1; return; fi
  if ! grep -Eq -- "$pattern" <<<"$out"; then echo "FAIL: $what: no '$pattern' in:"; echo "$out"; fail=1; return; fi
  echo "ok: $what"
}
expect_fail() {  # expect_fail <description> <pattern> <command...>: non-zero exit, output matching
  local what="$1" pattern="$2"; shift 2
  if out=$("$@" 2>&1); then echo "FAIL: $what: exit 0"; echo "$out"; fail=1; return; fi
  if ! grep -Eq -- "$pattern" <<<"$out"; then echo "FAIL: $what: no '$pattern' in:"; echo "$out"; fail=1; return; fi
  echo "ok: $what"
}
a=("$bin" admin -n "$ns")
expect "topic create" "created topic Demo with 3 queues" "${a[@]}" topic create -t Demo -q 3
expect "topic list" "^Demo$" "${a[@]}" topic list
expect "topic route" "broker-a +6 +3 +3" "${a[@]}" topic route -t Demo
expect "send argument" "^SEND_OK Demo broker-a" "${a[@]}" send -t Demo -k k1 --tags TagA -p x=y hello
msgid=$(sed -n 's/.* msgId=\([^ ]*\) .*/\1/p' <<<"$out")
offsetid=$(sed -n 's/.*offsetMsgId=\([^ ]*\).*/\1/p' <<<"$out")
expect "message query by key" "found 1 messages" "${a[@]}" message query -t Demo -k k1
expect "message query by unique key" "^$msgid +$offsetid" "${a[@]}" message query -t Demo -k "$msgid" --unique
expect "message view by offsetMsgId" "Body: +hello" "${a[@]}" message view "$offsetid"
expect "message view by msgId" "Keys: +\\[k1\\]" "${a[@]}" message view "$msgid" -t Demo
expect_fail "message query, no match" "no message with key 'nope'" "${a[@]}" message query -t Demo -k nope
expect "send --lines" "SEND_OK.*SEND_OK.*SEND_OK" bash -c "printf 'l1\nl2\nl3\n' | ${a[*]} send -t Demo --lines | tr '\n' ' '"
expect "topic status" "broker-a +[0-9] +0 +[0-9]" "${a[@]}" topic status -t Demo
expect "consume" "^hello$" timeout 20 "${a[@]}" consume -t Demo -g cg --from-beginning --count 4
expect "group progress" "total lag: 0" "${a[@]}" group progress -g cg -t Demo
expect "group consumers (none online)" "" "${a[@]}" group consumers -g cg
expect "group progress, every topic of the group" "^Demo .* 0 +[0-9-]" "${a[@]}" group progress -g cg
expect_fail "group connections (none online)" "the consumer group\\[cg\\] not online" "${a[@]}" group connections -g cg
"${a[@]}" consume -t Demo -g live --count 1000000 >/dev/null 2>&1 &
live=$!
for _ in $(seq 1 100); do "${a[@]}" group connections -g live >/dev/null 2>&1 && break; sleep 0.1; done
expect "group connections (live consumer)" "^Demo +\\*" "${a[@]}" group connections -g live
kill "$live"; wait "$live" 2>/dev/null; live=""
expect "bench produce" "msgs/s [0-9]+ +MB/s .* p50 .* p99 .* errors 0" "${a[@]}" bench produce -t B -c 2000 -s 1024 --mode async --concurrency 64
expect "bench consume" "msgs/s [0-9]+ .*messages 2000 " "${a[@]}" bench consume -t B -c 2000
# Options of `admin` after the subcommand (issue 15): every subcommand takes -n/--namesrv there too.
b=("$bin" admin)
expect "topic create -n after" "created topic Late with 2 queues" "${b[@]}" topic create -t Late -q 2 -n "$ns"
expect "topic list --namesrv after" "^Late$" "${b[@]}" topic list --namesrv "$ns"
expect "topic route -n after" "broker-a +6 +2 +2" "${b[@]}" topic route -t Late -n "$ns"
expect "send -n after" "^SEND_OK Late " "${b[@]}" send -t Late -k late1 late-body -n "$ns"
late_id=$(sed -n 's/.*offsetMsgId=\([^ ]*\).*/\1/p' <<<"$out")
expect "topic status -n after" "broker-a +[0-9]" "${b[@]}" topic status -t Late -n "$ns"
expect "message query -n after" "found 1 messages" "${b[@]}" message query -t Late -k late1 -n "$ns"
expect "message view -n after" "Body: +late-body" "${b[@]}" message view "$late_id" -n "$ns"
expect "consume -n after" "^late-body$" timeout 20 "${b[@]}" consume -t Late -g lg --from-beginning --count 1 -n "$ns"
expect "group progress -n after" "total lag: 0" "${b[@]}" group progress -g lg -n "$ns"
expect "group consumers -n after" "" "${b[@]}" group consumers -g lg -n "$ns"
expect_fail "group connections -n after" "the consumer group\\[lg\\] not online" "${b[@]}" group connections -g lg -n "$ns"
expect "bench produce -n after" "errors 0" "${b[@]}" bench produce -t LateB -c 100 -n "$ns"
expect "bench consume -n after" "messages 100 " "${b[@]}" bench consume -t LateB -c 100 -n "$ns"
expect "topic delete -n after, --log-level after" "deleted topic Late" "${b[@]}" topic delete -t Late -n "$ns" --log-level warn
expect_fail "an unknown option after the subcommand is still an error" "not expected: --bogus" "${b[@]}" topic list -n "$ns" --bogus
# kill -9 the broker, restart it on the same store: the index still finds the messages.
kill -9 "$broker"; wait "$broker" 2>/dev/null
start_broker
a=("$bin" admin -n "$ns")
expect "message query after kill -9" "found 1 messages" "${a[@]}" message query -t Demo -k k1
expect "message query by unique key after kill -9" "^$msgid " "${a[@]}" message query -t Demo -k "$msgid" --unique
exit $fail
