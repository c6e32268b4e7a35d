#!/usr/bin/env bash
# Run a file of training/benchmark jobs on one GPU machine, several at once (windows are
# cut on the CPU: one core per job), with the bundle of benchmarks/device_bundle.py.
#
#   benchmarks/device_jobs.sh BUNDLE OUT JOBS_FILE [PARALLEL] [DEADLINE_S]
#
# Each non-comment line of JOBS_FILE is what follows `device_bundle.py run BUNDLE`; in it
# @RESULTS becomes a results file of that job and @OUT the folder OUT. On exit OUT holds
# results.jsonl (every job's rows) and logs.txt (the end of every job's log). Jobs not
# started, or still running, DEADLINE_S seconds after the start are not run or are
# stopped (logs.txt says which), so that what finished comes back.
# GPU runs are not bit-reproducible (scatter-add backward kernels), unlike CPU runs.
set -u
bundle=$1
out=$2
jobs_file=$3
parallel=${4:-15}
deadline=${5:-480}
work=$(mktemp -d)
export HF_HUB_OFFLINE=1 PYTHONUNBUFFERED=1 OMP_NUM_THREADS=1

n=0
while read -r line; do
    [[ -z "$line" || "$line" == \#* ]] && continue
    n=$((n + 1))
    while [ "$(jobs -r | wc -l)" -ge "$parallel" ] && [ "$SECONDS" -lt "$deadline" ]; do
        sleep 1
    done
    if [ "$SECONDS" -ge "$deadline" ]; then
        echo "not started (deadline): job $n: $line" >>"$work/deadline.log"
        continue
    fi
    line=${line//@RESULTS/$work/$n.jsonl}
    line=${line//@OUT/$out}
    # shellcheck disable=SC2086  # a job line is a list of arguments
    python -m benchmarks.device_bundle run "$bundle" $line >"$work/job$n.log" 2>&1 &
done <"$jobs_file"
while [ -n "$(jobs -r)" ] && [ "$SECONDS" -lt "$deadline" ]; do
    sleep 2
done
for pid in $(jobs -pr); do
    echo "stopped at the ${deadline} s deadline: pid $pid" >>"$work/deadline.log"
    kill "$pid"
done
wait
cat "$work"/*.jsonl >"$out/results.jsonl" 2>/dev/null
tail -n 3 "$work"/*.log >"$out/logs.txt"
grep -h -B2 -A8 "Traceback" "$work"/job*.log | head -40
echo "$n jobs, ${SECONDS} s"
