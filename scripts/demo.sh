#!/usr/bin/env bash
# The README's run command: a standalone worker with the embedded broker and a demo pipeline,
#   input.txt -> FileSourceConnector -> RegexRouter -> topic pipeline-lines -> FileSinkConnector
#   -> output.txt
# Ctrl-C stops it; state (connectors, positions, the broker's store) stays in build/demo/store,
# so running it again resumes where it stopped.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-build/release/src/app/rmq-connect}
DEMO=${DEMO_DIR:-$PWD/build/demo}
PORT=${HTTP_PORT:-8082}
mkdir -p "$DEMO"

cat > "$DEMO/worker.conf" <<CONF
workerId=standalone-worker
httpPort=$PORT
# Empty namesrvAddr: the embedded broker and name server run in this process.
namesrvAddr=
storePathRootDir=$DEMO/store
embeddedNamesrvPort=0
embeddedBrokerPort=0
offsetCommitIntervalMsConfig=1000
CONF

cat > "$DEMO/file-source.json" <<JSON
{
  "name": "demo-file-source",
  "config": {
    "connector.class": "org.apache.rocketmq.connect.file.FileSourceConnector",
    "filename": "$DEMO/input.txt",
    "connect.topicname": "demo-lines",
    "max.tasks": "1",
    "transforms": "route",
    "transforms.route.class": "org.apache.kafka.connect.transforms.RegexRouter",
    "transforms.route.regex": "demo-(.*)",
    "transforms.route.replacement": "pipeline-\$1"
  }
}
JSON

cat > "$DEMO/file-sink.json" <<JSON
{
  "name": "demo-file-sink",
  "config": {
    "connector.class": "org.apache.rocketmq.connect.file.FileSinkConnector",
    "filename": "$DEMO/output.txt",
    "connect.topicnames": "pipeline-lines",
    "consume.from.where": "CONSUME_FROM_FIRST_OFFSET",
    "max.tasks": "1"
  }
}
JSON

if [ ! -s "$DEMO/input.txt" ]; then
  for i in $(seq 1 10); do echo "hello from line $i" >> "$DEMO/input.txt"; done
fi

cat <<TXT

rocketmq-connect-cpp demo: $DEMO/input.txt -> RocketMQ topic pipeline-lines -> $DEMO/output.txt

Try, in another terminal:
  echo "a new line" >> $DEMO/input.txt; sleep 2; tail $DEMO/output.txt
  curl -s localhost:$PORT/connectors/list
  curl -s localhost:$PORT/connectors/demo-file-source/status
  curl -s -X PUT localhost:$PORT/connectors/demo-file-source/pause
  curl -s -X PUT localhost:$PORT/connectors/demo-file-source/resume
  curl -s localhost:$PORT/connector-plugins
  $BIN admin topic list -n <namesrv printed below>
Ctrl-C stops the worker.

TXT
exec "$BIN" standalone "$DEMO/worker.conf" "$DEMO/file-source.json" "$DEMO/file-sink.json"
