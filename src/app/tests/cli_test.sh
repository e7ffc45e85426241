#!/usr/bin/env bash
# Checks the command-line contract of the rmq-connect binary.
set -u
bin="$1"
fail=0
check() {  # check <description> <expected exit code> <command...>
  local what="$1" want="$2"; shift 2
  "$@" >/tmp/rmqc_cli_out.$$ 2>&1
  local got=$?
  if [ "$got" -ne "$want" ]; then
    echo "FAIL: $what: exit $got, want $want"; cat /tmp/rmqc_cli_out.$$; fail=1
  else
    echo "ok: $what"
  fi
}
check "version subcommand" 0 "$bin" version
"$bin" version | grep -Eq '^rmq-connect [0-9]+\.[0-9]+\.[0-9]+$' || { echo "FAIL: version format"; fail=1; }
check "--version flag" 0 "$bin" --version
check "--help" 0 "$bin" --help
"$bin" --help | grep -q standalone || { echo "FAIL: help lists standalone"; fail=1; }
check "no subcommand is a usage error" 106 "$bin"
check "unknown subcommand is a usage error" 106 "$bin" frobnicate
check "standalone needs a config" 106 "$bin" standalone
check "bad log level" 2 "$bin" --log-level loud version
"$bin" --help | grep -q distributed || { echo "FAIL: help lists distributed"; fail=1; }
check "distributed needs a config" 106 "$bin" distributed
conf=/tmp/rmqc_cli_conf.$$
printf 'workerId=w1\nhttpPort=0\nstorePathRootDir=/tmp/rmqc_cli_store.%s\n' $$ >"$conf"
check "distributed needs namesrvAddr" 2 "$bin" distributed "$conf"
grep -q "namesrvAddr is required" /tmp/rmqc_cli_out.$$ || { echo "FAIL: distributed names namesrvAddr"; cat /tmp/rmqc_cli_out.$$; fail=1; }
check "distributed with a missing config file" 2 "$bin" distributed /nonexistent/worker.conf
rm -f "$conf"
rm -f /tmp/rmqc_cli_out.$$
exit $fail
