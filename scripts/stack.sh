#!/usr/bin/env bash
# Local stack without Docker: Apache Kafka (KRaft, from Maven Central jars), the project's schema
# registry, and Postgres. Idempotent: `up` starts only what does not answer, `down` stops what it started.
# KAFKA_NODES=3 (any odd number) starts a cluster of combined broker+controller nodes on loopback instead
# of one node: brokers on the ports KAFKA_BROKERS lists (or the first one's port + 2, + 4, ...), each
# node's controller on its broker port + 1; internal topics with 3 replicas and min ISR 2.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
STACK_DIR="${ORDER_ROUTER_STACK_DIR:-$ROOT/.stack}"
case "$STACK_DIR" in /*) ;; *) STACK_DIR="$PWD/$STACK_DIR" ;; esac # mvn resolves relative paths from the pom's folder
KAFKA_VERSION="$(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$ROOT/scripts/kafka/pom.xml")"
KAFKA_HOME="$STACK_DIR/kafka-$KAFKA_VERSION"
# Services are found through the same variables the code reads; a loopback address that does not
# answer is started here, anything else must already run.
FIRST_BROKER="${KAFKA_BROKERS:-127.0.0.1:9092}"; FIRST_BROKER="${FIRST_BROKER%%,*}"
KAFKA_HOST="${FIRST_BROKER%:*}"
KAFKA_PORT="${FIRST_BROKER##*:}"
KAFKA_CONTROLLER_PORT="${KAFKA_CONTROLLER_PORT:-$((KAFKA_PORT + 1))}"
KAFKA_NODES="${KAFKA_NODES:-1}"
NODE_PORTS=()
REGISTRY_URL="${SCHEMA_REGISTRY_URL:-http://127.0.0.1:8081}"
REGISTRY_HOSTPORT="${REGISTRY_URL#*://}"; REGISTRY_HOSTPORT="${REGISTRY_HOSTPORT%%/*}"
REGISTRY_HOST="${REGISTRY_HOSTPORT%:*}"
REGISTRY_PORT="${REGISTRY_HOSTPORT##*:}"
PG_URL="${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/order_router}"
PG_HOSTPORT="${PG_URL#*://}"; PG_HOSTPORT="${PG_HOSTPORT#*@}"; PG_HOSTPORT="${PG_HOSTPORT%%/*}"
PG_HOST="${PG_HOSTPORT%:*}"
PG_PORT="${PG_HOSTPORT##*:}"; [ "$PG_PORT" = "$PG_HOSTPORT" ] && PG_PORT=5432

# The Node the project pins (node_modules/.bin/node, current LTS) when installed: it runs TypeScript as is.
NODE="$ROOT/node_modules/.bin/node"; [ -x "$NODE" ] || NODE=node

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

# One node keeps the original layout (kafka/, kafka.pid); a cluster's nodes live in kafka-node-<id>/.
node_name() { if [ "$KAFKA_NODES" -eq 1 ]; then echo kafka; else echo "kafka-node-$1"; fi; }
node_port() { echo "${NODE_PORTS[$(($1 - 1))]}"; }
node_controller_port() { if [ "$KAFKA_NODES" -eq 1 ]; then echo "$KAFKA_CONTROLLER_PORT"; else echo $(($(node_port "$1") + 1)); fi; }
broker_list() {
  # One node: whatever KAFKA_BROKERS lists (a cluster this script did not start may be behind it).
  if [ "$KAFKA_NODES" -eq 1 ]; then echo "${KAFKA_BROKERS:-$KAFKA_HOST:$KAFKA_PORT}"; return; fi
  local i out=""; for ((i = 1; i <= KAFKA_NODES; i++)); do out+="${out:+,}$KAFKA_HOST:$(node_port "$i")"; done; echo "$out"
}

kafka_nodes_layout() {
  [[ "$KAFKA_NODES" =~ ^[1-9][0-9]*$ ]] && ((KAFKA_NODES % 2 == 1)) \
    || { log "KAFKA_NODES must be an odd number (a controller quorum needs a majority), got '$KAFKA_NODES'"; exit 1; }
  local listed=() i
  IFS=, read -ra listed <<<"${KAFKA_BROKERS:-$FIRST_BROKER}"
  if [ "$KAFKA_NODES" -eq 1 ] || [ "${#listed[@]}" -eq 1 ]; then
    for ((i = 0; i < KAFKA_NODES; i++)); do NODE_PORTS+=($((KAFKA_PORT + 2 * i))); done
  elif [ "${#listed[@]}" -eq "$KAFKA_NODES" ]; then
    for i in "${listed[@]}"; do
      [ "${i%:*}" = "$KAFKA_HOST" ] || { log "KAFKA_BROKERS: a local cluster runs on one loopback host, got $i"; exit 1; }
      NODE_PORTS+=("${i##*:}")
    done
  else
    log "KAFKA_BROKERS lists ${#listed[@]} brokers for KAFKA_NODES=$KAFKA_NODES: list one (the others follow on port + 2, + 4, ...) or all"; exit 1
  fi
}

node_config() { # id dir
  local voters="" j rf=1 isr=1
  for ((j = 1; j <= KAFKA_NODES; j++)); do voters+="${voters:+,}$j@127.0.0.1:$(node_controller_port "$j")"; done
  # Three copies, two of them in sync before a write is acknowledged: one broker can die without losing
  # an acknowledged record or stopping writes. A cluster of one cannot do better than one copy.
  if [ "$KAFKA_NODES" -ge 3 ]; then rf=3; isr=2; fi
  cat >"$2/server.properties" <<PROPS
process.roles=broker,controller
node.id=$1
controller.quorum.voters=$voters
listeners=PLAINTEXT://127.0.0.1:$(node_port "$1"),CONTROLLER://127.0.0.1:$(node_controller_port "$1")
advertised.listeners=PLAINTEXT://127.0.0.1:$(node_port "$1")
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs=$2/data
num.partitions=3
auto.create.topics.enable=false
default.replication.factor=$rf
min.insync.replicas=$isr
unclean.leader.election.enable=false
offsets.topic.replication.factor=$rf
offsets.topic.num.partitions=10
transaction.state.log.replication.factor=$rf
transaction.state.log.min.isr=$isr
transaction.state.log.num.partitions=10
group.initial.rebalance.delay.ms=0
# Followers long-poll the leader for at most this long. Commit markers reach the in-sync replicas only on a
# follower's next fetch, so at the default 500 ms a transaction begun right after a commit waited
# (CONCURRENT_TRANSACTIONS) a few hundred ms on a cluster: one transaction every 330 ms, 32 ms at 50.
replica.fetch.wait.max.ms=50
log.retention.hours=-1
PROPS
  cat >"$2/log4j.properties" <<PROPS
log4j.rootLogger=WARN, file
log4j.appender.file=org.apache.log4j.FileAppender
log4j.appender.file.File=$2/server.log
log4j.appender.file.layout=org.apache.log4j.PatternLayout
log4j.appender.file.layout.ConversionPattern=[%d] %p %m (%c)%n
log4j.logger.kafka=INFO
PROPS
}

kafka_up() {
  kafka_nodes_layout
  local todo=() i
  for ((i = 1; i <= KAFKA_NODES; i++)); do
    if port_open "$KAFKA_HOST" "$(node_port "$i")"; then log "kafka already answers on $KAFKA_HOST:$(node_port "$i")"; else todo+=("$i"); fi
  done
  [ "${#todo[@]}" -gt 0 ] || return 0
  is_loopback "$KAFKA_HOST" || { log "kafka does not answer on $KAFKA_HOST:$KAFKA_PORT (KAFKA_BROKERS)"; exit 1; }
  command -v java >/dev/null || { log "java is required to run Kafka (apt-get install -y openjdk-17-jre-headless)"; exit 1; }
  command -v mvn >/dev/null || { log "mvn is required to fetch Kafka (apt-get install -y maven)"; exit 1; }
  kafka_libs
  if [ "$KAFKA_NODES" -gt 1 ]; then
    local was; was="$(cat "$STACK_DIR/kafka-cluster.nodes" 2>/dev/null || echo "$KAFKA_NODES")"
    [ "$was" = "$KAFKA_NODES" ] || { log "$STACK_DIR holds a $was-node cluster; 'bash scripts/stack.sh reset' first to start $KAFKA_NODES nodes"; exit 1; }
    echo "$KAFKA_NODES" >"$STACK_DIR/kafka-cluster.nodes"
  fi
  local cp="$KAFKA_HOME/libs/*" jvm=(-Xms256m -Xmx1g -XX:+UseG1GC) formats=()
  [ "$KAFKA_NODES" -gt 1 ] && jvm=(-Xms128m -Xmx512m -XX:+UseG1GC)
  for i in "${todo[@]}"; do
    local dir; dir="$STACK_DIR/$(node_name "$i")"
    mkdir -p "$dir"
    node_config "$i" "$dir"
    [ -f "$dir/data/meta.properties" ] || formats+=("$i")
  done
  if [ "${#formats[@]}" -gt 0 ]; then
    # Every node formatted once, all with the same cluster id (kept for nodes formatted later).
    local cluster; cluster="$(cat "$STACK_DIR/kafka-cluster.id" 2>/dev/null || true)"
    [ -n "$cluster" ] || cluster="$(java -cp "$cp" "${jvm[@]}" -Dlog4j.configuration="file:$STACK_DIR/$(node_name "${formats[0]}")/log4j.properties" kafka.tools.StorageTool random-uuid)"
    echo "$cluster" >"$STACK_DIR/kafka-cluster.id"
    log "formatting KRaft storage (cluster $cluster, node ${formats[*]})"
    local pids=()
    for i in "${formats[@]}"; do
      local dir; dir="$STACK_DIR/$(node_name "$i")"
      java -cp "$cp" "${jvm[@]}" -Dlog4j.configuration="file:$dir/log4j.properties" kafka.tools.StorageTool format -t "$cluster" -c "$dir/server.properties" >&2 &
      pids+=($!)
    done
    for i in "${pids[@]}"; do wait "$i"; done
  fi
  for i in "${todo[@]}"; do
    local dir; dir="$STACK_DIR/$(node_name "$i")"
    log "starting kafka $KAFKA_VERSION on 127.0.0.1:$(node_port "$i")$([ "$KAFKA_NODES" -gt 1 ] && echo " (node $i of $KAFKA_NODES)")"
    nohup java -cp "$cp" "${jvm[@]}" -Dlog4j.configuration="file:$dir/log4j.properties" kafka.Kafka "$dir/server.properties" </dev/null >"$dir/stdout.log" 2>&1 &
    echo $! >"$STACK_DIR/$(node_name "$i").pid"
  done
  for i in "${todo[@]}"; do
    wait_port 127.0.0.1 "$(node_port "$i")" 90 kafka || { tail -20 "$STACK_DIR/$(node_name "$i")/server.log" >&2; exit 1; }
  done
  if [ "$KAFKA_NODES" -gt 1 ]; then
    # Every broker registered with an elected quorum leader; the registry's topic made with 3 copies
    # before the registry starts (it would create it with one).
    cd "$ROOT"
    KAFKA_BROKERS="$(broker_list)" "$NODE" scripts/kafka/cluster.ts ready "$STACK_DIR" "$KAFKA_NODES" "${SCHEMA_REGISTRY_TOPIC:-_schemas}" >&2
  fi
}

registry_up() {
  if port_open "$REGISTRY_HOST" "$REGISTRY_PORT"; then log "schema registry already answers on $REGISTRY_HOST:$REGISTRY_PORT"; return; fi
  is_loopback "$REGISTRY_HOST" || { log "schema registry does not answer at $REGISTRY_URL (SCHEMA_REGISTRY_URL)"; exit 1; }
  log "starting schema registry on 127.0.0.1:$REGISTRY_PORT"
  cd "$ROOT"
  KAFKA_BROKERS="$(broker_list)" SCHEMA_REGISTRY_PORT="$REGISTRY_PORT" \
    nohup "$NODE" schemas/registry/main.ts </dev/null >"$STACK_DIR/registry.log" 2>&1 &
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

# Every node at once, whatever KAFKA_NODES says now: one at a time, the last ones wait for a quorum that
# is already gone.
stop_kafka() {
  local f names=() pids=()
  for f in "$STACK_DIR"/kafka.pid "$STACK_DIR"/kafka-node-*.pid; do
    [ -f "$f" ] || continue
    local name pid; name="$(basename "$f" .pid)"; pid="$(cat "$f")"
    if kill -0 "$pid" 2>/dev/null; then log "stopping $name ($pid)"; kill "$pid"; pids+=("$pid"); fi
    names+=("$f")
  done
  for _ in $(seq 1 300); do
    local left=0 pid
    for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null && left=1; done
    [ "$left" -eq 0 ] && break; sleep 0.1
  done
  for pid in "${pids[@]}"; do kill -9 "$pid" 2>/dev/null || true; done
  rm -f "${names[@]}"
}

mkdir -p "$STACK_DIR"
case "${1:-up}" in
  up)
    postgres_up
    kafka_up
    registry_up
    log "ready: kafka $(broker_list)$([ "$KAFKA_NODES" -gt 1 ] && echo " ($KAFKA_NODES nodes: clients need KAFKA_BROKERS=$(broker_list))"), registry $REGISTRY_URL, postgres $PG_HOST:$PG_PORT" ;;
  down) stop_pid registry; stop_kafka ;;
  reset) stop_pid registry; stop_kafka; rm -rf "$STACK_DIR/kafka" "$STACK_DIR"/kafka-node-* "$STACK_DIR"/kafka-cluster.* ;;
  kafka-libs) kafka_libs ;;
  *) echo "usage: scripts/stack.sh up|down|reset" >&2; exit 2 ;;
esac
