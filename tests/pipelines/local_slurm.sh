#!/usr/bin/env bash
# A one-node SLURM (Debian's slurm-wlm: munged, slurmctld, slurmd) for the SLURM plan test, all
# state under one directory, started and stopped by the test. Needs root (slurmd) and the
# packages tools/setup.sh installs.
#   source tests/pipelines/local_slurm.sh; local_slurm_start DIR; ...; local_slurm_stop DIR
# local_slurm_start exports SLURM_CONF, so sbatch / squeue / scontrol talk to this cluster.

local_slurm_start() {
  local dir="$1" host cpus mem
  host=$(hostname -s)
  cpus=$(nproc)
  mem=$(( $(awk '/MemTotal/ {print $2}' /proc/meminfo) / 1024 - 1024 ))
  mkdir -p "$dir"/{state,spool,munge,log}
  chmod 700 "$dir/munge"
  # munged refuses a key readable by others; a throwaway key for this cluster only.
  dd if=/dev/urandom of="$dir/munge/munge.key" bs=1024 count=1 status=none
  chmod 400 "$dir/munge/munge.key"
  cat >"$dir/slurm.conf" <<CONF
ClusterName=mochi-test
SlurmctldHost=$host
SlurmUser=root
SlurmctldPort=${MOCHI_SLURMCTLD_PORT:-16817}
SlurmdPort=${MOCHI_SLURMD_PORT:-16818}
AuthType=auth/munge
AuthInfo=socket=$dir/munge/munge.socket
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/backfill
ReturnToService=2
JobRequeue=1
KillWait=30
MpiDefault=none
NodeName=$host CPUs=$cpus RealMemory=$mem State=UNKNOWN
PartitionName=test Nodes=$host Default=YES MaxTime=INFINITE State=UP
CONF
  export SLURM_CONF="$dir/slurm.conf"
  munged --key-file="$dir/munge/munge.key" --socket="$dir/munge/munge.socket" \
    --pid-file="$dir/munge/munged.pid" --log-file="$dir/log/munged.log" \
    --seed-file="$dir/munge/seed" --force || return 1
  slurmctld -f "$SLURM_CONF" || return 1
  slurmd -f "$SLURM_CONF" || return 1
  local i
  for i in $(seq 60); do
    sinfo -h -o '%t' 2>/dev/null | grep -qE '^(idle|mix|alloc)' && return 0
    sleep 1
  done
  echo "local SLURM did not come up; logs in $dir/log" >&2
  tail -n 20 "$dir"/log/*.log >&2
  return 1
}

local_slurm_stop() {
  local dir="$1" f p _
  # Cancel what is still queued or running, so no step outlives the daemons.
  if [ -f "$dir/slurm.conf" ] && [ -f "$dir/slurmctld.pid" ]; then
    SLURM_CONF="$dir/slurm.conf" scancel --user="$(id -un)" 2>/dev/null
    for _ in $(seq 40); do
      [ -z "$(SLURM_CONF="$dir/slurm.conf" squeue -h 2>/dev/null)" ] && break
      sleep 1
    done
  fi
  for f in slurmd.pid slurmctld.pid munge/munged.pid; do
    [ -f "$dir/$f" ] && kill "$(cat "$dir/$f")" 2>/dev/null
  done
  sleep 1
  for f in slurmd.pid slurmctld.pid munge/munged.pid; do
    [ -f "$dir/$f" ] && kill -9 "$(cat "$dir/$f")" 2>/dev/null
  done
  # Step daemons of this cluster that outlived it (they run in its log directory), and their jobs.
  for p in $(pgrep slurmstepd); do
    [ "$(readlink "/proc/$p/cwd" 2>/dev/null)" = "$dir/log" ] && kill -9 "$p" 2>/dev/null
  done
  pkill -9 -f "$dir/" 2>/dev/null
  return 0
}
