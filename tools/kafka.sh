#!/usr/bin/env bash
# A single-node Apache Kafka 4.x broker (KRaft, no ZooKeeper) on loopback, for tests and local runs.
#
#   bash tools/kafka.sh fetch          resolve the broker jars from Maven Central into the cache (once)
#   bash tools/kafka.sh start [--fresh] fetch if needed, format storage if new, start, wait until ready
#   bash tools/kafka.sh stop           stop the broker started here (by PID), wait until it has exited
#   bash tools/kafka.sh status         print "running <pid> <bootstrap>" or "stopped"; exit 0 / 1
#
# Env: KAFKA_PORT (9092), KAFKA_CONTROLLER_PORT (KAFKA_PORT + 1), PAS_KAFKA_HOME (.cache/kafka in the
# repo), KAFKA_HEAP (512m). The only download is `mvn dependency:copy-dependencies` from Maven Central.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
home=${PAS_KAFKA_HOME:-$repo/.cache/kafka}
port=${KAFKA_PORT:-9092}
controller_port=${KAFKA_CONTROLLER_PORT:-$((port + 1))}
heap=${KAFKA_HEAP:-512m}
libs=$home/libs
data=$home/data-$port
pidfile=$home/kafka-$port.pid
logfile=$home/kafka-$port.log
config=$home/server-$port.properties

say() { printf 'kafka: %s\n' "$*" >&2; }

fetch() {
  if [ -f "$libs/.complete" ]; then return 0; fi
  command -v mvn >/dev/null || { say "mvn not found: install Maven (apt-get install maven)"; exit 1; }
  say "resolving broker jars from Maven Central into $libs (first run only)"
  rm -rf "$libs"
  mvn -q -B -f "$repo/tools/kafka/pom.xml" dependency:copy-dependencies \
    -DincludeScope=runtime -DoutputDirectory="$libs" >&2
  touch "$libs/.complete"
}

running_pid() {
  [ -f "$pidfile" ] || return 1
  local pid
  pid=$(cat "$pidfile")
  kill -0 "$pid" 2>/dev/null || return 1
  echo "$pid"
}

write_config() {
  cat >"$config" <<EOF
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$controller_port
listeners=PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$controller_port
advertised.listeners=PLAINTEXT://127.0.0.1:$port
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
log.dirs=$data
num.partitions=1
auto.create.topics.enable=false
offsets.topic.replication.factor=1
offsets.topic.num.partitions=8
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
group.consumer.heartbeat.interval.ms=1000
group.consumer.min.heartbeat.interval.ms=500
log.flush.interval.messages=9223372036854775807
EOF
}

java_run() {
  java -Xms"$heap" -Xmx"$heap" -XX:+UseG1GC -Djava.awt.headless=true \
    -Dlog4j2.configurationFile="$repo/tools/kafka/log4j2.properties" -Dpas.kafka.log="$logfile" \
    -cp "$libs/*" "$@"
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

start() {
  local fresh=${1:-}
  if pid=$(running_pid); then say "already running (pid $pid) on 127.0.0.1:$port"; return 0; fi
  if port_open "$port"; then say "port $port is taken by another process; set KAFKA_PORT"; exit 1; fi
  fetch
  mkdir -p "$home"
  if [ "$fresh" = "--fresh" ]; then rm -rf "$data"; fi
  write_config
  if [ ! -f "$data/meta.properties" ]; then
    local cluster_id
    cluster_id=$(java_run kafka.tools.StorageTool random-uuid 2>/dev/null | tail -n 1)
    java_run kafka.tools.StorageTool format -t "$cluster_id" -c "$config" >/dev/null
  fi
  : >"$logfile"
  nohup java -Xms"$heap" -Xmx"$heap" -XX:+UseG1GC -Djava.awt.headless=true \
    -Dlog4j2.configurationFile="$repo/tools/kafka/log4j2.properties" -Dpas.kafka.log="$logfile" \
    -cp "$libs/*" kafka.Kafka "$config" >"$home/kafka-$port.out" 2>&1 &
  echo $! >"$pidfile"
  local pid=$!
  local waited=0
  # Ready means the broker has finished start-up (it logs this after the controller elected itself
  # and the listener is bound), not merely that the port accepts connections.
  until grep -q 'Kafka Server started' "$logfile" 2>/dev/null && port_open "$port"; do
    if ! kill -0 "$pid" 2>/dev/null; then
      say "broker exited during start-up; last lines:"
      tail -n 30 "$home/kafka-$port.out" "$logfile" >&2 || true
      exit 1
    fi
    if [ "$waited" -ge 120 ]; then say "not ready after 60 s"; stop; exit 1; fi
    sleep 0.5
    waited=$((waited + 1))
  done
  say "ready on 127.0.0.1:$port (pid $pid)"
}

stop() {
  local pid
  if ! pid=$(running_pid); then say "not running"; rm -f "$pidfile"; return 0; fi
  kill -TERM "$pid"
  for _ in $(seq 1 60); do
    kill -0 "$pid" 2>/dev/null || { rm -f "$pidfile"; say "stopped (pid $pid)"; return 0; }
    sleep 0.5
  done
  say "pid $pid did not stop in 30 s; killing"
  kill -KILL "$pid" 2>/dev/null || true
  rm -f "$pidfile"
}

case "${1:-}" in
  fetch) fetch ;;
  start) start "${2:-}" ;;
  stop) stop ;;
  status)
    if pid=$(running_pid); then echo "running $pid 127.0.0.1:$port"; else echo stopped; exit 1; fi
    ;;
  *)
    sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//' >&2
    exit 2
    ;;
esac
