#!/usr/bin/env bash
# package_install: the Debian package as an operator meets it.
#   1. cpack builds the .deb from this build's rmq-connect (the install component "runtime");
#   2. its metadata: Depends from dpkg-shlibdeps, file list, conffiles, maintainer scripts;
#   3. `dpkg -i` on this machine (root, or passwordless sudo; exit 77 = skipped otherwise): the
#      postinst created the system user and the state directory, the configs are root:rmq-connect
#      0640 through dpkg stat overrides, the systemd units verify (systemd-analyze, no systemd PID 1 needed) and carry the
#      hardening keys;
#   4. the installed binary runs as the rmq-connect user with the installed config (only its ports
#      edited, as an operator would, so it cannot collide with other tests), with the unit's
#      sandbox imitated where the kernel allows it (a mount namespace with / read-only but
#      /var/lib/rmq-connect, a private /tmp, no new privileges): the REST API answers and a file
#      source -> embedded broker -> file sink pipeline copies every line;
#   5. reinstalling keeps the edited conffile and the state; `dpkg -r` keeps configs and state,
#      `dpkg --purge` removes them and the user.
# The package is purged on every exit (trap), so nothing stays installed.
#
#   package_install_test.sh <cmake build dir> <rmq-connect binary of that build>
set -u
build="$1"
bin="$2"
fail=0
ok() { echo "ok: $*"; }
bad() { echo "FAIL: $*"; fail=1; }
die() { echo "FAIL: $*"; exit 1; }

SUDO=()
if [ "$(id -u)" -ne 0 ]; then
  if sudo -n true 2>/dev/null; then
    SUDO=(sudo -n)
  else
    echo "SKIPPED: installing a .deb needs root or passwordless sudo (CI runs as root)"
    exit 77
  fi
fi
for tool in cpack dpkg dpkg-deb dpkg-shlibdeps curl setpriv; do
  command -v "$tool" >/dev/null || die "$tool not found (scripts/setup.sh installs it)"
done
[ -x "$bin" ] || die "no binary $bin (build the target rmq-connect first)"
if dpkg-query -W -f='${Status}' rmq-connect 2>/dev/null | grep -q "ok installed"; then
  die "a rmq-connect package is installed on this machine already; not touching it"
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/rmqc-package.XXXXXX")
chmod 755 "$tmp"
worker=""
user_existed=0
getent passwd rmq-connect >/dev/null && user_existed=1
cleanup() {
  if [ -n "$worker" ]; then
    kill "$worker" 2>/dev/null
    wait "$worker" 2>/dev/null
  fi
  if dpkg-query -W -f='${Status}' rmq-connect 2>/dev/null | grep -qv "not-installed"; then
    "${SUDO[@]}" dpkg --purge rmq-connect >/dev/null 2>&1
  fi
  for f in $(dpkg-statoverride --list 2>/dev/null | awk '$4 ~ "^/etc/rmq-connect/" {print $4}'); do
    "${SUDO[@]}" dpkg-statoverride --remove "$f" >/dev/null 2>&1
  done
  if [ "$user_existed" = 0 ] && getent passwd rmq-connect >/dev/null; then
    "${SUDO[@]}" userdel rmq-connect >/dev/null 2>&1
  fi
  rm -rf "$tmp"
}
trap cleanup EXIT

# 1. Build the package from this build tree (no compile: the binary is built). zstd instead of
# the release package's xz: a sanitizer build's binary is 300 MB even stripped, xz takes minutes.
# (dpkg-shlibdeps reading that binary's symbols still takes most of this test's time there.)
if ! cpack --config "$build/CPackConfig.cmake" -B "$tmp/out" -D CPACK_DEBIAN_COMPRESSION_TYPE=zstd \
  >"$tmp/cpack.log" 2>&1; then
  cat "$tmp/cpack.log"
  die "cpack failed"
fi
deb=$(ls "$tmp"/out/rmq-connect_*.deb 2>/dev/null | head -1)
[ -n "$deb" ] || { cat "$tmp/cpack.log"; die "cpack made no rmq-connect_*.deb"; }
ok "cpack built $(basename "$deb") ($(($(stat -c %s "$deb") / 1024)) KiB)"

# 2. Metadata.
[ "$(dpkg-deb -f "$deb" Package)" = rmq-connect ] || bad "Package: $(dpkg-deb -f "$deb" Package)"
depends=$(dpkg-deb -f "$deb" Depends)
for dep in "libc6 (>=" "libstdc++6 (>=" "libssl3" "passwd"; do
  grep -qF "$dep" <<<"$depends" || bad "Depends lacks '$dep': $depends"
done
ok "Depends: $depends"
dpkg-deb -c "$deb" | awk '{print $6}' | sed 's|^\./|/|; s|/$||' >"$tmp/files"
for f in /usr/bin/rmq-connect /usr/lib/rmq-connect/plugins /etc/rmq-connect/standalone.properties \
  /etc/rmq-connect/distributed.properties /etc/rmq-connect/broker.env \
  /usr/lib/systemd/system/rmq-connect.service /usr/lib/systemd/system/rmq-connect-distributed.service \
  /usr/lib/systemd/system/rmq-connect-broker.service /usr/share/doc/rmq-connect/operations.md; do
  grep -qx "$f" "$tmp/files" || bad "package lacks $f"
done
grep -q '^/usr/include' "$tmp/files" && bad "package holds SDK headers (component sdk)"
grep -q '^/var' "$tmp/files" && bad "package ships /var (the postinst creates the state directory)"
ok "file list ($(wc -l <"$tmp/files") entries)"
dpkg-deb -e "$deb" "$tmp/control"
printf '/etc/rmq-connect/broker.env\n/etc/rmq-connect/distributed.properties\n/etc/rmq-connect/standalone.properties\n' >"$tmp/want-conffiles"
sort "$tmp/control/conffiles" | diff -u "$tmp/want-conffiles" - || bad "conffiles"
for s in postinst prerm postrm; do
  [ -x "$tmp/control/$s" ] || bad "maintainer script $s missing or not executable"
  sh -n "$tmp/control/$s" || bad "maintainer script $s: syntax"
done
ok "conffiles and maintainer scripts"

# 3. Install.
"${SUDO[@]}" dpkg -i "$deb" >"$tmp/dpkg-i.log" 2>&1 || { cat "$tmp/dpkg-i.log"; die "dpkg -i failed"; }
[ "$(dpkg-query -W -f='${Status}' rmq-connect)" = "install ok installed" ] || bad "dpkg status"
dpkg-query -W -f='${Conffiles}\n' rmq-connect | awk 'NF {print $1}' | sort >"$tmp/installed-conffiles"
diff -u "$tmp/want-conffiles" "$tmp/installed-conffiles" || bad "dpkg does not list the conffiles"
uid=$(id -u rmq-connect 2>/dev/null) || die "postinst did not create the user rmq-connect"
[ "$uid" -lt 1000 ] || bad "rmq-connect is not a system user (uid $uid)"
[ "$(getent passwd rmq-connect | cut -d: -f6,7)" = "/var/lib/rmq-connect:/usr/sbin/nologin" ] ||
  bad "home/shell: $(getent passwd rmq-connect)"
[ "$(stat -c '%U:%G %a' /var/lib/rmq-connect)" = "rmq-connect:rmq-connect 750" ] ||
  bad "state directory: $(stat -c '%U:%G %a' /var/lib/rmq-connect 2>&1)"
for f in standalone.properties distributed.properties broker.env; do
  [ "$(stat -c '%U:%G %a' /etc/rmq-connect/$f)" = "root:rmq-connect 640" ] ||
    bad "config $f: $(stat -c '%U:%G %a' /etc/rmq-connect/$f)"
  [ "$(dpkg-statoverride --list /etc/rmq-connect/$f)" = "root rmq-connect 640 /etc/rmq-connect/$f" ] ||
    bad "no stat override for $f (upgrades would reset its mode)"
done
[ "$(/usr/bin/rmq-connect version)" = "$("$bin" version)" ] || bad "installed binary's version"
ok "dpkg -i: user $uid, /var/lib/rmq-connect, configs root:rmq-connect 0640"

units=(/usr/lib/systemd/system/rmq-connect.service /usr/lib/systemd/system/rmq-connect-distributed.service
  /usr/lib/systemd/system/rmq-connect-broker.service)
for u in "${units[@]}"; do
  for key in "User=rmq-connect" "NoNewPrivileges=yes" "ProtectSystem=strict" \
    "ReadWritePaths=/var/lib/rmq-connect" "Restart=on-failure" "PrivateTmp=yes"; do
    grep -qx "$key" "$u" || bad "$u lacks $key"
  done
  exec_start=$(sed -n 's/^ExecStart=//p' "$u")
  read -r exe cmd conf _ <<<"$exec_start"
  [ -x "$exe" ] || bad "$u: ExecStart $exe is not executable"
  case "$cmd" in
    standalone | distributed) [ -r "$conf" ] || bad "$u: config $conf missing" ;;
    broker) grep -q '^EnvironmentFile=-/etc/rmq-connect/broker.env$' "$u" || bad "$u: EnvironmentFile" ;;
    *) bad "$u: ExecStart runs '$cmd'" ;;
  esac
done
if command -v systemd-analyze >/dev/null; then
  # Checks every key, the ExecStart binaries and the unit dependencies.
  if ! SYSTEMD_LOG_LEVEL=warning systemd-analyze verify "${units[@]}" >"$tmp/verify.log" 2>&1; then
    cat "$tmp/verify.log"
    bad "systemd-analyze verify"
  elif grep -Ei "unknown|invalid|ignoring|failed" "$tmp/verify.log"; then
    bad "systemd-analyze verify warns"
  else
    ok "systemd-analyze verify: 3 units"
  fi
else
  ok "units' keys (systemd-analyze not installed)"
fi
# The broker unit's options parse: the same command line, --help.
# shellcheck disable=SC1091
(. /etc/rmq-connect/broker.env && /usr/bin/rmq-connect broker --store /nonexistent $RMQC_BROKER_OPTS --help >/dev/null) ||
  bad "broker.env's RMQC_BROKER_OPTS are not options of rmq-connect broker"

# 4. Run the installed worker with the installed config, as the unit would.
conf=/etc/rmq-connect/standalone.properties
"${SUDO[@]}" sed -i -e 's/^httpPort=.*/httpPort=0/' -e 's/^embeddedNamesrvPort=.*/embeddedNamesrvPort=0/' \
  -e 's/^embeddedBrokerPort=.*/embeddedBrokerPort=0/' "$conf"
demo=/var/lib/rmq-connect/demo
"${SUDO[@]}" install -d -o rmq-connect -g rmq-connect "$demo"
for i in $(seq 1 20); do echo "line $i"; done >"$tmp/input.txt"
"${SUDO[@]}" install -o rmq-connect -g rmq-connect -m 0640 "$tmp/input.txt" "$demo/input.txt"
run_as=(setpriv --reuid rmq-connect --regid rmq-connect --init-groups --no-new-privs)
sandbox=()
# ProtectSystem=strict + ReadWritePaths + PrivateTmp, approximately: a private mount namespace.
if "${SUDO[@]}" unshare --mount --propagation private true 2>/dev/null; then
  sandbox=("${SUDO[@]}" unshare --mount --propagation private sh -c
    'mount --bind /var/lib/rmq-connect /var/lib/rmq-connect && mount -t tmpfs tmpfs /tmp &&
     mount -o remount,bind,ro / && cd /var/lib/rmq-connect && exec "$@"' sandbox)
  echo "note: running in a mount namespace: / read-only but /var/lib/rmq-connect, private /tmp"
else
  sandbox=("${SUDO[@]}" env -C /var/lib/rmq-connect)
  echo "note: no mount namespace here (unshare refused): / stays writable for the worker's run"
fi
"${sandbox[@]}" "${run_as[@]}" /usr/bin/rmq-connect standalone "$conf" >"$tmp/worker.out" 2>"$tmp/worker.err" &
worker=$!
for _ in $(seq 1 300); do
  grep -q "worker ready" "$tmp/worker.out" && break
  kill -0 "$worker" 2>/dev/null || break
  sleep 0.1
done
port=$(sed -n 's|.*worker ready: rest=http://[^:]*:\([0-9]*\).*|\1|p' "$tmp/worker.out")
[ -n "$port" ] || { cat "$tmp/worker.out" "$tmp/worker.err"; die "the installed worker did not start"; }
ok "installed worker ready: $(grep "worker ready" "$tmp/worker.out")"
api="http://127.0.0.1:$port"
curl -sf "$api/connector-plugins" | grep -q FileSourceConnector || bad "GET /connector-plugins"
create() {  # create <name> <json>
  local code
  code=$(curl -s -o "$tmp/create.out" -w '%{http_code}' -XPOST -H 'Content-Type: application/json' \
    --data "$2" "$api/connectors")
  [ "$code" = 201 ] || { bad "POST /connectors $1: HTTP $code $(cat "$tmp/create.out")"; return; }
  ok "POST /connectors $1: 201"
}
create demo-source '{"name":"demo-source","config":{"connector.class":"org.apache.rocketmq.connect.file.FileSourceConnector",
  "filename":"'$demo'/input.txt","connect.topicname":"package-lines","max.tasks":"1"}}'
create demo-sink '{"name":"demo-sink","config":{"connector.class":"org.apache.rocketmq.connect.file.FileSinkConnector",
  "filename":"'$demo'/output.txt","connect.topicnames":"package-lines","consume.from.where":"CONSUME_FROM_FIRST_OFFSET","max.tasks":"1"}}'
for _ in $(seq 1 600); do
  [ "$(cat "$demo/output.txt" 2>/dev/null | wc -l)" -ge 20 ] && break
  kill -0 "$worker" 2>/dev/null || break
  sleep 0.1
done
if diff <(sort "$tmp/input.txt") <(sort "$demo/output.txt" 2>/dev/null) >/dev/null; then
  ok "file source -> embedded broker -> file sink: 20 of 20 lines"
else
  bad "pipeline: output.txt has $(cat "$demo/output.txt" 2>/dev/null | wc -l) of 20 lines"
  curl -s "$api/connectors/demo-source/status"
  curl -s "$api/connectors/demo-sink/status"
  tail -20 "$tmp/worker.err"
fi
curl -sf "$api/connectors/demo-sink/status" | grep -q '"RUNNING"' || bad "sink status"
[ -d /var/lib/rmq-connect/standalone/broker ] || bad "no embedded broker store under storePathRootDir"
owners=$(find /var/lib/rmq-connect -not -user rmq-connect | head -3)
[ -z "$owners" ] || bad "state not owned by rmq-connect: $owners"
kill -TERM "$worker"
wait "$worker"
rc=$?
worker=""
[ "$rc" = 0 ] || { bad "worker exit $rc after SIGTERM"; tail -20 "$tmp/worker.err"; }
grep -q "stopped cleanly" "$tmp/worker.err" "$tmp/worker.out" || bad "no 'stopped cleanly' after SIGTERM"
ok "SIGTERM: exit $rc"

# 5. Reinstall (an upgrade's path through the maintainer scripts), remove, purge.
"${SUDO[@]}" dpkg -i "$deb" >"$tmp/dpkg-i2.log" 2>&1 || { cat "$tmp/dpkg-i2.log"; bad "second dpkg -i"; }
grep -qx "httpPort=0" "$conf" || bad "reinstall replaced the edited conffile"
[ "$(stat -c '%U:%G %a' /etc/rmq-connect/broker.env)" = "root:rmq-connect 640" ] ||
  bad "reinstall changed a config's mode: $(stat -c '%U:%G %a' /etc/rmq-connect/broker.env)"
[ -s "$demo/output.txt" ] || bad "reinstall lost the state"
ok "reinstall keeps the edited conffile and the state"
"${SUDO[@]}" dpkg -r rmq-connect >"$tmp/dpkg-r.log" 2>&1 || { cat "$tmp/dpkg-r.log"; bad "dpkg -r"; }
[ ! -e /usr/bin/rmq-connect ] || bad "dpkg -r left /usr/bin/rmq-connect"
[ -f "$conf" ] && [ -d /var/lib/rmq-connect/standalone ] || bad "dpkg -r removed configs or state"
getent passwd rmq-connect >/dev/null || bad "dpkg -r removed the user"
ok "dpkg -r: binary gone, configs, state and user kept"
"${SUDO[@]}" dpkg --purge rmq-connect >"$tmp/dpkg-p.log" 2>&1 || { cat "$tmp/dpkg-p.log"; bad "dpkg --purge"; }
[ ! -e /etc/rmq-connect ] || bad "purge left /etc/rmq-connect: $(ls -A /etc/rmq-connect)"
[ ! -e /var/lib/rmq-connect ] || bad "purge left /var/lib/rmq-connect"
getent passwd rmq-connect >/dev/null && bad "purge left the user rmq-connect"
getent group rmq-connect >/dev/null && bad "purge left the group rmq-connect"
dpkg-statoverride --list | grep -q /etc/rmq-connect/ && bad "purge left stat overrides"
dpkg-query -W -f='${Status}' rmq-connect 2>/dev/null | grep -q "ok installed" && bad "still installed"
ok "dpkg --purge: configs, state, user and group gone"
exit $fail
