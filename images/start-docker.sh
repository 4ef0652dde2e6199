#!/usr/bin/env bash
# Start a Docker engine if none answers; shared by `make docker-up`, images/build.sh and .ci/run.
#
# These machines have no init system running services, so dockerd is started by hand, with
# the flags of the verified recipe in DESIGN.md:
#   --storage-driver=overlay2  the default probe can pick vfs here, which copies every layer
#   --ip=127.0.0.1             published ports listen on loopback only (network rule)
# The engine is started detached (setsid + nohup) so it outlives the calling shell; CI and
# later sessions start with no processes, which is why every entry point calls this script.
set -euo pipefail

LOG_DIR="${REPRO_DOCKER_LOG_DIR:-/var/log/repro}"
LOG="$LOG_DIR/dockerd.log"
TIMEOUT="${REPRO_DOCKER_START_TIMEOUT:-60}"

log() { printf '[docker-up] %s\n' "$*" >&2; }

if docker info >/dev/null 2>&1; then
    log "Docker engine already answering"
    exit 0
fi

command -v dockerd >/dev/null 2>&1 ||
    { log "dockerd not installed: run images/provision.sh (apt package docker.io)"; exit 1; }
[ "$(id -u)" = 0 ] || { log "starting dockerd needs root"; exit 1; }

# A killed engine leaves pid files behind, and dockerd refuses to start while its pid file
# names a pid; remove them only when that process is really gone.
for pidfile in /var/run/docker.pid /var/run/docker/containerd/containerd.pid; do
    if [ -f "$pidfile" ]; then
        pid="$(cat "$pidfile" 2>/dev/null || true)"
        if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
            log "dockerd/containerd pid $pid is alive but the engine does not answer; waiting for it"
        else
            rm -f "$pidfile"
        fi
    fi
done

# Whether this engine runs is told by its own pid file, not by `pgrep dockerd`: a second
# engine (images/start-second-docker.sh) is a dockerd too.
mkdir -p "$LOG_DIR"
if [ -f /var/run/docker.pid ]; then
    engine_pid="$(cat /var/run/docker.pid 2>/dev/null || true)"
else
    log "starting dockerd (log: $LOG)"
    setsid nohup dockerd --storage-driver=overlay2 --ip=127.0.0.1 >>"$LOG" 2>&1 </dev/null &
    engine_pid=$!
    echo "$engine_pid" >"$LOG_DIR/dockerd.pid"
fi

# Poll with a deadline: dockerd usually answers within 1-3 s.
deadline=$((SECONDS + TIMEOUT))
until docker info >/dev/null 2>&1; do
    if [ -n "$engine_pid" ] && ! kill -0 "$engine_pid" 2>/dev/null; then
        log "dockerd exited; last lines of $LOG:"
        tail -50 "$LOG" >&2 || true
        exit 1
    fi
    if [ "$SECONDS" -ge "$deadline" ]; then
        log "Docker engine did not answer within ${TIMEOUT}s; last lines of $LOG:"
        tail -50 "$LOG" >&2 || true
        exit 1
    fi
    sleep 0.5
done
log "Docker engine up: $(docker version --format 'server {{.Server.Version}}' 2>/dev/null || echo '?')"
