#!/usr/bin/env bash
# The workflow on a real single-node SLURM cluster, through the profile of docs/cluster.md
# (workflow/profiles/slurm) and the executor plugin: its tables must equal a local run's, byte for byte.
# Run as root on Debian 12 (CI: `.ci/run` with CI=true, or `make cluster-test`). It installs
# munge, slurmctld, slurmd and slurm-client from Debian if missing, runs the daemons from a
# temporary folder (own ports, munge key and socket; /etc/munge is not touched) and stops them,
# by PID, on exit. Its slurm.conf must sit at /etc/slurm/slurm.conf (the executor plugin's job step
# drops SLURM_CONF from the environment of the job's srun): it refuses to overwrite one it did not
# write, and removes it on exit. By default no accounting (slurmdbd): the profile's squeue status
# command is what lets the run finish at all. ACCOUNTING=1 adds slurmdbd and a throwaway MariaDB
# (own folder and port) and checks that sacct lists every job as completed: the same command works
# on a cluster with accounting.
#   usage: [ACCOUNTING=1] tests/cluster/slurm.sh [PYTHON_BIN_DIR]   (default .venv/bin, with requirements-slurm.lock)
set -euo pipefail
cd "$(dirname "$0")/../.."
BIN=$(cd "${1:-.venv/bin}" && pwd)
[ "$(id -u)" = 0 ] || { echo "cluster test: needs root (it installs and starts munge and SLURM)" >&2; exit 1; }
ACCOUNTING=${ACCOUNTING:-0}
CONF=/etc/slurm/slurm.conf
DBD_CONF=/etc/slurm/slurmdbd.conf
MARK="# written by premeta's tests/cluster/slurm.sh, removed when it ends"
for f in "$CONF" "$DBD_CONF"; do
  if [ -e "$f" ] && ! grep -qxF "$MARK" "$f"; then
    echo "cluster test: $f exists (a SLURM cluster of this machine?); not touching it" >&2; exit 1
  fi
done
START=$(date +%s)
T=$(mktemp -d /tmp/premeta-slurm.XXXXXX)
chmod 755 "$T"
PIDS="$T/run"

stop() {  # the daemons this script started, newest first, by PID file; then the folder
  local rc=$? f p
  set +e
  [ -n "${LOCAL_PID:-}" ] && kill "$LOCAL_PID" 2>/dev/null  # timeout: signals its whole process group
  [ -s "$PIDS/slurmctld.pid" ] && timeout -k 2 10 scancel --user root 2>/dev/null  # this cluster's jobs
  for f in "$PIDS/slurmd.pid" "$PIDS/slurmctld.pid" "$PIDS/slurmdbd.pid" "$T/db/mariadb.pid" "$T/munge/munged.pid"; do
    [ -s "$f" ] || continue
    p=$(cat "$f")
    kill "$p" 2>/dev/null || continue
    for _ in $(seq 40); do kill -0 "$p" 2>/dev/null || break; sleep 0.25; done
    kill -9 "$p" 2>/dev/null || true
  done
  for f in "$CONF" "$DBD_CONF"; do grep -qxF "$MARK" "$f" 2>/dev/null && rm -f "$f"; done
  if [ "$rc" != 0 ]; then
    for f in "$T"/log/*.log "$T"/slurm/.snakemake/slurm_logs/*/*.log "$T"/run.log; do
      [ -f "$f" ] && { echo "--- $f"; tail -n 40 "$f"; }
    done >&2
  fi
  rm -rf "$T"
  exit "$rc"
}
trap stop EXIT
trap 'exit 130' INT TERM

# --- packages -------------------------------------------------------------------------------
PKGS="slurmctld slurmd slurm-client munge"
[ "$ACCOUNTING" = 1 ] && PKGS="$PKGS slurmdbd mariadb-server"
if ! dpkg -s $PKGS >/dev/null 2>&1; then
  export DEBIAN_FRONTEND=noninteractive
  timeout -k 10 300 apt-get install -y -qq --no-install-recommends $PKGS >/dev/null 2>&1 || {
    timeout -k 10 300 apt-get update -qq
    timeout -k 10 300 apt-get install -y -qq --no-install-recommends $PKGS >/dev/null; }
fi

# --- munge, on its own socket and key -------------------------------------------------------
install -d -o munge -g munge -m 0755 "$T/munge"
runuser -u munge -- mungekey --create --keyfile="$T/munge/munge.key"
SOCKET="$T/munge/munge.socket"
runuser -u munge -- timeout -k 5 30 munged --socket="$SOCKET" --key-file="$T/munge/munge.key" \
  --pid-file="$T/munge/munged.pid" --log-file="$T/munge/munged.log" --seed-file="$T/munge/seed"
timeout -k 5 30 munge -S "$SOCKET" -n | timeout -k 5 30 unmunge -S "$SOCKET" >/dev/null

# --- /etc/slurm/slurm.conf --------------------------------------------------------------------
install -d "$T/state" "$T/spool" "$T/log" "$PIDS"
ACCT="AccountingStorageType=accounting_storage/none"
if [ "$ACCOUNTING" = 1 ]; then  # slurmdbd on its own port, its database in a MariaDB of this folder
  ACCT="AccountingStorageType=accounting_storage/slurmdbd
AccountingStorageHost=localhost
AccountingStoragePort=16819
AccountingStoragePass=$SOCKET"  # with slurmdbd, the munge socket of its connections (not AuthInfo's)
  install -d -o mysql -g mysql "$T/db"
  timeout -k 5 120 mariadb-install-db --no-defaults --datadir="$T/db/data" --user=mysql --skip-test-db >/dev/null
  # no grant tables: a database of this test only, reachable on 127.0.0.1 from this machine only
  runuser -u mysql -- timeout -k 5 600 mariadbd --no-defaults --datadir="$T/db/data" --socket="$T/db/socket" \
    --pid-file="$T/db/mariadb.pid" --port=16306 --bind-address=127.0.0.1 --skip-grant-tables \
    >"$T/log/mariadb.log" 2>&1 &
  for _ in $(seq 60); do [ -S "$T/db/socket" ] && break; sleep 0.5; done
  cat > "$DBD_CONF" <<DBD
$MARK
AuthType=auth/munge
AuthInfo=socket=$SOCKET
DbdHost=localhost
DbdPort=16819
SlurmUser=root
StorageType=accounting_storage/mysql
StorageHost=127.0.0.1
StoragePort=16306
StorageUser=root
StorageLoc=premeta_ci_acct
LogFile=$T/log/slurmdbd.log
PidFile=$PIDS/slurmdbd.pid
DBD
  chmod 600 "$DBD_CONF"
fi
MEM=$(( $(free -m | awk '/^Mem:/{print $2}') - 1024 ))
install -d /etc/slurm
cat > "$CONF" <<CONF
$MARK
ClusterName=premeta-ci
SlurmctldHost=localhost
SlurmctldPort=16817
SlurmdPort=16818
SlurmUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$SOCKET
MpiDefault=none
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
ReturnToService=2
SlurmctldPidFile=$PIDS/slurmctld.pid
SlurmdPidFile=$PIDS/slurmd.pid
StateSaveLocation=$T/state
SlurmdSpoolDir=$T/spool
SlurmctldLogFile=$T/log/slurmctld.log
SlurmdLogFile=$T/log/slurmd.log
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
$ACCT
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none
InactiveLimit=0
MinJobAge=300
KillWait=5
Waittime=0
NodeName=localhost CPUs=$(nproc) RealMemory=$MEM State=UNKNOWN
PartitionName=debug Nodes=localhost Default=YES MaxTime=INFINITE State=UP
CONF
if [ "$ACCOUNTING" = 1 ]; then
  timeout -k 5 30 slurmdbd
  for _ in $(seq 60); do timeout -k 2 5 sacctmgr -n show cluster >/dev/null 2>&1 && break; sleep 0.5; done
  timeout -k 2 10 sacctmgr -i add cluster premeta-ci >/dev/null
fi
timeout -k 5 30 slurmctld
timeout -k 5 30 slurmd -N localhost
for _ in $(seq 60); do timeout -k 2 5 sinfo -h -o %T 2>/dev/null | grep -qx idle && break; sleep 0.5; done
timeout -k 2 5 sinfo -h -o %T | grep -qx idle || { echo "cluster test: the SLURM node never came up" >&2; exit 1; }
UP=$(date +%s)

# --- the workflow, on the cluster and (alongside, to save time) locally ------------------------
export PATH="$BIN:$PATH"
# the default analyses and the multiverse, whose specifications are scattered into chunk jobs
ANALYSES='analyses=[dependence,moderators,risk_of_bias,time_course,small_study,sensitivity,multiverse]'
timeout -k 10 600 bash -c 'snakemake --cores 2 --quiet all --config workdir="$1/local" "$2" && date +%s > "$1/local.end"' \
  _ "$T" "$ANALYSES" >"$T/local.log" 2>&1 &
LOCAL_PID=$!
# docs/cluster.md's command; the first status check comes after 1 s instead of 40 (CI only). A relative
# workdir: the jobs must resolve it from where the run started, as the local run does.
timeout -k 30 600 snakemake --workflow-profile workflow/profiles/slurm \
  --config workdir="$(realpath --relative-to=. "$T/slurm")" "$ANALYSES" \
  --slurm-init-seconds-before-status-checks 1 >"$T/run.log" 2>&1
END=$(date +%s)
wait "$LOCAL_PID" || { cat "$T/local.log" >&2; exit 1; }
LOCAL_PID=

# --- checks ----------------------------------------------------------------------------------
jobs=$(timeout -k 2 10 squeue --states=all --noheader --format='%i %T')
echo "$jobs" | awk '$2 != "COMPLETED" {bad=1} END {exit bad}' \
  || { echo "cluster test: a SLURM job did not complete:" >&2; echo "$jobs" >&2; exit 1; }
submitted=$(grep -c "has been submitted with SLURM jobid" "$T/run.log" || true)
if [ "$ACCOUNTING" = 1 ]; then  # the accounting database saw every job finish
  acct=$(timeout -k 2 10 sacct --noheader --allocations --parsable2 --format=JobID,State)
  [ "$(echo "$acct" | grep -c '|COMPLETED$')" = "$submitted" ] \
    || { echo "cluster test: sacct lists: $acct" >&2; exit 1; }
  echo "cluster test: with accounting (slurmdbd): sacct lists all $submitted jobs COMPLETED"
fi
[ "$submitted" -gt 0 ] && [ "$submitted" = "$(echo "$jobs" | grep -c .)" ] \
  || { echo "cluster test: $submitted jobs submitted, squeue lists: $jobs" >&2; exit 1; }
(cd "$T/local/results" && ls *.csv) > "$T/local.csv"
(cd "$T/slurm/results" && ls *.csv) > "$T/slurm.csv"
cmp -s "$T/local.csv" "$T/slurm.csv" || { diff "$T/local.csv" "$T/slurm.csv" >&2; exit 1; }
while read -r f; do cmp "$T/local/results/$f" "$T/slurm/results/$f"; done < "$T/local.csv"
[ -s "$T/slurm/results/report.html" ] || { echo "cluster test: no report" >&2; exit 1; }
grep -q 'slurm_logs/rule_multiverse_chunk' "$T/run.log" \
  || { echo "cluster test: the multiverse chunks did not run as SLURM jobs" >&2; exit 1; }
grep -o 'slurm_logs/rule_[a-z_]*' "$T/run.log" | sed 's|slurm_logs/rule_||' | sort | uniq -c \
  | awk '{printf "%s%s", sep, $2 ($1 > 1 ? " x" $1 : ""); sep=", "}' > "$T/rules"
echo "cluster test: $submitted SLURM jobs ($(cat "$T/rules")), all COMPLETED;" \
  "the run's local rules: $(grep -o '^localrule [a-z_]*' "$T/run.log" | cut -d' ' -f2 | sort | paste -sd, -)"
echo "cluster test: $(wc -l < "$T/local.csv") result tables (results/*.csv) byte-identical to a local run"
echo "cluster test: SLURM up in $((UP - START)) s; cluster run $((END - UP)) s," \
  "local run alongside $(( $(cat "$T/local.end") - UP)) s; total $(( $(date +%s) - START)) s"
