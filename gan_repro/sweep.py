"""``gan-repro sweep NAME [key=value ...]``: an experiment's runs in parallel, one process per
run, then the experiment-level stages once.

The runs and their configurations are exactly those of ``gan-repro train NAME key=value ...``
(the same declaration, scale, sweep grids, ``runs=`` selection and overrides). Each run trains
in its own worker process, ``gan-repro sweep-worker``, which resolves the same command line for
that one run and calls :func:`gan_repro.runner.train_run` into the same results folder
``<out>/<name>/<scale>/<run>/`` that ``train`` writes: the run folders equal those of sequential
runs. When every run has finished, this process does what ``train`` does after training
(:func:`gan_repro.runner.finish_experiment`): ``data.json``, ``timings.json``, the evaluation
(unless ``evaluate=false``), the figures and the report, once.

Before the runs, when a run's ``data`` section has ``prepare`` hooks (classifiers trained once
and saved in the results folder, SVHN pruning, ...), one worker loads every data section first,
so that the runs then reuse what it saved instead of all training it at once.

Each worker's stdout and stderr go to ``<out>/<name>/<scale>/sweep/<run>.log`` (``_data.log``
for the data worker); every attempt appends to it under a header line. This process prints one
line per start, finish, retry and failure with that log file.

Backends:

* ``local`` (default): a pool of worker processes on this machine. With GPUs visible
  (``CUDA_VISIBLE_DEVICES``, else ``nvidia-smi -L``) one worker per GPU, each with
  ``CUDA_VISIBLE_DEVICES`` set to its GPU (``--workers`` more than the GPUs share them, with
  ``TF_FORCE_GPU_ALLOW_GROWTH``); on a CPU-only machine ``--workers`` workers (default:
  half the cores, 1 to 4), each limited to its share of the cores
  (``TF_NUM_INTRAOP_THREADS``, ``TF_NUM_INTEROP_THREADS``, ``OMP_NUM_THREADS``).
* ``ray`` (``pip install -e ".[ray]"``): one Ray task per run, each running the same worker
  command in a subprocess on whichever node Ray picks: ``num_gpus=1`` when the cluster has GPUs
  (Ray sets ``CUDA_VISIBLE_DEVICES``), else ``num_cpus`` = the cluster's cores over the workers.
  ``--workers`` caps the runs in flight. Connects with ``ray.init(address=...)`` to
  ``--address`` or ``RAY_ADDRESS``, else starts a local Ray. **The results folder (``out=``) and
  the data dir must be on storage that every node sees at the same path** (an NFS or similar
  mount), and every node needs the suite installed (or this checkout at the same path): the
  workers write the run folders and logs there and this process reads them back.

Retries: a run whose worker fails (non-zero exit, killed, a Ray worker lost) is started again,
up to ``--retries`` times; the trainer resumes from the run's last checkpoint, so a retry goes
on where the failed attempt stopped. A worker that stops with an error the suite raises on
purpose (exit 2: a missing dataset, changed settings, a diverged loss) is not retried, since it
would fail the same way. The runs that still failed are listed (with their logs) and the sweep
exits non-zero without the experiment-level stages; finished runs are kept, so rerunning the
same command resumes the failed ones.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path

from gan_repro.errors import BadOptionError, GanReproError, check_choice

BACKENDS = ("local", "ray")
#: A worker's exit status for an error the suite raises on purpose (see ``cli._guarded``).
USER_ERROR = 2
#: The package's root (the checkout), put on the workers' PYTHONPATH.
ROOT = Path(__file__).resolve().parents[1]
#: What limits a worker's threads to its share of the cores.
THREAD_VARS = ("TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS", "OMP_NUM_THREADS")
#: Seconds a stopped sweep waits for its workers to checkpoint after Ctrl-C before killing them.
STOP_GRACE_S = 120.0


@dataclass
class Job:
    """One worker to run: a run of the experiment (or the data preparation, ``_data``)."""

    name: str
    command: list[str]
    log: Path
    result: Path
    attempts: int = 0
    started: float = 0.0
    outcome: dict = field(default_factory=dict)


def sweep(
    name: str,
    tokens: list[str] | tuple = (),
    *,
    backend: str = "local",
    workers: int | None = None,
    retries: int = 2,
    address: str | None = None,
    worker_command: list[str] | None = None,
    verbose: bool = False,
) -> Path:
    """Train the runs of declaration ``name`` (``tokens`` as ``gan-repro train`` takes them) in
    parallel worker processes, then evaluate, draw the figures and write the report once.
    Returns the results folder. ``worker_command`` replaces ``[python, -m, gan_repro.cli]`` in
    front of each worker's ``sweep-worker ...`` arguments (tests use it to kill a worker)."""
    from gan_repro import runner

    check_choice("--backend", backend, BACKENDS)
    if workers is not None and workers < 1:
        raise BadOptionError(f"--workers {workers}: give at least 1 worker")
    if retries < 0:
        raise BadOptionError(f"--retries {retries}: give 0 or more retries")
    tokens = list(tokens)
    s = runner.prepare(name, tokens)
    decl = s.declaration
    out = s.out.resolve()
    logs = out / "sweep"
    logs.mkdir(parents=True, exist_ok=True)
    for cfg in s.configs:  # refuse changed settings before starting anything
        settings = {"family": cfg.family, "model": cfg.model_dict(), "data": {"spec": cfg.data}}
        runner.check_unchanged(out / cfg.run, settings)
    todo = []
    for cfg in s.configs:
        if runner.is_trained(out / cfg.run, cfg.trainer.steps):
            print(f"[{decl.name}] {cfg.run}: already trained to step {cfg.trainer.steps}, kept")
        else:
            todo.append(cfg)
    base = _worker_tokens(tokens)
    prefix = list(worker_command or [sys.executable, "-m", "gan_repro.cli"])
    prefix += ["--verbose"] if verbose else []

    def job(job_name: str, runs: list[str], *flags: str) -> Job:
        result = logs / f"{job_name}.result.json"
        command = [*prefix, "sweep-worker", "--result", str(result), *flags, name, *base]
        return Job(job_name, [*command, "runs=" + ",".join(runs)], logs / f"{job_name}.log", result)

    jobs = [job(cfg.run, [cfg.run]) for cfg in todo]
    data_jobs = []
    if any(cfg.data.get("prepare") for cfg in todo):
        data_jobs = [job("_data", [cfg.run for cfg in todo], "--data-only")]
    results: dict[str, dict] = {}
    if jobs:
        pool = _make_pool(backend, workers, len(jobs), address)
        print(
            f"[sweep] {decl.name} ({s.scale}): {len(jobs)} run(s) on {pool.describe()}, "
            f"up to {retries} retries each; logs in {logs}",
            flush=True,
        )
        try:
            failed = _schedule(data_jobs, pool, retries, alone=True) if data_jobs else {}
            if not failed:
                failed = _schedule(jobs, pool, retries)
        finally:
            pool.close()
        if failed:
            listed = "; ".join(f"{run} ({why})" for run, why in failed.items())
            raise GanReproError(
                f"sweep of {decl.name}: {len(failed)} of {len(jobs) + len(data_jobs)} job(s) "
                f"failed: {listed}. Finished runs are kept: rerun the same command to resume the "
                "failed ones from their last checkpoint (the log says why they stopped)"
            )
        results = {j.name: j.outcome for j in [*data_jobs, *jobs]}
    ctx = runner.experiment_context(s)
    seen: set[str] = set()
    for outcome in results.values():  # data.json as a sequential run loads it: in run order
        for spec, record in outcome.get("data", []):
            key = json.dumps(spec, sort_keys=True)
            if key not in seen:
                seen.add(key)
                ctx.records[runner._record_key(spec, ctx.records)] = record
    timings = {cfg.run: 0.0 for cfg in s.configs}
    for outcome in results.values():
        timings.update(outcome.get("seconds", {}))
    warnings = [w for outcome in results.values() for w in outcome.get("warnings", [])]
    return runner.finish_experiment(s, ctx, timings, warnings)


def _worker_tokens(tokens: list[str]) -> list[str]:
    """The command line for a worker: without ``runs=`` and ``evaluate=`` (a worker trains
    one run), with ``out=`` and ``data_dir=`` absolute (a worker may start elsewhere)."""
    out = ["out=" + str(Path("runs").resolve())]
    for token in tokens:
        key, _, value = token.partition("=")
        if key in ("runs", "evaluate", "out"):
            if key == "out":
                out[0] = "out=" + str(Path(value).resolve())
            continue
        if key == "data_dir" and value:
            token = "data_dir=" + str(Path(value).resolve())
        out.append(token)
    return out


# -------------------------------------------------------------------------------- scheduling
def _schedule(jobs: list[Job], pool, retries: int, alone: bool = False) -> dict[str, str]:
    """Run ``jobs`` on ``pool``'s slots, retrying failed ones; ``{job: why}`` of those that
    still failed. Each finished job's ``outcome`` is its worker's result file. ``alone``: one
    job at a time, with every core (the data preparation: a classifier trained on fewer
    threads would differ in its last bits from the one ``train`` makes)."""
    queue = deque(jobs)
    free = list(range(1 if alone else pool.size))
    running: dict[int, tuple[Job, object]] = {}
    failed: dict[str, str] = {}
    previous = signal.getsignal(signal.SIGTERM)
    if _main_thread():
        signal.signal(signal.SIGTERM, _raise_interrupt)
    try:
        while queue or running:
            while queue and free:
                slot, job = free.pop(0), queue.popleft()
                job.attempts += 1
                job.result.unlink(missing_ok=True)
                with job.log.open("a") as f:
                    f.write(f"===== {job.name}: attempt {job.attempts} ({time.ctime()}) =====\n")
                job.started = time.monotonic()
                running[slot] = (job, pool.start(job, slot, alone))
                print(
                    f"[sweep] {job.name}: started (attempt {job.attempts} of {retries + 1}, "
                    f"{pool.slot_name(slot, alone)}); log {job.log}",
                    flush=True,
                )
            time.sleep(0.2)
            for slot, (job, handle) in list(running.items()):
                rc = pool.poll(handle, job)
                if rc is None:
                    continue
                del running[slot]
                free.append(slot)
                seconds = time.monotonic() - job.started
                if rc == 0 and job.result.is_file():
                    job.outcome = json.loads(job.result.read_text())
                    print(f"[sweep] {job.name}: finished in {seconds:.1f} s", flush=True)
                    continue
                why = _why(rc)
                if rc != USER_ERROR and job.attempts <= retries:
                    print(
                        f"[sweep] {job.name}: {why} after {seconds:.1f} s; retrying from its last "
                        f"checkpoint (retry {job.attempts} of {retries}); log {job.log}",
                        flush=True,
                    )
                    queue.append(job)
                else:
                    tail = _tail(job.log)
                    failed[job.name] = f"{why}, {job.attempts} attempt(s); log {job.log}"
                    print(f"[sweep] {job.name}: FAILED: {failed[job.name]}\n{tail}", flush=True)
    except KeyboardInterrupt:
        print(
            f"[sweep] interrupted: stopping {len(running)} worker(s) at their next step "
            "(each saves a checkpoint; rerun the same command to resume)",
            flush=True,
        )
        pool.stop([handle for _, handle in running.values()])
        raise
    finally:
        if _main_thread():
            signal.signal(signal.SIGTERM, previous)
    return failed


def _main_thread() -> bool:
    import threading

    return threading.current_thread() is threading.main_thread()


def _raise_interrupt(signum, frame):
    raise KeyboardInterrupt


def _why(rc: int) -> str:
    if rc == 0:
        return "exited without writing its result"
    if rc == USER_ERROR:
        return "stopped with an error of the suite (exit 2, not retried: it would fail again)"
    if rc < 0:
        try:
            return f"killed by {signal.Signals(-rc).name}"
        except ValueError:
            return f"killed by signal {-rc}"
    return f"failed (exit {rc})"


def _tail(log: Path, lines: int = 15) -> str:
    try:
        text = log.read_text(errors="replace").replace("\r", "\n").splitlines()
    except OSError:
        return ""
    return "\n".join("    " + line for line in text[-lines:] if line.strip())


def _execute(command: list[str], env: dict[str, str], log: str, cwd: str) -> int:
    """Run one worker ``command`` with ``env`` over this process's environment, its output
    appended to ``log``; its exit status. Ctrl-C (or a Ray cancel) is passed on as one SIGINT
    so the trainer saves a checkpoint at its next step; it is killed if it takes too long."""
    with open(log, "a") as f:
        proc = subprocess.Popen(
            command,
            stdout=f,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env={**os.environ, **env},
            cwd=cwd if os.path.isdir(cwd) else None,
            start_new_session=True,  # the terminal's Ctrl-C reaches the sweep, which passes it on
        )
        try:
            return proc.wait()
        except KeyboardInterrupt:
            _stop([proc])
            raise


def _stop(procs: list[subprocess.Popen]) -> None:
    """One SIGINT each (the trainer checkpoints at its next step), then SIGKILL after a grace."""
    for p in procs:
        if p.poll() is None:
            p.send_signal(signal.SIGINT)
    deadline = time.monotonic() + STOP_GRACE_S
    for p in procs:
        try:
            p.wait(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


def _worker_env(threads: int | None) -> dict[str, str]:
    """What every worker gets: the checkout on PYTHONPATH, unbuffered output, a quieter
    progress bar in its log, and its share of the cores when ``threads`` is given."""
    path = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p)
    env = {"PYTHONPATH": path, "PYTHONUNBUFFERED": "1", "TQDM_MININTERVAL": "10"}
    if threads:
        for var in THREAD_VARS:
            env[var] = str(threads)
    return env


def _cpu_count() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def visible_gpus() -> list[str]:
    """The GPUs a process started here would see, without importing TensorFlow:
    ``CUDA_VISIBLE_DEVICES`` if set (empty or ``-1``: none), else ``nvidia-smi -L``'s."""
    listed = os.environ.get("CUDA_VISIBLE_DEVICES")
    if listed is not None:
        ids = []
        for part in (p.strip() for p in listed.split(",")):
            if not part or part.startswith("-"):
                break  # CUDA stops at the first invalid entry
            ids.append(part)
        return ids
    smi = shutil.which("nvidia-smi")
    if smi is None:
        return []
    try:
        text = subprocess.run([smi, "-L"], capture_output=True, text=True, timeout=30).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    return [str(i) for i, _ in enumerate(x for x in text.splitlines() if x.startswith("GPU "))]


def default_cpu_workers(cpus: int) -> int:
    """Workers on a CPU-only machine without ``--workers``: half the cores, 1 to 4."""
    return max(1, min(4, cpus // 2))


# ------------------------------------------------------------------------------------- pools
def _make_pool(backend: str, workers: int | None, n_jobs: int, address: str | None):
    if backend == "ray":
        return RayPool(workers, n_jobs, address)
    return LocalPool(workers, n_jobs)


class LocalPool:
    """Worker processes on this machine, one per slot (a GPU, or a share of the cores)."""

    def __init__(self, workers: int | None, n_jobs: int):
        gpus = visible_gpus()
        cpus = _cpu_count()
        if gpus:
            n = min(workers or len(gpus), max(n_jobs, 1))
            shared = n > len(gpus)
            threads = max(1, cpus // n)
            self.envs = []
            for i in range(n):
                env = {**_worker_env(threads), "CUDA_VISIBLE_DEVICES": gpus[i % len(gpus)]}
                if shared:
                    env["TF_FORCE_GPU_ALLOW_GROWTH"] = "true"
                self.envs.append(env)
            self.names = [f"GPU {gpus[i % len(gpus)]}" for i in range(n)]
        else:
            n = min(workers or default_cpu_workers(cpus), max(n_jobs, 1))
            threads = max(1, cpus // n)
            self.envs = [{**_worker_env(threads), "CUDA_VISIBLE_DEVICES": ""} for _ in range(n)]
            self.names = [f"CPU worker {i}, {threads} thread(s)" for i in range(n)]
        self.size = n
        self._cwd = os.getcwd()
        self._gpus = gpus

    def describe(self) -> str:
        where = f"GPU(s) {', '.join(self._gpus)}" if self._gpus else "the CPU"
        return f"{self.size} local worker(s) on {where}"

    def slot_name(self, slot: int, alone: bool = False) -> str:
        return f"{self.names[slot].split(',')[0]}, every core" if alone else self.names[slot]

    def start(self, job: Job, slot: int, alone: bool = False) -> subprocess.Popen:
        env = {k: v for k, v in self.envs[slot].items() if not (alone and k in THREAD_VARS)}
        log = job.log.open("a")
        try:
            return subprocess.Popen(
                job.command,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env={**os.environ, **env},
                cwd=self._cwd,
                start_new_session=True,  # Ctrl-C reaches the sweep, which passes on one SIGINT
            )
        finally:
            log.close()

    def poll(self, proc: subprocess.Popen, job: Job) -> int | None:
        return proc.poll()

    def stop(self, procs: list) -> None:
        _stop(procs)

    def close(self) -> None:
        pass


class RayPool:
    """One Ray task per run (see the module docstring); ``--workers`` caps the tasks in flight."""

    def __init__(self, workers: int | None, n_jobs: int, address: str | None):
        try:
            import ray
        except ImportError:
            raise GanReproError(
                '--backend ray needs Ray, which is not installed: pip install -e ".[ray]" '
                "(the suite's ray extra, ray>=2.9), or use --backend local"
            ) from None
        self.ray = ray
        self._started = False
        if not ray.is_initialized():
            address = address or os.environ.get("RAY_ADDRESS") or None
            ray.init(address=address, **({} if address else {"include_dashboard": False}))
            self._started = True
        resources = ray.cluster_resources()
        gpus = int(resources.get("GPU", 0))
        cpus = max(1, int(resources.get("CPU", 1)))
        node_cpus = max(
            [int(n["Resources"].get("CPU", 0)) for n in ray.nodes() if n.get("Alive")] or [1]
        )
        if gpus:
            self.size = min(workers or gpus, max(n_jobs, 1))
            options, threads = {"num_gpus": 1, "num_cpus": 1}, None
            self._where = f"Ray ({gpus} GPU(s), one per run)"
        else:
            self.size = min(workers or cpus, max(n_jobs, 1))
            threads = max(1, min(node_cpus, cpus // self.size))
            options = {"num_cpus": threads}
            self._where = f"Ray ({cpus} CPU(s), {threads} per run)"
        self._env = _worker_env(threads)
        runtime_env = {"env_vars": {"PYTHONPATH": self._env["PYTHONPATH"]}}
        self._task = ray.remote(_execute).options(max_retries=0, runtime_env=runtime_env, **options)
        self._cwd = os.getcwd()

    def describe(self) -> str:
        return f"{self.size} task(s) at a time on {self._where}"

    def slot_name(self, slot: int, alone: bool = False) -> str:
        return f"Ray task {slot}"

    def start(self, job: Job, slot: int, alone: bool = False):
        return self._task.remote(job.command, self._env, str(job.log), self._cwd)

    def poll(self, ref, job: Job) -> int | None:
        ready, _ = self.ray.wait([ref], timeout=0)
        if not ready:
            return None
        try:
            return int(self.ray.get(ref))
        except Exception as e:  # the task's worker or node was lost: retry like a crash
            with job.log.open("a") as f:
                f.write(f"[sweep] the Ray task failed: {type(e).__name__}: {e}\n")
            return -int(signal.SIGKILL)

    def stop(self, refs: list) -> None:
        for ref in refs:
            self.ray.cancel(ref)  # a KeyboardInterrupt in the task: _execute passes on SIGINT
        try:
            self.ray.wait(refs, num_returns=len(refs), timeout=STOP_GRACE_S + 10)
        except Exception:
            pass

    def close(self) -> None:
        if self._started:
            self.ray.shutdown()


# ------------------------------------------------------------------------------------ worker
def worker_main(argv: list[str]) -> int:
    """``gan-repro sweep-worker --result FILE [--data-only] NAME key=value ... runs=RUN``: train
    the one run (``--data-only``: load every selected run's data) as ``train`` would, then write
    ``FILE``: the seconds spent, the data records and the data warnings, for the sweep."""
    from gan_repro import runner
    from gan_repro.io import write_json

    parser = argparse.ArgumentParser(prog="gan-repro sweep-worker")
    parser.add_argument("--result", required=True)
    parser.add_argument("--data-only", action="store_true")
    parser.add_argument("experiment")
    args, tokens = parser.parse_known_args(argv)
    s = runner.prepare(args.experiment, tokens)
    s.out.mkdir(parents=True, exist_ok=True)
    ctx = runner.experiment_context(s)
    outcome: dict = {"seconds": {}, "data": [], "warnings": []}
    loaded: list[dict] = []
    if args.data_only:
        for cfg in s.configs:
            ctx.inputs(cfg.data)
            loaded.append(cfg.data)
    else:
        if len(s.configs) != 1:
            raise BadOptionError(f"sweep-worker trains one run; runs= selected {s.runs}")
        cfg = s.configs[0]
        print(f"[{s.declaration.name}] {cfg.run}: {s.scale} scale", flush=True)
        outcome["seconds"][cfg.run] = runner.train_run(ctx, cfg)
        if ctx.records:  # it loaded its data (a run kept as finished loads none)
            loaded.append(cfg.data)
    for spec in loaded:
        outcome["data"].append([spec, ctx.inputs(spec).record])
    outcome["warnings"] = ctx.warnings()
    write_json(args.result, outcome)
    return 0
