#!/usr/bin/env bash
# dockerfile_check: the Dockerfile checked without a docker engine (none in CI, no hadolint in
# Debian bookworm). What a `docker build` would trip over first, and what must stay in step with
# the rest of the tree:
#   - every instruction is a Dockerfile instruction, the first one (after ARGs) is FROM;
#   - two stages, both Debian bookworm, named; COPY --from names an earlier stage;
#   - every COPY source of the build context exists and is not excluded by .dockerignore;
#   - the build stage uses scripts/setup.sh, the CMake target and the cpack config of the package;
#   - EXPOSE lists the packaged configs' REST port and the broker's name server and broker ports;
#   - ENTRYPOINT and CMD are JSON arrays (exec form: the worker is PID 1 and gets SIGTERM) that run
#     the packaged binary with a packaged conffile.
# This is a lint, not a build: docs/operations.md#docker says how the image is built.
#
#   dockerfile_check.sh <source dir>
set -u
src="$1"
df="$src/Dockerfile"
fail=0
bad() { echo "FAIL: $*"; fail=1; }
[ -f "$df" ] || { echo "FAIL: no $df"; exit 1; }

# Logical lines: comments and blank lines dropped, backslash continuations joined.
mapfile -t lines < <(sed -e '/^[[:space:]]*#/d' -e '/^[[:space:]]*$/d' "$df" |
  sed -e ':a' -e '/\\$/N; s/\\\n/ /; ta')
known=" FROM RUN CMD LABEL EXPOSE ENV ADD COPY ENTRYPOINT VOLUME USER WORKDIR ARG ONBUILD STOPSIGNAL HEALTHCHECK SHELL "
stages=()
seen_from=0
entrypoint=""
cmd=""
exposed=""
runs=""
for line in "${lines[@]}"; do
  read -r word rest <<<"$line"
  upper=${word^^}
  [[ "$known" == *" $upper "* ]] || { bad "unknown instruction '$word'"; continue; }
  [ "$word" = "$upper" ] || bad "instruction '$word' not in upper case"
  if [ "$seen_from" = 0 ] && [ "$upper" != FROM ] && [ "$upper" != ARG ]; then
    bad "'$upper' before the first FROM"
  fi
  case "$upper" in
    FROM)
      seen_from=1
      if [[ "$rest" =~ ^(--platform=[^[:space:]]+[[:space:]]+)?([^[:space:]]+)[[:space:]]+[Aa][Ss][[:space:]]+([a-z0-9_.-]+)$ ]]; then
        image=${BASH_REMATCH[2]}
        stages+=("${BASH_REMATCH[3]}")
        [[ "$image" == debian:bookworm* ]] || bad "stage ${BASH_REMATCH[3]}: image $image is not Debian bookworm"
      else
        bad "FROM without a stage name: $rest"
      fi
      ;;
    COPY | ADD)
      read -r -a args <<<"$rest"
      from=""
      files=()
      for a in "${args[@]}"; do
        case "$a" in
          --from=*) from=${a#--from=} ;;
          --*) ;;
          *) files+=("$a") ;;
        esac
      done
      [ "${#files[@]}" -ge 2 ] || { bad "$upper needs a source and a destination: $rest"; continue; }
      unset 'files[${#files[@]}-1]'
      if [ -n "$from" ]; then
        found=0
        for s in "${stages[@]:0:${#stages[@]}-1}"; do [ "$s" = "$from" ] && found=1; done
        [ "$found" = 1 ] || bad "COPY --from=$from: no earlier stage of that name"
      else
        for f in "${files[@]}"; do
          [ "$f" = . ] && continue
          [ -e "$src/$f" ] || bad "COPY source $f does not exist in the context"
          grep -qx "${f%%/*}" "$src/.dockerignore" 2>/dev/null && bad "COPY source $f is in .dockerignore"
        done
      fi
      ;;
    EXPOSE) exposed+=" $rest" ;;
    ENTRYPOINT) entrypoint=$rest ;;
    CMD) cmd=$rest ;;
    RUN) runs+="$rest"$'\n' ;;
  esac
done

[ "${#stages[@]}" -ge 2 ] || bad "not multi-stage (${#stages[@]} stage)"
grep -q "scripts/setup.sh" <<<"$runs" || bad "the build stage does not install dependencies with scripts/setup.sh"
grep -q -- "--target rmq-connect-runtime" <<<"$runs" || bad "the build stage does not build rmq-connect-runtime"
grep -q "add_custom_target(rmq-connect-runtime" "$src/cmake/packaging.cmake" || bad "no target rmq-connect-runtime in cmake/packaging.cmake"
grep -q "cpack --config build/release/CPackConfig.cmake" <<<"$runs" || bad "the build stage does not run cpack"
grep -q "apt-get install .*rmq-connect.deb" <<<"$runs" || bad "the runtime stage does not install the package"
grep -q "DRMQC_BUILD_TESTS=OFF" <<<"$runs" || bad "the build stage builds the tests"

# Ports: the packaged standalone config's REST port and the broker unit's ports.
http_port=$(sed -n 's/^httpPort=//p' "$src/packaging/etc/standalone.properties")
ns_port=$(sed -n 's/.*--namesrv-port \([0-9]*\).*/\1/p' "$src/packaging/etc/broker.env")
broker_port=$(sed -n 's/.*--broker-port \([0-9]*\).*/\1/p' "$src/packaging/etc/broker.env")
for p in "$http_port" "$ns_port" "$broker_port"; do
  [ -n "$p" ] || { bad "cannot read a port from packaging/etc"; continue; }
  [[ " $exposed " == *" $p "* ]] || bad "EXPOSE lacks $p (EXPOSE$exposed)"
done

json_array='^\[[[:space:]]*"[^"]*"([[:space:]]*,[[:space:]]*"[^"]*")*[[:space:]]*\]$'
[[ "$entrypoint" =~ $json_array ]] || bad "ENTRYPOINT is not a JSON array: $entrypoint"
[[ "$cmd" =~ $json_array ]] || bad "CMD is not a JSON array: $cmd"
[ "$entrypoint" = '["/usr/bin/rmq-connect"]' ] || bad "ENTRYPOINT is not the packaged binary: $entrypoint"
conf=$(sed -n 's/^\["standalone", "\([^"]*\)"\]$/\1/p' <<<"$cmd")
[ -n "$conf" ] || bad "CMD does not run standalone with a config: $cmd"
[ -z "$conf" ] || grep -qx "$conf" "$src/packaging/debian/conffiles" || bad "CMD's config $conf is not a packaged conffile"

[ "$fail" = 0 ] && echo "ok: Dockerfile: ${#lines[@]} instructions, stages ${stages[*]}, EXPOSE$exposed"
exit $fail
