"""A real single-node SLURM cluster for the tests: munged, slurmctld and slurmd, started and stopped here.

Debian's `slurmctld slurmd slurm-client munge` packages (SLURM 22.05; `.ci/run` installs them), run as root
without systemd: the daemons, their state, logs, sockets and key all live in one temporary folder, on ports
that are free now, and nothing outside that folder is touched. Clients (`sbatch`, `squeue`, `srun` inside
jobs) find the cluster through `SLURM_CONF`, as a site's environment module points them at its own.

What differs from a production cluster, and why:
- `ProctrackType=proctrack/linuxproc`, `TaskPlugin=task/none`: no cgroups or systemd in a container.
- No accounting database (`sacct` is empty); `scontrol show job` has what the tests read.
- `cred_expire=10`: a requeued job becomes eligible again after this many seconds (SLURM's default is 120).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

DAEMONS = ("munged", "slurmctld", "slurmd")
CLIENTS = ("sbatch", "squeue", "scontrol", "scancel", "srun", "sinfo")
START_TIMEOUT_S = 60


class ClusterError(RuntimeError):
    """The cluster did not come up; the message has the daemon's last log lines."""


def missing_programs() -> list[str]:
    found = {name: shutil.which(name) or shutil.which(name, path="/usr/sbin:/sbin") for name in DAEMONS + CLIENTS}
    return [name for name, path in found.items() if path is None]


def free_port() -> int:
    # Above 20000: Lightning derives each SLURM job's rendezvous port from its id as 10000 to 19999.
    for port in range(24817, 25817, 2):
        with socket.socket() as a, socket.socket() as b:
            try:
                a.bind(("127.0.0.1", port))
                b.bind(("127.0.0.1", port + 1))
            except OSError:
                continue
        return port
    raise ClusterError("no two free ports in 24817-25817")


@dataclass
class SlurmCluster:
    root: Path
    node: str
    cpus: int
    memory_mb: int
    partition: str = "debug"

    @property
    def conf(self) -> Path:
        return self.root / "slurm.conf"

    @property
    def env(self) -> dict[str, str]:
        """What a client needs on top of a user's environment to reach this cluster."""
        return {"SLURM_CONF": str(self.conf)}

    def start(self) -> None:
        for folder in ("state", "spool", "log", "munge"):
            (self.root / folder).mkdir(parents=True, exist_ok=True)
        (self.root / "munge").chmod(0o755)  # munged's clients need o+x on the socket's folder
        key = self.root / "munge.key"
        key.write_bytes(os.urandom(1024))
        key.chmod(0o600)
        port = free_port()
        self.conf.write_text(self._config(port))
        socket_path = self.root / "munge" / "munge.socket.2"
        self._daemon(
            "munged",
            "--force",
            f"--key-file={key}",
            f"--socket={socket_path}",
            f"--pid-file={self.root / 'munge' / 'munged.pid'}",
            f"--log-file={self.root / 'log' / 'munged.log'}",
            f"--seed-file={self.root / 'munge' / 'seed'}",
        )
        self._wait_for(socket_path.exists, "munged", "munged.log")
        self._daemon("slurmctld", "-f", str(self.conf))
        self._daemon("slurmd", "-f", str(self.conf))
        self._wait_for(self._node_is_idle, "slurmd", "slurmd.log")

    def stop(self) -> None:
        for pid_file in (self.root / "slurmd.pid", self.root / "slurmctld.pid", self.root / "munge" / "munged.pid"):
            try:
                pid = int(pid_file.read_text().split()[0])
            except (OSError, ValueError, IndexError):
                continue
            try:
                os.kill(pid, 15)
            except ProcessLookupError:
                continue
            deadline = time.monotonic() + 15
            while time.monotonic() < deadline and _alive(pid):
                time.sleep(0.2)
            if _alive(pid):
                os.kill(pid, 9)
        # Job steps that outlived slurmd (a test that failed half-way) go too.
        subprocess.run(["pkill", "-f", f"slurmstepd.*{self.root}"], check=False)

    def client(self, *command: str, env: Mapping[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            list(command),
            env={**(env or os.environ), **self.env},
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )

    def job(self, job_id: str) -> dict[str, str]:
        """`scontrol show job` as a mapping (JobState, ExitCode, Restarts, StdOut...); empty once it is forgotten."""
        shown = self.client("scontrol", "--oneliner", "show", "job", job_id)
        fields: dict[str, str] = {}
        for item in shown.stdout.split():
            name, _, value = item.partition("=")
            fields.setdefault(name, value)
        return fields

    def wait_for_job(self, job_id: str, timeout_s: float) -> dict[str, str]:
        """Block until the job has ended (COMPLETED, FAILED, CANCELLED, TIMEOUT...) and return its record."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            record = self.job(job_id)
            if record.get("JobState") in ("COMPLETED", "FAILED", "CANCELLED", "TIMEOUT", "NODE_FAIL", "OUT_OF_MEMORY"):
                return record
            time.sleep(1)
        self.client("scancel", job_id)
        raise AssertionError(f"job {job_id} did not end within {timeout_s} s: {self.job(job_id)}")

    def _config(self, port: int) -> str:
        r = self.root
        return f"""\
ClusterName=fsdltest
SlurmctldHost={self.node}
SlurmctldPort={port}
SlurmdPort={port + 1}
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket={r / "munge" / "munge.socket.2"},cred_expire=10
CredType=cred/munge
StateSaveLocation={r / "state"}
SlurmdSpoolDir={r / "spool"}
SlurmctldPidFile={r / "slurmctld.pid"}
SlurmdPidFile={r / "slurmd.pid"}
SlurmctldLogFile={r / "log" / "slurmctld.log"}
SlurmdLogFile={r / "log" / "slurmd.log"}
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
MpiDefault=none
MailProg=/bin/true
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU_Memory
SchedulerType=sched/backfill
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobRequeue=1
ReturnToService=2
SlurmdTimeout=60
KillWait=30
NodeName={self.node} CPUs={self.cpus} RealMemory={self.memory_mb} State=UNKNOWN
PartitionName={self.partition} Nodes={self.node} Default=YES MaxTime=INFINITE State=UP
"""

    def _daemon(self, name: str, *arguments: str) -> None:
        program = shutil.which(name) or shutil.which(name, path="/usr/sbin:/sbin") or name
        done = subprocess.run(
            [program, *arguments], env={**os.environ, **self.env}, capture_output=True, text=True, check=False
        )
        if done.returncode != 0:
            raise ClusterError(f"{name} did not start ({done.returncode}): {(done.stderr or done.stdout).strip()}")

    def _node_is_idle(self) -> bool:
        shown = self.client("sinfo", "--noheader", "--format=%t")
        return shown.returncode == 0 and shown.stdout.strip() == "idle"

    def _wait_for(self, ready: Callable[[], bool], name: str, log: str) -> None:
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if ready():
                return
            time.sleep(0.5)
        log_file = self.root / "log" / log
        tail = log_file.read_text(errors="replace").splitlines()[-10:] if log_file.exists() else []
        raise ClusterError(f"{name} was not ready within {START_TIMEOUT_S} s; its log ends:\n" + "\n".join(tail))


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def node_memory_mb() -> int:
    """What slurmd will find on this machine, less a margin (a node that reports less than its config is drained)."""
    with open("/proc/meminfo") as meminfo:
        total_kb = next(int(line.split()[1]) for line in meminfo if line.startswith("MemTotal:"))
    return int(total_kb / 1024 * 0.9)


def start_cluster(root: Path) -> SlurmCluster:
    cluster = SlurmCluster(root=root, node=socket.gethostname(), cpus=os.cpu_count() or 1, memory_mb=node_memory_mb())
    try:
        cluster.start()
    except BaseException:
        cluster.stop()
        raise
    return cluster
