# Sourced by scripts/bench: starting, watching and stopping the servers it measures.
# Expects: $work (temp dir), $bin_dir (release binaries), $certs (dir with server.pem/.key/dev-ca.pem).
# Every process started here is recorded in started_pids and stopped by stop_everything; nginx
# workers go to child_pids instead (a worker that got TERM before its master would be replaced).

started_pids=()
child_pids=()
client_pid=""

die() {
    echo "bench: $*" >&2
    exit 1
}

# Prints a free TCP port on 127.0.0.1 (bound and released at once; good enough on a quiet machine).
free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# show_log FILE: the last lines of a server's log, for a failure message.
show_log() {
    echo "---- last lines of $1 ----" >&2
    tail -n 30 "$1" >&2 || true
    echo "----" >&2
}

# wait_until NAME PID LOG TIMEOUT COMMAND...: polls COMMAND every 0.1 s until it succeeds; fails
# loudly when PID exits first or TIMEOUT seconds pass.
wait_until() {
    local name=$1 pid=$2 log=$3 timeout=$4
    shift 4
    local deadline=$((SECONDS + timeout))
    until "$@" >"$work/probe.out" 2>&1; do
        if ! kill -0 "$pid" 2>/dev/null; then
            show_log "$log"
            die "$name exited during start-up (see $log)"
        fi
        if ((SECONDS >= deadline)); then
            show_log "$log"
            echo "last probe: $* (secrets elided)" | sed -E 's/(X-API-Key: |TOKEN id=)[^ ]*/\1.../' >&2
            cat "$work/probe.out" >&2
            die "$name did not come up within ${timeout}s (see $log)"
        fi
        sleep 0.1
    done
}

# Fails loudly when a server died while being measured.
assert_alive() {
    local name=$1 pid=$2 log=$3
    if ! kill -0 "$pid" 2>/dev/null; then
        show_log "$log"
        die "$name (pid $pid) is no longer running (see $log)"
    fi
}

# run_waited OUT ERR COMMAND...: runs a client (wrk, the idle-connection holder) in the background,
# stdout to OUT and stderr to ERR (may be the same file), and waits for it, so that a signal
# reaches the script's trap at once and stop_everything can end the client. Returns its status.
run_waited() {
    local out=$1 err=$2 status=0
    shift 2
    if [[ $err == "$out" ]]; then "$@" >"$out" 2>&1 & else "$@" >"$out" 2>"$err" & fi
    client_pid=$!
    wait "$client_pid" || status=$?
    client_pid=""
    return "$status"
}

# Fails loudly when any server started here died.
assert_all_alive() {
    local pid
    for pid in "${started_pids[@]}" "${child_pids[@]}"; do
        kill -0 "$pid" 2>/dev/null || die "process $pid ($(server_name "$pid")) is no longer running; logs in $work"
    done
}

server_name() {
    case $1 in
        "${sim_pid-}") echo legacy-topdesk ;;
        "${tb_pid-}") echo tokenbridge ;;
        *) echo nginx ;;
    esac
}

# stop_everything: stops every recorded process, newest first (so TokenBridge can still log its
# tokens out upstream): TERM, then KILL after 5 s; then KILL to any recorded child still there.
# Idempotent.
stop_everything() {
    local pid i deadline
    if [[ -n ${client_pid-} ]]; then kill -TERM "$client_pid" 2>/dev/null || true; fi
    if [[ -n ${perf_pid-} ]]; then kill -INT "$perf_pid" 2>/dev/null || true; fi
    for ((i = ${#started_pids[@]} - 1; i >= 0; i--)); do
        pid=${started_pids[i]}
        kill -TERM "$pid" 2>/dev/null || continue
        deadline=$((SECONDS + 5))
        while kill -0 "$pid" 2>/dev/null && ((SECONDS < deadline)); do sleep 0.05; done
        kill -KILL "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    for pid in "${child_pids[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done
    started_pids=() child_pids=()
}

# cpu_seconds PID...: user + system CPU time consumed so far, summed over the processes
# (fields 14 and 15 of /proc/PID/stat, after the parenthesised command name).
cpu_seconds() {
    local ticks=0 pid stat fields
    for pid in "$@"; do
        stat=$(<"/proc/$pid/stat")
        read -ra fields <<<"${stat##*) }"
        ticks=$((ticks + fields[11] + fields[12]))
    done
    awk -v t="$ticks" -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%.3f\n", t / hz }'
}

# status_kb FIELD PID...: a /proc/PID/status field (VmHWM, VmRSS) in KiB, summed over the processes.
status_kb() {
    local field=$1
    shift
    local pid total=0 value
    for pid in "$@"; do
        value=$(awk -v f="$field:" '$1 == f { print $2 }' "/proc/$pid/status")
        total=$((total + value))
    done
    echo "$total"
}

# ---- legacy-topdesk ---------------------------------------------------------------------------

# start_simulator: sets sim_pid, sim_port, sim_control.
start_simulator() {
    local log=$work/legacy-topdesk.log
    "$bin_dir/legacy-topdesk" --listen 127.0.0.1:0 --control 127.0.0.1:0 --token-ttl 24h --quiet \
        --port-file "$work/simulator.ports" >"$log" 2>&1 &
    sim_pid=$!
    started_pids+=("$sim_pid")
    wait_until legacy-topdesk "$sim_pid" "$log" 15 test -s "$work/simulator.ports"
    local ports
    ports=$(<"$work/simulator.ports")
    sim_port=${ports#*api=127.0.0.1:}
    sim_port=${sim_port%% *}
    sim_control=${ports#*control=}
    wait_until legacy-topdesk "$sim_pid" "$log" 10 curl -fsS "http://$sim_control/stats"
    echo "legacy-topdesk pid $sim_pid on 127.0.0.1:$sim_port (control $sim_control)" >&2
}

# login_token: a session token for the benchmark account, logged in the deprecated way.
login_token() {
    local token
    token=$(curl -fsS -u "$bench_login:$bench_password" "http://127.0.0.1:$sim_port/tas/api/login/operator") ||
        die "login to legacy-topdesk as $bench_login failed"
    [[ $token =~ ^[[:graph:]]+$ ]] || die "legacy-topdesk answered the login with something that is not a token"
    echo "$token"
}

# ---- nginx ------------------------------------------------------------------------------------

# start_nginx TOKEN: nginx in its own prefix under $work, two workers, TLS, upstream keep-alive, the
# token set as a static header. Sets nginx_pid (master), nginx_workers, nginx_port.
start_nginx() {
    local token=$1 dir=$work/nginx user_line=""
    nginx_port=$(free_port)
    mkdir -p "$dir/logs" "$dir/temp"
    # As root, nginx would hand its workers to "nobody"; keep them with the current user.
    if [[ $(id -u) -eq 0 ]]; then user_line="user $(id -un) $(id -gn);"; fi
    cat >"$dir/nginx.conf" <<CONF
$user_line
worker_processes 2;
worker_rlimit_nofile 20000;
pid $dir/nginx.pid;
error_log $dir/logs/error.log warn;
events { worker_connections 10000; }
http {
    access_log $dir/logs/access.log;
    client_body_temp_path $dir/temp/body;
    proxy_temp_path $dir/temp/proxy;
    fastcgi_temp_path $dir/temp/fastcgi;
    uwsgi_temp_path $dir/temp/uwsgi;
    scgi_temp_path $dir/temp/scgi;
    upstream legacy {
        server 127.0.0.1:$sim_port;
        keepalive 64;
    }
    server {
        listen 127.0.0.1:$nginx_port ssl reuseport;
        ssl_certificate $certs/server.pem;
        ssl_certificate_key $certs/server.key;
        ssl_protocols TLSv1.2 TLSv1.3;
        keepalive_timeout 300s;
        keepalive_requests 100000000;
        location / {
            proxy_pass http://legacy;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Authorization 'TOKEN id="$token"';
        }
    }
}
CONF
    nginx -t -q -p "$dir" -e "$dir/logs/error.log" -c "$dir/nginx.conf" 2>"$dir/logs/test.log" ||
        { cat "$dir/logs/test.log" >&2; die "nginx rejected its configuration $dir/nginx.conf"; }
    nginx -p "$dir" -e "$dir/logs/error.log" -c "$dir/nginx.conf" -g 'daemon off;' >"$dir/logs/stdout.log" 2>&1 &
    nginx_pid=$!
    started_pids+=("$nginx_pid")
    wait_until nginx "$nginx_pid" "$dir/logs/error.log" 15 \
        curl -fsS --cacert "$certs/dev-ca.pem" "https://localhost:$nginx_port$bench_path" \
        --resolve "localhost:$nginx_port:127.0.0.1"
    mapfile -t nginx_workers < <(pgrep -P "$nginx_pid")
    ((${#nginx_workers[@]} == 2)) || die "nginx should run 2 workers, found ${#nginx_workers[@]}"
    child_pids+=("${nginx_workers[@]}")
    echo "nginx master pid $nginx_pid, workers ${nginx_workers[*]}, on 127.0.0.1:$nginx_port" >&2
}

# ---- TokenBridge ------------------------------------------------------------------------------

# start_tokenbridge: configuration, one API key, the gateway. Sets tb_pid, tb_port, tb_api_key.
start_tokenbridge() {
    local dir=$work/tokenbridge log=$work/tokenbridge/tokenbridge.log created
    mkdir -p "$dir"
    tb_port=$(free_port)
    cat >"$dir/config.json5" <<CONF
// Written by scripts/bench.
{
  listen: { address: "127.0.0.1", port: $tb_port,
            tls: { certificate: "$certs/server.pem", privateKey: "$certs/server.key" } },
  admin: { listen: "127.0.0.1:$(free_port)" },
  upstreams: [ { name: "legacy", url: "http://127.0.0.1:$sim_port" } ],
  accounts: [ { name: "bench", upstream: "legacy", kind: "operator", login: "$bench_login",
                password: { env: "BENCH_LEGACY_PASSWORD" } } ],
  credentials: { store: "$dir/credentials.sqlite" },
}
CONF
    export BENCH_LEGACY_PASSWORD=$bench_password
    created=$("$bin_dir/tokenbridge" credentials create --config "$dir/config.json5" --client bench \
        --account bench --api-key --json 2>"$dir/credentials.log") ||
        { cat "$dir/credentials.log" >&2; die "tokenbridge credentials create failed"; }
    tb_api_key=$(python3 -c 'import json, sys; print(json.load(sys.stdin)["secret"])' <<<"$created") ||
        die "tokenbridge credentials create printed no secret"
    "$bin_dir/tokenbridge" serve --config "$dir/config.json5" >"$log" 2>&1 &
    tb_pid=$!
    started_pids+=("$tb_pid")
    wait_until tokenbridge "$tb_pid" "$log" 20 \
        curl -fsS --cacert "$certs/dev-ca.pem" -H "X-API-Key: $tb_api_key" \
        "https://localhost:$tb_port$bench_path" --resolve "localhost:$tb_port:127.0.0.1"
    echo "tokenbridge pid $tb_pid ($(ls "/proc/$tb_pid/task" | wc -l) threads) on 127.0.0.1:$tb_port" >&2
}

# busy_seconds: CPU time all processes of the machine used so far, plus time the hypervisor stole
# (/proc/stat, first line: user nice system idle iowait irq softirq steal ...). Interrupt time is
# left out: loopback traffic of the servers measured lands there.
busy_seconds() {
    local label user nice system idle iowait irq softirq steal rest
    read -r label user nice system idle iowait irq softirq steal rest </proc/stat
    awk -v t="$((user + nice + system + steal))" -v hz="$(getconf CLK_TCK)" \
        'BEGIN { printf "%.3f\n", t / hz }'
}

# read_children_seconds: sets children_cpu to the user + system CPU of this shell's finished
# children so far (bash `times`, which must run in this shell: not in a pipeline or a $(...)).
read_children_seconds() {
    times >"$work/times.txt"
    children_cpu=$(awk 'NR == 2 {
        total = 0
        for (i = 1; i <= 2; i++) { split($i, p, "m"); sub("s", "", p[2]); total += p[1] * 60 + p[2] }
        printf "%.3f\n", total
    }' "$work/times.txt")
}

# ---- profiling --------------------------------------------------------------------------------

perf_pid=""

# start_perf PID FILE: samples PID's threads (cpu-clock: works where hardware counters do not) with
# call graphs into FILE until stop_perf.
start_perf() {
    perf record -q -e cpu-clock -F 1999 -g -p "$1" -o "$2" >"$work/perf.log" 2>&1 &
    perf_pid=$!
    sleep 0.3
}

# stop_perf: ends the recording and prints the functions with the most samples of their own.
stop_perf() {
    kill -INT "$perf_pid" 2>/dev/null || true
    wait "$perf_pid" 2>/dev/null || true
    perf_pid=""
    echo "  perf: top functions of tokenbridge (self time), from $perf_out" >&2
    perf report -i "$perf_out" --no-children --sort dso,symbol --stdio 2>/dev/null |
        grep -E '^ +[0-9]' | head -n 25 | cut -c1-160 >&2 || true
}
