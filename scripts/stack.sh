#!/usr/bin/env bash
# Local stack without Docker: Apache Kafka (KRaft, from Maven Central jars), the project's schema
# registry, and Postgres. Idempotent: `up` starts only what does not answer, `down` stops what it started.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
STACK_DIR="${ORDER_ROUTER_STACK_DIR:-$ROOT/.stack}"
KAFKA_VERSION="$(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$ROOT/scripts/kafka/pom.xml")"
KAFKA_HOME="$STACK_DIR/kafka-$KAFKA_VERSION"
# Services are found through the same variables the code reads; a loopback address that does not
# answer is started here, anything else must already run.
FIRST_BROKER="${KAFKA_BROKERS:-127.0.0.1:9092}"; FIRST_BROKER="${FIRST_BROKER%%,*}"
KAFKA_HOST="${FIRST_BROKER%:*}"
KAFKA_PORT="${FIRST_BROKER##*:}"
KAFKA_CONTROLLER_PORT="${KAFKA_CONTROLLER_PORT:-$((KAFKA_PORT + 1))}"
REGISTRY_URL="${SCHEMA_REGISTRY_URL:-http://127.0.0.1:8081}"
REGISTRY_HOSTPORT="${REGISTRY_URL#*://}"; REGISTRY_HOSTPORT="${REGISTRY_HOSTPORT%%/*}"
REGISTRY_HOST="${REGISTRY_HOSTPORT%:*}"
REGISTRY_PORT="${REGISTRY_HOSTPORT##*:}"
PG_URL="${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/order_router}"
PG_HOSTPORT="${PG_URL#*://}"; PG_HOSTPORT="${PG_HOSTPORT#*@}"; PG_HOSTPORT="${PG_HOSTPORT%%/*}"
PG_HOST="${PG_HOSTPORT%:*}"
PG_PORT="${PG_HOSTPORT##*:}"; [ "$PG_PORT" = "$PG_HOSTPORT" ] && PG_PORT=5432

log() { printf '[stack] %s\n' "$*" >&2; }
port_open() { (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; }
wait_port() { # host port seconds name
  local i
  for ((i = 0; i < $3 * 10; i++)); do port_open "$1" "$2" && return 0; sleep 0.1; done
  log "$4 did not open $1:$2 within $3 s"; return 1
}

kafka_libs() {
  if [ ! -f "$KAFKA_HOME/libs/.complete" ]; then
    log "resolving kafka_2.13:$KAFKA_VERSION from Maven Central"
    mkdir -p "$KAFKA_HOME/libs"
    mvn -q -B -f "$ROOT/scripts/kafka/pom.xml" dependency:copy-dependencies \
      -DoutputDirectory="$KAFKA_HOME/libs" -DincludeScope=runtime >&2
    touch "$KAFKA_HOME/libs/.complete"
  fi
}

is_loopback() { case "$1" in 127.*|localhost) return 0 ;; *) return 1 ;; esac; }

kafka_up() {
  if port_open "$KAFKA_HOST" "$KAFKA_PORT"; then log "kafka already answers on $KAFKA_HOST:$KAFKA_PORT"; return; fi
  is_loopback "$KAFKA_HOST" || { log "kafka does not answer on $KAFKA_HOST:$KAFKA_PORT (KAFKA_BROKERS)"; exit 1; }
  command -v java >/dev/null || { log "java is required to run Kafka (apt-get install -y openjdk-17-jre-headless)"; exit 1; }
  command -v mvn >/dev/null || { log "mvn is required to fetch Kafka (apt-get install -y maven)"; exit 1; }
  kafka_libs
  local conf="$STACK_DIR/kafka/server.properties" data="$STACK_DIR/kafka/data"
  mkdir -p "$STACK_DIR/kafka"
  cat >"$conf" <<PROPS
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$KAFKA_CONTROLLER_PORT
listeners=PLAINTEXT://127.0.0.1:$KAFKA_PORT,CONTROLLER://127.0.0.1:$KAFKA_CONTROLLER_PORT
advertised.listeners=PLAINTEXT://127.0.0.1:$KAFKA_PORT
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs=$data
num.partitions=3
auto.create.topics.enable=false
offsets.topic.replication.factor=1
offsets.topic.num.partitions=10
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=10
group.initial.rebalance.delay.ms=0
log.retention.hours=-1
PROPS
  cat >"$STACK_DIR/kafka/log4j.properties" <<PROPS
log4j.rootLogger=WARN, file
log4j.appender.file=org.apache.log4j.FileAppender
log4j.appender.file.File=$STACK_DIR/kafka/server.log
log4j.appender.file.layout=org.apache.log4j.PatternLayout
log4j.appender.file.layout.ConversionPattern=[%d] %p %m (%c)%n
log4j.logger.kafka=INFO
PROPS
  local cp="$KAFKA_HOME/libs/*" jvm=(-Xms256m -Xmx1g -XX:+UseG1GC -Dlog4j.configuration="file:$STACK_DIR/kafka/log4j.properties")
  if [ ! -f "$data/meta.properties" ]; then
    local cluster; cluster="$(java -cp "$cp" "${jvm[@]}" kafka.tools.StorageTool random-uuid)"
    log "formatting KRaft storage (cluster $cluster)"
    java -cp "$cp" "${jvm[@]}" kafka.tools.StorageTool format -t "$cluster" -c "$conf" >&2
  fi
  log "starting kafka $KAFKA_VERSION on 127.0.0.1:$KAFKA_PORT"
  nohup java -cp "$cp" "${jvm[@]}" kafka.Kafka "$conf" </dev/null >"$STACK_DIR/kafka/stdout.log" 2>&1 &
  echo $! >"$STACK_DIR/kafka.pid"
  wait_port 127.0.0.1 "$KAFKA_PORT" 90 kafka || { tail -20 "$STACK_DIR/kafka/server.log" >&2; exit 1; }
}

registry_up() {
  if port_open "$REGISTRY_HOST" "$REGISTRY_PORT"; then log "schema registry already answers on $REGISTRY_HOST:$REGISTRY_PORT"; return; fi
  is_loopback "$REGISTRY_HOST" || { log "schema registry does not answer at $REGISTRY_URL (SCHEMA_REGISTRY_URL)"; exit 1; }
  log "starting schema registry on 127.0.0.1:$REGISTRY_PORT"
  cd "$ROOT"
  KAFKA_BROKERS="$KAFKA_HOST:$KAFKA_PORT" SCHEMA_REGISTRY_PORT="$REGISTRY_PORT" \
    nohup node --import tsx schemas/registry/main.ts </dev/null >"$STACK_DIR/registry.log" 2>&1 &
  echo $! >"$STACK_DIR/registry.pid"
  local i
  for ((i = 0; i < 600; i++)); do
    if curl -fsS "http://127.0.0.1:$REGISTRY_PORT/subjects" >/dev/null 2>&1; then return 0; fi
    if ! kill -0 "$(cat "$STACK_DIR/registry.pid")" 2>/dev/null; then break; fi
    sleep 0.1
  done
  log "schema registry did not start:"; tail -20 "$STACK_DIR/registry.log" >&2; exit 1
}

postgres_up() {
  if port_open "$PG_HOST" "$PG_PORT"; then return; fi
  if is_loopback "$PG_HOST" && command -v pg_ctlcluster >/dev/null && [ -d /etc/postgresql ]; then
    log "starting local postgres"
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start >&2 || true
    wait_port "$PG_HOST" "$PG_PORT" 30 postgres && return
  fi
  log "postgres does not answer on $PG_HOST:$PG_PORT; set DATABASE_URL to a running server"; exit 1
}

stop_pid() {
  local f="$STACK_DIR/$1.pid"
  [ -f "$f" ] || return 0
  local pid; pid="$(cat "$f")"
  if kill -0 "$pid" 2>/dev/null; then
    log "stopping $1 ($pid)"; kill "$pid"
    for _ in $(seq 1 300); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
  fi
  rm -f "$f"
}

mkdir -p "$STACK_DIR"
case "${1:-up}" in
  up)
    postgres_up
    kafka_up
    registry_up
    log "ready: kafka $KAFKA_HOST:$KAFKA_PORT, registry $REGISTRY_URL, postgres $PG_HOST:$PG_PORT" ;;
  down) stop_pid registry; stop_pid kafka ;;
  reset) stop_pid registry; stop_pid kafka; rm -rf "$STACK_DIR/kafka" ;;
  kafka-libs) kafka_libs ;;
  *) echo "usage: scripts/stack.sh up|down|reset" >&2; exit 2 ;;
esac
