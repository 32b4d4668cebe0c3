#!/bin/sh
# Profiles the HTTP benchmark's server thread for one server and one scenario with perf:
# where its CPU time goes, kernel and user space together, hottest symbols first.
#
#   benches/http/profile.sh "runtime+hyper (io_uring)" "GET / × 64" [seconds per run]
#
# Needs perf (Debian: apt-get install -y linux-perf). Runs the bench in quick mode (no perf pass
# or wrk of its own) with 3 repetitions of the given length (default 1 s), sampling the whole
# process at 4 kHz, then keeps only the samples of the server thread ("http-server").
set -eu
server=${1:?usage: profile.sh SERVER SCENARIO [SECONDS]}
scenario=${2:?usage: profile.sh SERVER SCENARIO [SECONDS]}
secs=${3:-1}
command -v perf >/dev/null || { echo "perf is missing: apt-get install -y linux-perf" >&2; exit 2; }

cargo bench --bench http --no-run 2>/dev/null
bench=$(ls -t target/release/deps/http-* | grep -v '\.d$' | head -n 1)
data=$(mktemp /tmp/http-profile.XXXXXX)
trap 'rm -f "$data"' EXIT

BENCH_CONTENDERS="$server" BENCH_REPS=3 HTTP_SECS="$secs" \
  perf record -q -e cpu-clock -F 4000 -o "$data" -- "$bench" --quick "$scenario" >/dev/null
report=$(perf report -i "$data" --comm http-server --sort sym --stdio --percentage relative \
  2>/dev/null | grep -v '^#' | grep -v '^$')

echo "server thread of \"$server\", $scenario: share of its samples by kind of work"
echo "$report" | awk '
  { pct = $1 + 0; space = $2; sym = $0; sub(/^[^]]*\] /, "", sym) }
  space == "[.]" && sym ~ /^(<)?runtime::/                               { if (k == "") k = "user: runtime (executor, driver, poll layer)" }
  space == "[.]" && sym ~ /hyper|httparse|http::|http_body|bytes::|BoxBody/ { if (k == "") k = "user: hyper and the http crates" }
  space == "[.]" && sym ~ /tokio/                                          { if (k == "") k = "user: tokio" }
  space == "[.]" && sym ~ /malloc|free|realloc|_int_|tcache/               { if (k == "") k = "user: allocator" }
  space == "[.]" && sym ~ /memmove|memcpy|memset|memcmp/                   { if (k == "") k = "user: memcpy/memset" }
  space == "[.]" && sym ~ /asynccancel|__libc_(send|recv|read|write)|^(send|recv)/ { if (k == "") k = "user: libc syscall wrappers" }
  space == "[.]" && sym ~ /clock_gettime|Instant/                          { if (k == "") k = "user: reading the clock" }
  space == "[k]" && sym ~ /^(sock_poll|tcp_poll|tcp_stream_is_readable|vfs_poll)$/ { if (k == "") k = "kernel: socket readiness checks" }
  space == "[k]" && sym ~ /irqrestore|irq_enable/                          { if (k == "") k = "kernel: end of irq-off sections (wake-ups, softirqs)" }
  space == "[k]" && sym ~ /io_uring|^io_|__io_/                            { if (k == "") k = "kernel: io_uring" }
  space == "[k]" && sym ~ /^ep_|epoll/                                     { if (k == "") k = "kernel: epoll" }
  space == "[k]" && sym ~ /syscall|entry_SYSCALL|fdget|fput/               { if (k == "") k = "kernel: syscall entry, exit, fd lookup" }
  space == "[k]" && sym ~ /schedule|wake|switch|futex|idle|hrtimer/        { if (k == "") k = "kernel: scheduler, wake-ups, timers" }
  space == "[k]" && sym ~ /tcp|skb|sock|ip_|net|dev_|bbr|inet|_iter|copy_|loopback/ { if (k == "") k = "kernel: TCP/IP loopback and copies" }
  { if (k == "") k = (space == "[k]" ? "kernel: other" : "user: other"); share[k] += pct; k = "" }
  END { for (k in share) printf "%6.1f%%  %s\n", share[k], k }' | sort -t% -k2 | sort -rn
echo
echo "hottest symbols ([k] kernel, [.] user)"
echo "$report" | head -n 30
