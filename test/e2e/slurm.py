#!/usr/bin/env python3
"""Parity under SLURM's srun: a private one-node cluster, then parity.py.

Starts munged, slurmctld and slurmd (Debian's slurm-wlm and munge) with
their keys, sockets, ports, state and logs in a temporary directory (the
machine's own SLURM, if any, is not touched), waits until the node is idle,
then runs test/e2e/parity.py with `--launcher "srun -n N --overcommit
--mpi=pmix"` and SLURM_CONF pointing at the private cluster, so every
rank learns its rank and the job size from SLURM's PMIx. All arguments
after `--` go to parity.py. Exits 77 (ctest: skipped) when the SLURM or
munge daemons are not installed or this is not root (slurmd runs jobs as
their user and needs root to do so).

    slurm.py --ranks 4 -- --llmc ... --llm-run ... --model ... --llmc-arg=--tp=2
"""
import argparse
import os
import pathlib
import shutil
import socket
import subprocess
import sys
import tempfile
import time

SKIP = 77


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--ranks", type=int, required=True)
    ap.add_argument("--deadline", type=float, default=60)
    ap.add_argument("parity", nargs=argparse.REMAINDER)
    args = ap.parse_args()
    parity_args = args.parity[1:] if args.parity[:1] == ["--"] else args.parity
    tools = {t: shutil.which(t) or shutil.which(t, path="/usr/sbin:/sbin")
             for t in ("munged", "slurmctld", "slurmd", "srun", "sinfo")}
    missing = [t for t, p in tools.items() if not p]
    if missing:
        print(f"skipped: {', '.join(missing)} not installed "
              "(apt install slurmd slurmctld slurm-client munge)")
        sys.exit(SKIP)
    if os.geteuid() != 0:
        print("skipped: a private slurmd needs root")
        sys.exit(SKIP)

    tmp = pathlib.Path(tempfile.mkdtemp(prefix="llmc-slurm-"))
    procs = []
    try:
        key = tmp / "munge.key"
        key.write_bytes(os.urandom(1024))
        key.chmod(0o400)
        sock = tmp / "munge.sock"
        procs.append(subprocess.Popen(
            [tools["munged"], "--foreground", "--force",
             f"--socket={sock}", f"--key-file={key}",
             f"--pid-file={tmp / 'munged.pid'}",
             f"--log-file={tmp / 'munged.log'}",
             f"--seed-file={tmp / 'munged.seed'}"],
            stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT))
        host = socket.gethostname().split(".")[0]
        cpus = os.cpu_count() or 1
        conf = tmp / "slurm.conf"
        conf.write_text(f"""ClusterName=llmctest
SlurmctldHost={host}
SlurmctldPort={free_port()}
SlurmdPort={free_port()}
AuthType=auth/munge
AuthInfo=socket={sock}
CredType=cred/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
SlurmUser=root
SlurmdUser=root
StateSaveLocation={tmp / 'ctld'}
SlurmdSpoolDir={tmp / 'slurmd'}
SlurmctldPidFile={tmp / 'slurmctld.pid'}
SlurmdPidFile={tmp / 'slurmd.pid'}
SlurmctldLogFile={tmp / 'slurmctld.log'}
SlurmdLogFile={tmp / 'slurmd.log'}
JobAcctGatherType=jobacct_gather/none
MpiDefault=none
ReturnToService=2
NodeName={host} CPUs={cpus} State=UNKNOWN
PartitionName=llmc Nodes=ALL Default=YES MaxTime=INFINITE State=UP OverSubscribe=FORCE
""")
        (tmp / "ctld").mkdir()
        (tmp / "slurmd").mkdir()
        env = dict(os.environ, SLURM_CONF=str(conf))
        time.sleep(0.5)  # munged's socket
        procs.append(subprocess.Popen([tools["slurmctld"], "-D", "-i"],
                                      env=env, stdout=subprocess.DEVNULL,
                                      stderr=subprocess.STDOUT))
        time.sleep(1)
        procs.append(subprocess.Popen([tools["slurmd"], "-D"], env=env,
                                      stdout=subprocess.DEVNULL,
                                      stderr=subprocess.STDOUT))
        deadline = time.monotonic() + args.deadline
        while True:
            r = subprocess.run([tools["sinfo"], "-h", "-o", "%T"], env=env,
                               capture_output=True, text=True)
            if r.returncode == 0 and r.stdout.strip() == "idle":
                break
            if time.monotonic() > deadline:
                logs = "".join(
                    f"\n--- {p.name}\n{p.read_text()[-1500:]}"
                    for p in sorted(tmp.glob("*.log")))
                sys.exit(f"the private SLURM cluster did not come up in "
                         f"{args.deadline} s: {r.stdout}{r.stderr}{logs}")
            time.sleep(0.5)
        print(f"SLURM up in {tmp} ({host}, {cpus} CPUs)", flush=True)
        launcher = (f"{tools['srun']} -n {args.ranks} --overcommit "
                    f"--mpi=pmix --time=5")
        parity = pathlib.Path(__file__).with_name("parity.py")
        rc = subprocess.run([sys.executable, str(parity), *parity_args,
                             f"--launcher={launcher}"], env=env).returncode
        # Let the job steps finish before the daemons go.
        squeue = shutil.which("squeue")
        for _ in range(40):
            r = subprocess.run([squeue, "-h"], env=env, capture_output=True,
                               text=True) if squeue else None
            if not r or r.returncode != 0 or not r.stdout.strip():
                break
            time.sleep(0.25)
        sys.exit(rc)
    finally:
        for p in reversed(procs):
            p.terminate()
        for p in reversed(procs):
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.kill()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
