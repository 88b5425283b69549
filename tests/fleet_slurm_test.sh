#!/bin/bash
# fleet_slurm_test.sh SDMARK REPO — scripts/run-fleet.sbatch on a real one-node Slurm started on
# localhost (munged + slurmctld + slurmd from Debian's munge, slurmctld, slurmd, slurm-client), all
# state in a temp folder and on free ports. Checks: a 2-task cpu array collects every file under the
# job id, writes MANIFEST and the report; a second job into the same fleet folder stays apart and
# keeps its completed rows through scancel; a task without rows fails the job. With
# SDMARK_SLURM_TIMELIMIT_TEST=1 also through a time limit (about 2 minutes more).
# Exit 77 (CTest SKIP_RETURN_CODE) with the reason when the packages or root are missing.
set -euo pipefail
SDMARK=$(realpath "$1")
REPO=$(realpath "$2")
skip() { echo "SKIP: $*" >&2; exit 77; }
fail() { echo "FAIL: $*" >&2; exit 1; }

for c in munged slurmctld slurmd sbatch squeue scancel flock; do
    command -v "$c" >/dev/null || PATH=$PATH:/usr/sbin command -v "$c" >/dev/null ||
        skip "no $c (Debian packages munge slurmctld slurmd slurm-client; scripts/install-deps.sh)"
done
export PATH=$PATH:/usr/sbin
[ "$(id -u)" -eq 0 ] || skip "slurmd must run as root to start jobs; run this test as root"

T=$(mktemp -d /tmp/sdmark-slurm-XXXXXX)
cleanup() {
    local p
    for p in "$T"/slurmd.pid "$T"/slurmctld.pid "$T"/munged.pid; do
        if [ -s "$p" ]; then kill "$(cat "$p")" 2>/dev/null || true; fi
    done
    sleep 1
    [ -n "${KEEP:-}" ] || rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 1' TERM INT # a ctest timeout still stops the daemons (through the EXIT trap)

# --- munge: own key and socket ---
dd if=/dev/urandom of="$T/munge.key" bs=1024 count=1 status=none
chmod 400 "$T/munge.key"
munged --force --key-file="$T/munge.key" --socket="$T/munge.sock" --pid-file="$T/munged.pid" \
    --log-file="$T/munged.log" --seed-file="$T/munged.seed" || fail "munged did not start"

# --- slurm.conf: one node, this host, free ports ---
HOST=$(hostname -s)
base=$((20000 + RANDOM % 20000))
cpus=$(nproc)
cat > "$T/slurm.conf" <<EOF
ClusterName=sdmarktest
SlurmctldHost=$HOST(127.0.0.1)
SlurmctldPort=$base
SlurmdPort=$((base + 1))
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$T/munge.sock
CredType=cred/munge
StateSaveLocation=$T/state
SlurmdSpoolDir=$T/spool
SlurmctldPidFile=$T/slurmctld.pid
SlurmdPidFile=$T/slurmd.pid
SlurmctldLogFile=$T/slurmctld.log
SlurmdLogFile=$T/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
MpiDefault=none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
KillWait=10
SchedulerParameters=sched_interval=1
NodeName=$HOST NodeAddr=127.0.0.1 CPUs=$cpus State=UNKNOWN
PartitionName=test Nodes=$HOST Default=YES MaxTime=INFINITE State=UP
EOF
mkdir -p "$T/state" "$T/spool"
export SLURM_CONF=$T/slurm.conf
slurmctld -i || fail "slurmctld did not start: $(tail -5 "$T/slurmctld.log")"
slurmd || fail "slurmd did not start: $(tail -5 "$T/slurmd.log")"
for _ in $(seq 60); do
    sinfo -h -o %t 2>/dev/null | grep -qE '^idle' && break
    sleep 0.5
done
sinfo -h -o %t | grep -qE '^idle' || fail "node never idle: $(sinfo 2>&1; tail -5 "$T/slurmd.log")"
echo "slurm up on $HOST:$base with $cpus cpus" >&2

# --- job 1: two cpu tasks, tiny suite, through collection and report ---
export SDMARK SDMARK_BACKEND=cpu SDMARK_SUITES=$REPO/tests/data/tiny.suite SDMARK_FLEET_DIR=$T/fleet
export SDMARK_RUN_ARGS="--min-time 0.02 --min-samples 3 --warmup-ms 5 --no-tune"
submit() { sbatch --parsable --chdir="$REPO" --gpus-per-task=0 --cpus-per-task=1 --time=5 \
    --output="$T/log-%A_%a.txt" "$@" "$REPO/scripts/run-fleet.sbatch"; }
rc=0
job1=$(submit --wait --array=0-1) || rc=$?
J1=$T/fleet/job-$job1
[ "$rc" -eq 0 ] || fail "job $job1 exited $rc: $(cat "$T"/log-"$job1"_*.txt)"
[ "$(grep -c "^job=$job1 task=" "$J1/MANIFEST")" -eq 2 ] || fail "MANIFEST: $(cat "$J1/MANIFEST")"
for t in 0 1; do
    ls "$J1/$HOST-j$job1-t$t-"cpu-*.csv >/dev/null || fail "no csv of task $t in $J1: $(ls "$J1")"
done
[ ! -e "$J1/$HOST-j$job1-t0" ] || fail "task subfolder left behind"
# every result file carries the job id
for f in "$J1"/*.csv "$J1"/*.json; do
    case ${f##*/} in *-j"$job1"-t*) ;; *) fail "file without the job id: $f" ;; esac
done
grep -q "<html" "$J1/report-j$job1.html" || fail "no report"
[ -s "$J1/claims-j$job1.txt" ] || fail "no claims"
"$SDMARK" report "$J1" -o "$T/again.html" || fail "sdmark report on the job folder"
grep -q "$HOST" "$T/again.html" || fail "report does not name the host"
echo "job $job1: $(wc -l < "$J1/MANIFEST") tasks, $(find "$J1" -type f | wc -l) files" >&2

# --- job 2: same fleet folder, scancel once the first rows are on disk ---
# rows that take a known time: shapes big enough that the 10000-sample cap never ends a row before
# --min-time, and --max-noise 0 so that low noise does not either
cat > "$T/slow.suite" <<EOF2
gemm  s1  1  m=384 n=384 k=384
gemm  s2  1  m=384 n=384 k=385
gemm  s3  1  m=384 n=384 k=386
gemm  s4  1  m=384 n=384 k=387
EOF2
export SDMARK_SUITES=$T/slow.suite SDMARK_RUN_ARGS="--max-noise 0 --min-time 3 --no-tune" # 3 s a row
job2=$(submit --array=0)
J2=$T/fleet/job-$job2
for _ in $(seq 120); do
    ls "$J2/$HOST-j$job2-t0/"*.csv >/dev/null 2>&1 && break
    sleep 0.5
done
ls "$J2/$HOST-j$job2-t0/"*.csv >/dev/null 2>&1 || fail "job $job2 wrote no row in 60 s"
scancel "$job2"
for _ in $(seq 60); do
    [ -z "$(squeue -h -j "$job2" 2>/dev/null)" ] && break
    sleep 0.5
done
grep -q "^job=$job2 task=0 .* rc=130 " "$J2/MANIFEST" || fail "no interrupted MANIFEST line: $(cat "$J2/MANIFEST" 2>&1)"
rows=$(sed -n 's/.* rows=\([0-9]*\) .*/\1/p' "$J2/MANIFEST")
{ [ "$rows" -ge 1 ] && [ "$rows" -lt 4 ]; } || fail "cancelled task kept $rows rows (want 1..3)"
[ "$(tail -n +2 "$J2/$HOST-j$job2-t0-"cpu-*.csv | wc -l)" -eq "$rows" ] || fail "rows on disk != MANIFEST"
[ -s "$J2/report-j$job2.html" ] || fail "no report after scancel"
[ "$(grep -c . "$J1/MANIFEST")" -eq 2 ] || fail "job 2 touched job 1's MANIFEST"
echo "job $job2: cancelled with $rows rows kept" >&2

# --- optional (about 2 minutes, so not by default): the same through the time limit ---
if [ -n "${SDMARK_SLURM_TIMELIMIT_TEST:-}" ]; then
    export SDMARK_RUN_ARGS="--max-noise 0 --min-time 40 --timeout 40 --no-tune" # 40 s a row
    rc=0
    jobt=$(submit --wait --array=0 --time=1) || rc=$?
    JT=$T/fleet/job-$jobt
    grep -q "^job=$jobt task=0 .* rc=130 " "$JT/MANIFEST" || fail "time limit: MANIFEST: $(cat "$JT/MANIFEST" 2>&1)"
    rows=$(sed -n 's/.* rows=\([0-9]*\) .*/\1/p' "$JT/MANIFEST")
    [ "$rows" -ge 1 ] || fail "time limit: no rows kept"
    [ -s "$JT/report-j$jobt.html" ] || fail "time limit: no report"
    echo "job $jobt: stopped by its time limit with $rows rows kept (sbatch --wait exited $rc)" >&2
fi

# --- job 3: a suite that does not exist — no rows, so the task fails ---
export SDMARK_SUITES=no-such-suite SDMARK_RUN_ARGS=
rc=0
job3=$(submit --wait --array=0) || rc=$?
[ "$rc" -ne 0 ] || fail "job $job3 without rows exited 0"
grep -q "^job=$job3 task=0 .* rows=0 " "$T/fleet/job-$job3/MANIFEST" || fail "no MANIFEST line for job 3"
[ ! -e "$T/fleet/job-$job3/report-j$job3.html" ] || fail "a report of a job without rows"
echo "job $job3: no rows, sbatch --wait exited $rc" >&2
echo "PASS" >&2
