"""Grading on a dask.distributed cluster (grader/cluster): the same grades.csv as the local pool, no row lost when
a worker dies, a submission that kills two workers graded `crashed`, and a worker with other engine sources
refused before it gets work."""

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

distributed = pytest.importorskip("distributed")
cloudpickle = pytest.importorskip("cloudpickle")

from distributed.diagnostics.plugin import WorkerPlugin  # noqa: E402

from grader.cluster.admission import RESOURCE  # noqa: E402
from grader.cluster.pool import ALLOWED_FAILURES, ClusterError, parse  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
cloudpickle.register_pickle_by_value(sys.modules[__name__])   # the plugins below travel to the workers by value


def table(report):
    return {r.student: (r.status, r.score) for r in report.results}


def subset(sample_dir, tmp_path, students, assignment="a2_vjp"):
    root = tmp_path / "submitted"
    for student in students:
        shutil.copytree(sample_dir / student / assignment, root / student / assignment)
    return root


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    """The address of a scheduler with two worker processes (nannies restart a worker that dies), each started
    as its own command, as on a real cluster."""
    info = tmp_path_factory.mktemp("cluster") / "scheduler.json"
    dask = [sys.executable, "-m"]
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    scheduler = subprocess.Popen([*dask, "distributed.cli.dask_scheduler", "--port", "0", "--no-dashboard",
                                  "--scheduler-file", str(info)], **quiet)
    workers = subprocess.Popen([*dask, "distributed.cli.dask_worker", "--scheduler-file", str(info), "--nworkers",
                                "2", "--nthreads", "1", "--memory-limit", "0", "--no-dashboard"], **quiet)
    try:
        with distributed.Client(scheduler_file=str(info), timeout=60) as client:
            client.wait_for_workers(2, timeout=60)
            address = client.scheduler.address
        yield address
    finally:
        for process in (workers, scheduler):
            process.terminate()
            process.wait(timeout=30)


def plugin(address: str, name: str, new: WorkerPlugin | None = None) -> None:
    """Register `new` as `name` on every worker (now and later), or unregister `name`: from a client of its own, closed
    before grading starts one (two clients in one process mix up their event loops)."""
    with distributed.Client(address, timeout=30) as client:
        if new is None:
            client.unregister_worker_plugin(name)
        else:
            client.register_plugin(new, name=name)


class DieOn(WorkerPlugin):
    """Makes its worker's process exit when it starts grading `student`: at most once across the cluster when
    `marker` is given (the file records that it happened), else every time."""

    def __init__(self, student: str, marker: str | None = None) -> None:
        self.student, self.marker = student, marker

    def setup(self, worker) -> None:
        from grader.cluster import tasks

        original = getattr(tasks.run_in_sandbox, "original", tasks.run_in_sandbox)
        student, marker = self.student, self.marker

        def run_in_sandbox(matched, assignment, sub, *args, **kw):
            if sub.student == student and (marker is None or not os.path.exists(marker)):
                if marker is not None:
                    Path(marker).write_text(str(os.getpid()))
                os._exit(1)
            return original(matched, assignment, sub, *args, **kw)

        run_in_sandbox.original = original
        tasks.run_in_sandbox = run_in_sandbox

    def teardown(self, worker) -> None:
        from grader.cluster import tasks

        tasks.run_in_sandbox = getattr(tasks.run_in_sandbox, "original", tasks.run_in_sandbox)


def test_cluster_addresses_are_checked():
    assert parse("local:2") == ("local", 2)
    assert parse("tcp://scheduler:8786") == ("address", 0)
    for bad in ("local:0", "local:two", "scheduler:8786"):
        with pytest.raises(ValueError, match="--cluster"):
            parse(bad)


def test_a_local_cluster_of_two_grades_the_sample_class_to_the_same_grades_as_the_local_pool(
        sample, sample_dir, tmp_path, grade_quickly):
    local = sample["a2_vjp"]          # the sample class graded by the local pool (conftest), same settings
    spread = grade_quickly("a2_vjp", sample_dir, tmp_path, cluster="local:2", check_reference=True)
    assert spread.graded == len(spread.results) == 15 and not spread.refused
    assert table(spread) == table(local)
    csv = "a2_vjp/grades.csv"
    assert (tmp_path / csv).read_bytes() == (local.out / csv).read_bytes()
    assert "on 2 admitted workers of local:2" in spread.isolation


def test_killing_a_worker_mid_run_loses_no_row(cluster, sample_dir, tmp_path, grade_quickly):
    marker = tmp_path / "died"
    plugin(cluster, "die-once", DieOn("ben", str(marker)))
    try:
        report = grade_quickly("a2_vjp", subset(sample_dir, tmp_path, ["ada", "ben", "dee"]), tmp_path / "out",
                               cluster=cluster)
    finally:
        plugin(cluster, "die-once")
    assert marker.exists()                      # a worker did die grading ben; the task moved to another
    assert table(report) == {"ada": ("ok", 15), "ben": ("ok", 8), "dee": ("ok", 0)}
    assert sorted(report.in_rows) == sorted(report.entries) and not report.lost
    rows = (tmp_path / "out" / "a2_vjp" / "grades.csv").read_text().splitlines()[1:]
    assert sorted(row.split(",")[0] for row in rows) == ["ada", "ben", "dee"]


def test_a_submission_that_kills_two_workers_is_graded_crashed_with_the_reason(cluster, sample_dir, tmp_path,
                                                                              grade_quickly):
    plugin(cluster, "die-always", DieOn("ben"))
    try:
        report = grade_quickly("a2_vjp", subset(sample_dir, tmp_path, ["ada", "ben"]), tmp_path / "out",
                               cluster=cluster)
    finally:
        plugin(cluster, "die-always")
    results = {r.student: r for r in report.results}
    assert (results["ben"].status, results["ben"].score) == ("crashed", 0)
    assert f"killed {ALLOWED_FAILURES + 1} workers" in results["ben"].failure["reason"]
    assert (results["ada"].status, results["ada"].score) == ("ok", 15)
    again = grade_quickly("a2_vjp", tmp_path / "submitted", tmp_path / "out", cluster=cluster)
    assert again.graded == 0                    # kept as graded: the next run does not kill two more workers


def test_a_worker_with_different_engine_sources_is_refused(cluster, sample_dir, tmp_path, grade_quickly):
    copy = tmp_path / "checkout"
    for package in ("autodiff_lab", "grader"):
        shutil.copytree(REPO / package, copy / package, ignore=shutil.ignore_patterns("__pycache__", "out", "course"))
    with open(copy / "autodiff_lab" / "__init__.py", "a") as f:
        f.write("\n# another version of the engine\n")
    env = dict(os.environ, PYTHONPATH=str(copy))
    worker = subprocess.Popen([sys.executable, "-m", "distributed.cli.dask_worker", cluster, "--nthreads", "1",
                               "--no-nanny", "--name", "odd-worker", "--no-dashboard"], env=env, cwd=copy,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)   # cwd: first on its sys.path
    try:
        with distributed.Client(cluster, timeout=30) as client:
            client.wait_for_workers(3, timeout=60)
        report = grade_quickly("a2_vjp", subset(sample_dir, tmp_path, ["ada", "dee"]), tmp_path / "out",
                               cluster=cluster)
        assert table(report) == {"ada": ("ok", 15), "dee": ("ok", 0)}
        assert len(report.refused) == 1
        message = report.refused[0]
        assert "odd-worker" in message and "engine (autodiff_lab) sources are not the instructor's" in message
        assert "__init__.py differs" in message
        with distributed.Client(cluster, timeout=30) as client:
            workers = client.scheduler_info(n_workers=-1)["workers"].values()
        odd = [w for w in workers if w.get("name") == "odd-worker"]
        assert odd and not odd[0].get("resources", {}).get(RESOURCE)     # the scheduler can give it no grading
    finally:
        worker.terminate()
        worker.wait(timeout=30)


def test_a_cluster_whose_every_worker_is_refused_grades_no_one(cluster, sample_dir, tmp_path, grade_quickly,
                                                              monkeypatch):
    from grader.cluster import admission

    real = admission.sources

    def other_engine():
        found = real()
        found["engine"] = {**found["engine"], "__init__.py": "0" * 64}
        return found

    monkeypatch.setattr(admission, "sources", other_engine)     # the instructor's engine, as the workers see it
    start = time.monotonic()
    with pytest.raises(ClusterError, match="no worker of .* may grade") as err:
        grade_quickly("a2_vjp", subset(sample_dir, tmp_path, ["ada"]), tmp_path / "out", cluster=cluster)
    assert str(err.value).count("refused") == 2 and time.monotonic() - start < 60
    assert not (tmp_path / "out" / "a2_vjp" / "results" / "ada.json").exists()


class SlowDown(WorkerPlugin):
    """Makes each grading task on its worker wait `seconds` first."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds

    def setup(self, worker) -> None:
        from grader.cluster import tasks

        original, seconds = getattr(tasks.run_in_sandbox, "original", tasks.run_in_sandbox), self.seconds

        def run_in_sandbox(*args, **kw):
            time.sleep(seconds)
            return original(*args, **kw)

        run_in_sandbox.original = original
        tasks.run_in_sandbox = run_in_sandbox


def test_a_scheduler_that_goes_away_stops_the_run_cleanly_and_a_rerun_resumes(sample_dir, tmp_path, grade_quickly):
    from grader.cluster.pool import ClusterLost

    submitted, out = subset(sample_dir, tmp_path, ["ada", "ben", "cy", "dee"]), tmp_path / "out"
    results = out / "a2_vjp" / "results"

    def scheduler_then_worker(name: str):
        info = tmp_path / f"{name}.json"
        quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
        scheduler = subprocess.Popen([sys.executable, "-m", "distributed.cli.dask_scheduler", "--port", "0",
                                      "--no-dashboard", "--scheduler-file", str(info)], **quiet)
        worker = subprocess.Popen([sys.executable, "-m", "distributed.cli.dask_worker", "--scheduler-file", str(info),
                                   "--nthreads", "1", "--memory-limit", "0", "--no-dashboard"], **quiet)
        with distributed.Client(scheduler_file=str(info), timeout=60) as client:
            client.wait_for_workers(1, timeout=60)
            address = client.scheduler.address
        return scheduler, worker, address

    scheduler, worker, address = scheduler_then_worker("first")
    try:
        plugin(address, "slow", SlowDown(2.0))

        def kill_after_the_first_result():
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline and not any(results.glob("*.json")):
                time.sleep(0.1)
            scheduler.kill()

        import threading

        killer = threading.Thread(target=kill_after_the_first_result)
        killer.start()
        start = time.monotonic()
        with pytest.raises(ClusterLost, match="went away") as err:
            grade_quickly("a2_vjp", submitted, out, cluster=address)
        killer.join()
        assert "run the same command again" in str(err.value).lower()
        assert time.monotonic() - start < 90
        done = {p.stem for p in results.glob("*.json")}
        assert 1 <= len(done) < 4 and not (out / "a2_vjp" / "grades.csv").exists()
    finally:
        for process in (worker, scheduler):
            process.kill()
            process.wait(timeout=30)
    scheduler, worker, address = scheduler_then_worker("second")
    try:
        report = grade_quickly("a2_vjp", submitted, out, cluster=address)
    finally:
        for process in (worker, scheduler):
            process.terminate()
            process.wait(timeout=30)
    assert report.graded == 4 - len(done)
    assert table(report) == {"ada": ("ok", 15), "ben": ("ok", 8), "cy": ("ok", 13), "dee": ("ok", 0)}


def test_without_dask_the_cluster_flag_says_what_to_install_and_nothing_else_changes(tmp_path):
    """dask is an optional extra: where it is not installed, --cluster stops with one line naming the extra, and
    the package, the grader and its command line import as before."""
    blocked = ("import sys\n"
               "for name in ('dask', 'distributed'):\n"
               "    sys.modules[name] = None              # as if not installed: importing it raises ImportError\n"
               "from autodiff_lab.cli import main\n"
               "import grader.pipeline\n"
               f"sys.exit(main(['grade', 'a1_backprop', '--sample', '--quiet', '--out', {str(tmp_path)!r}, "
               "'--cluster', 'local:2']))\n")
    done = subprocess.run([sys.executable, "-c", blocked], capture_output=True, text=True, timeout=300)
    assert done.returncode != 0
    assert "pip install 'autodiff-lab[cluster]'" in done.stderr and "Traceback" not in done.stderr, done.stderr
    assert not (tmp_path / "a1_backprop" / "grades.csv").exists()
