#!/usr/bin/env bash
# Measures this crate's TCP servers (examples/bench_server.rs: the echo Protocol and a
# LineReceiver answering each line with its length) beside the raw-Tokio echo_server and
# line_server and Twisted's servers of the shared reference benchmarks, in one run, with
# the shared load generator. See benches/README.md.
#
#   BENCH_DIR=/path/to/reference/bench benches/tcp_servers.sh
#
# Knobs (environment):
#   BENCH_DIR  the shared reference benchmarks (holds loadgen/, tokio_baselines/, py/);
#              built here into target/reference-bench, the directory itself is not written
#   REPS=3     repetitions; inside each, the implementations take turns, and their order
#              alternates from one repetition to the next (crate, tokio, twisted, then
#              twisted, tokio, crate, ...), so a slow spell of the host hits all of them
#   SECS=2 WARMUP=0.5   measured window and unmeasured warm-up of each load run
#   PIN=same   same: servers and load generator on CPU 1 (how the reference figures were
#              taken); split: servers on CPU 1, load generator on CPU 0; none: unpinned
#   IMPLS="crate tokio twisted"   which servers to run (twisted needs PY)
#   PY=python3 a Python with Twisted installed
#   WORKLOADS="rr1 rr50 rr500 stream line50"   also: line1 line500
#   OUT=target/bench-results/tcp-<UTC>.txt     raw result lines (one per load run)
#   CRATE_SERVER=path   a prebuilt bench_server to measure instead of building one
#   NO_BUILD=1 REF_TARGET=dir   skip building; take loadgen and the raw-Tokio servers from dir
#
# Every load run prints the load generator's line plus server_cpu_s and
# server_cpu_us_per_op (stream: server_mb_per_cpu_s): the server process's own CPU time
# (sum of its threads' on-CPU time from /proc/<pid>/task/*/schedstat) over the whole run
# (connect, warm-up and window) divided by every round trip of the run. The summary at the
# end gives, per workload, the median of each figure over the repetitions and the median
# of the per-repetition ratios crate / raw Tokio and crate / Twisted.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT=$PWD

BENCH_DIR=${BENCH_DIR:?set BENCH_DIR to the shared reference benchmarks (loadgen/, tokio_baselines/, py/)}
REPS=${REPS:-3}
SECS=${SECS:-2}
WARMUP=${WARMUP:-0.5}
PIN=${PIN:-same}
IMPLS=${IMPLS:-"crate tokio twisted"}
PY=${PY:-python3}
WORKLOADS=${WORKLOADS:-"rr1 rr50 rr500 stream line50"}
MAX_SECS=600
mkdir -p target/bench-results
OUT=${OUT:-target/bench-results/tcp-$(date -u +%Y%m%dT%H%M%SZ).txt}
PORT=$((18300 + RANDOM % 500))
# A Failure captures a backtrace when these ask for one: every closed connection would
# pay for a stack walk that the raw servers do not make.
unset RUST_BACKTRACE RUST_LIB_BACKTRACE

case $PIN in
    same) PIN_SERVER="taskset -c 1" PIN_LOAD="taskset -c 1" ;;
    split) PIN_SERVER="taskset -c 1" PIN_LOAD="taskset -c 0" ;;
    none) PIN_SERVER="" PIN_LOAD="" ;;
    *) echo "PIN must be same, split or none" >&2; exit 2 ;;
esac

note() { echo "# $*" | tee -a "$OUT"; }

REF_TARGET=${REF_TARGET:-$ROOT/target/reference-bench}
if [ -z "${NO_BUILD:-}" ]; then
    echo "building (release)..." >&2
    if [ -z "${CRATE_SERVER:-}" ]; then cargo build --release --example bench_server >&2; fi
    cargo build --release --manifest-path "$BENCH_DIR/Cargo.toml" --target-dir "$REF_TARGET" >&2
fi
R=$REF_TARGET/release
CRATE_SERVER=${CRATE_SERVER:-$ROOT/target/release/examples/bench_server}

note "tcp_servers.sh $(date -u +%Y-%m-%dT%H:%M:%SZ) host: $(nproc) cpus, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), kernel $(uname -r)"
note "reps=$REPS secs=$SECS warmup=$WARMUP pin=$PIN impls=$IMPLS workloads=$WORKLOADS"
note "rustc $(rustc --version | cut -d' ' -f2), crate $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?')"
note "loadavg at start: $(cut -d' ' -f1-3 /proc/loadavg)"

SPID=""
stop_server() {
    if [ -n "$SPID" ]; then
        kill "$SPID" 2>/dev/null || true
        wait "$SPID" 2>/dev/null || true
        SPID=""
    fi
}
trap stop_server EXIT

# start_server CMD...: starts a loopback server and waits (up to 10 s) for its READY line.
start_server() {
    local ready
    ready=$(mktemp)
    $PIN_SERVER "$@" >"$ready" 2>>"$OUT.stderr" &
    SPID=$!
    for _ in $(seq 1 100); do
        grep -q READY "$ready" && break
        kill -0 "$SPID" 2>/dev/null || break
        sleep 0.1
    done
    grep -q READY "$ready" || note "server did not report READY: $*"
    rm -f "$ready"
}

# server_cmd IMPL echo|line PORT: the command serving that workload.
server_cmd() {
    case $1 in
        crate) echo "$CRATE_SERVER $2 127.0.0.1:$3 $MAX_SECS" ;;
        tokio) echo "$R/${2}_server 127.0.0.1:$3 $MAX_SECS" ;;
        twisted) echo "$PY $BENCH_DIR/py/twisted_servers.py $2 $3 $MAX_SECS" ;;
        *) echo "unknown implementation $1" >&2; exit 2 ;;
    esac
}

# cpu_ns: on-CPU nanoseconds of every thread of the current server so far.
cpu_ns() {
    cat /proc/"$SPID"/task/*/schedstat 2>/dev/null | awk '{ s += $1 } END { printf "%.0f\n", s }'
}

# load IMPL ARGS...: one load run against the current server, with its CPU time.
load() {
    local impl=$1 t0 t1 out
    shift
    t0=$(cpu_ns)
    out=$(timeout 120 $PIN_LOAD "$R/loadgen" --addr "127.0.0.1:$PORT" --duration "$SECS" \
        --warmup "$WARMUP" --label "$impl" "$@" 2>>"$OUT.stderr") || note "loadgen failed: $impl $*"
    t1=$(cpu_ns)
    printf '%s\n' "$out" | awk -v ns="$((t1 - t0))" -v rep="$REP" '/^workload=/ {
        tot = 0
        for (i = 1; i <= NF; i++) if ($i ~ /^total_ops=/) { split($i, kv, "="); tot = kv[2] }
        s = ns / 1e9
        extra = sprintf(" rep=%d server_cpu_s=%.4f", rep, s)
        if ($0 ~ / mode=stream /) extra = extra sprintf(" server_mb_per_cpu_s=%.1f", (s > 0 ? tot / s / 1e6 : 0))
        else if (tot > 0) extra = extra sprintf(" server_cpu_us_per_op=%.3f", s * 1e6 / tot)
        print $0 extra }' | tee -a "$OUT"
}

wants() { case " $WORKLOADS " in *" $1 "*) return 0 ;; *) return 1 ;; esac; }

run_impl() {
    local impl=$1
    if wants rr1 || wants rr50 || wants rr500 || wants stream; then
        PORT=$((PORT + 1))
        # shellcheck disable=SC2046
        start_server $(server_cmd "$impl" echo $PORT)
        if wants rr1; then load "$impl" --mode rr --conns 1 --msgs 1000000 --size 64; fi
        if wants rr50; then load "$impl" --mode rr --conns 50 --msgs 100000 --size 64; fi
        if wants rr500; then load "$impl" --mode rr --conns 500 --msgs 10000 --size 64; fi
        if wants stream; then load "$impl" --mode stream --conns 1 --chunk 65536; fi
        stop_server
    fi
    if wants line1 || wants line50 || wants line500; then
        PORT=$((PORT + 1))
        # shellcheck disable=SC2046
        start_server $(server_cmd "$impl" line $PORT)
        if wants line1; then load "$impl" --mode line --conns 1 --msgs 1000000 --size 64; fi
        if wants line50; then load "$impl" --mode line --conns 50 --msgs 100000 --size 64; fi
        if wants line500; then load "$impl" --mode line --conns 500 --msgs 10000 --size 64; fi
        stop_server
    fi
}

read -r -a ORDER <<<"$IMPLS"
for REP in $(seq 1 "$REPS"); do
    note "rep $REP/$REPS loadavg $(cut -d' ' -f1-3 /proc/loadavg)"
    if [ $((REP % 2)) -eq 1 ]; then
        for impl in "${ORDER[@]}"; do run_impl "$impl"; done
    else
        for ((i = ${#ORDER[@]} - 1; i >= 0; i--)); do run_impl "${ORDER[i]}"; done
    fi
done
note "loadavg at end: $(cut -d' ' -f1-3 /proc/loadavg)"

echo
echo "results: $OUT"
python3 "$ROOT/benches/tcp_summary.py" "$OUT"
