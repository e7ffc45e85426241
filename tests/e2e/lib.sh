# Shared by the e2e run.sh scripts (sourced, not run): logging, Debian packages on demand, the
# pinned npm install of a test's folder, and stopping a child process cleanly.

log() { echo "[run.sh +${SECONDS}s] $*"; }

apt_install() { # apt_install PACKAGE...: from Debian, as root or through sudo
  local sudo=""
  if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
  $sudo apt-get update -q
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q "$@"
}

ensure_node() { # node and npm from Debian when missing
  if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    log "node/npm missing: installing nodejs and npm from Debian"
    apt_install nodejs npm
  fi
}

# npm_install_pinned SRC_DIR WORK_DIR: copies package.json, package-lock.json and test.js from
# SRC_DIR into WORK_DIR and runs `npm ci` there unless WORK_DIR's node_modules were installed from
# the same lock file. Holds WORK_DIR/.lock on fd 9 for the rest of the script, so two concurrent
# runs sharing WORK_DIR do not npm ci over each other.
npm_install_pinned() {
  local src=$1 work=$2
  mkdir -p "$work"
  exec 9>"$work/.lock"
  flock 9
  cp "$src/package.json" "$src/package-lock.json" "$src/test.js" "$work/"
  if ! cmp -s "$work/package-lock.json" "$work/node_modules/.installed-lock.json" 2>/dev/null; then
    log "npm ci in $work"
    (cd "$work" && npm ci --no-audit --no-fund --loglevel=error)
    cp "$work/package-lock.json" "$work/node_modules/.installed-lock.json"
  fi
}

# stop_child PID WHAT: SIGTERM, then waits up to 10 s; non-zero if it needed SIGKILL or exited
# non-zero (a clean shutdown on SIGTERM is part of what the tests check).
stop_child() {
  local pid=$1 what=$2
  [ -n "$pid" ] || return 0
  kill -TERM "$pid" 2>/dev/null || return 0
  for _ in $(seq 1 100); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$pid" 2>/dev/null; then
    echo "$what did not stop within 10 s of SIGTERM: SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    return 1
  fi
  local rc=0
  wait "$pid" || rc=$?
  return "$rc"
}

# wait_ready PID OUT_FILE PREFIX WHAT: waits up to 30 s for a line of OUT_FILE starting with PREFIX
# (a ready line) and sets READY to it; exits the script with a FAIL line when the process exited
# first or no such line came.
wait_ready() {
  local pid=$1 out=$2 prefix=$3 what=$4
  READY=""
  for _ in $(seq 1 300); do
    READY=$(grep -m1 "^$prefix" "$out" || true)
    [ -n "$READY" ] && return 0
    kill -0 "$pid" 2>/dev/null || { echo "FAIL: $what exited before it was ready"; exit 1; }
    sleep 0.1
  done
  echo "FAIL: no ready line from $what within 30 s"
  exit 1
}
