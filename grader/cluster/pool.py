"""Grade on a dask.distributed cluster: connect (or start a local one), admit the workers, send each submission
as a task, and hand back the results as they finish, judged here.

    with Cluster("tcp://scheduler:8786") as cluster:          or "local:N": a local cluster of N processes
        refused = cluster.admit(expected)                        one message per refused worker
        for result in cluster.results(todo, assignment, grading, complete, failed):
            ...                                                  the caller, the one writer, records it

Where each step runs, and why. The policy (static, no code run) and the judging run here, in the instructor's
process: the expected values, the hidden tests and the verdicts never leave it, and what a worker sends back is
what a kernel sends, untrusted arrays judged as in a local run. A worker runs the notebook in its sandbox and
nothing else. The submission's files and the probes' inputs travel in the task: workers share no file system
with the instructor.

Nothing is lost when a worker dies: the scheduler moves its task to another worker; a task whose worker died
twice (distributed.scheduler.allowed-failures = 1) ends as KilledWorker, and that submission is graded `crashed`
with the reason. A scheduler that goes away ends the run with ClusterLost: what finished is saved, a rerun
resumes.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import time
import uuid
from collections.abc import Callable, Iterator

from ..collect import Submission
from ..runner import Result, Run, check_policy, finish, reply_sizes
from .admission import RESOURCE, Admission, verdict
from .tasks import run_submission
from .transfer import pack

ALLOWED_FAILURES = 1        # a task whose worker died this many times is retried; once more and it is `crashed`
ADMISSION_WAIT = 120.0      # seconds to wait for the first worker (tcp://), and for admissions to finish
NO_WORKER_LIMIT = 300.0     # seconds with no admitted worker alive before the run stops


class ClusterError(RuntimeError):
    """The cluster cannot grade: no worker admitted, or a kernel that cannot start on a worker."""


class ClusterLost(ClusterError):
    """The scheduler went away, or no admitted worker was left, in the middle of a run."""


def parse(spec: str) -> tuple[str, int]:
    """("local", N) for 'local:N', ("address", 0) for 'tcp://HOST:PORT' (or tls://, ucx://)."""
    if spec.startswith("local:"):
        n = spec.removeprefix("local:")
        if not n.isdigit() or int(n) < 1:
            raise ValueError(f"--cluster {spec!r}: give local:N with N a number of worker processes, e.g. local:2")
        return "local", int(n)
    if "://" not in spec:
        raise ValueError(f"--cluster {spec!r}: give the scheduler's address, e.g. tcp://scheduler:8786, or local:N")
    return "address", 0


class Cluster:
    """A client of a dask.distributed scheduler, or of a local cluster this object starts (and stops)."""

    def __init__(self, spec: str, *, quiet: bool = True) -> None:
        try:
            import dask
            from distributed import Client, LocalCluster
        except ImportError:
            raise ClusterError("grading on a cluster needs dask.distributed: pip install 'autodiff-lab[cluster]' "
                               "(or the cluster lines of environment.yml)") from None
        kind, n = parse(spec)
        self.spec, self.local = spec, None
        if kind == "local":
            with dask.config.set({"distributed.scheduler.allowed-failures": ALLOWED_FAILURES}):
                self.local = LocalCluster(n_workers=n, threads_per_worker=1, processes=True, dashboard_address=None,
                                          memory_limit=0, silence_logs=logging.CRITICAL if quiet else logging.WARNING)
            self.client = Client(self.local)
            self.client.wait_for_workers(n, timeout=ADMISSION_WAIT)
        else:
            try:
                self.client = Client(spec, timeout=30)
            except OSError as err:
                raise ClusterError(f"cannot reach the dask scheduler at {spec}: {err}") from None
            self.client.wait_for_workers(1, timeout=ADMISSION_WAIT)

        def allow_failures(dask_scheduler, n=ALLOWED_FAILURES):
            dask_scheduler.allowed_failures = n

        self.client.run_on_scheduler(allow_failures)

    def __enter__(self) -> Cluster:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        try:
            self.client.close()
        finally:
            if self.local is not None:
                self.local.close()

    def workers(self) -> int:
        return len(self.client.scheduler_info(n_workers=-1)["workers"])

    # ------------------------------------------------------------------------------------------ admission
    def admit(self, expected: dict) -> list[str]:
        """Examine every worker (admission.py; workers that join later are examined when they join) and return
        one message per refused worker. Raises ClusterError, with those messages, when none is admitted."""
        self.expected = expected
        self.client.register_plugin(Admission(expected), name=Admission.name)
        deadline = time.monotonic() + ADMISSION_WAIT
        while True:
            verdicts = self.client.run(verdict)
            if all(v is not None for v in verdicts.values()) or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        info = self.client.scheduler_info(n_workers=-1)["workers"]
        refused = [refusal(address, info.get(address, {}), v[1] if v else ["its check did not finish in time"])
                   for address, v in sorted(verdicts.items()) if v is None or v[1]]
        self.admitted = sorted(a for a, v in verdicts.items() if v is not None and not v[1])
        if not self.admitted:
            raise ClusterError(f"no worker of {self.spec} may grade, so nothing was graded:\n" + "\n".join(refused))
        return refused

    # ------------------------------------------------------------------------------------------ grading
    def results(self, todo: list[Submission], assignment, grading: dict,
                complete: Callable[[Result, Submission], Result],
                failed: Callable[[Submission, Exception], Result]) -> Iterator[Result]:
        """Grade `todo`, yielding each result as it finishes (`complete` adds what the submission's files say;
        `failed` makes a grader failure). `grading`: grade_submission's keyword arguments."""
        view = dataclasses.replace(assignment, template={}, _expected={})   # the probes, without expected values
        sizes = reply_sizes(assignment)
        kw = {"limits": grading["limits"], "isolation": grading["isolation"],
              "forbidden_modules": grading["forbidden_modules"]}
        policy = {k: grading.get(k) for k in ("forbidden_modules", "forbidden_functions", "allowed_functions",
                                              "own_rules")}
        queue, futures = iter(todo), {}

        def submit_more() -> list[Result]:
            """Keep the window full: a class of ten thousand is never in the scheduler's memory at once."""
            ready = []
            while len(futures) < self._window():
                sub = next(queue, None)
                if sub is None:
                    break
                try:
                    begun, matched = check_policy(sub, assignment, grading["isolation"], **policy)
                    if matched is None:
                        ready.append(complete(begun, sub))
                        continue
                    future = self.client.submit(run_submission, sub.student, pack(sub.folder), matched, view, sizes,
                                                self.expected["digest"], **kw, resources={RESOURCE: 1}, pure=False,
                                                key=f"grade-{sub.student[:60]}-{uuid.uuid4().hex}")
                except Exception as err:  # noqa: BLE001
                    ready.append(failed(sub, err))
                    continue
                futures[future] = (sub, begun, matched)
            return ready

        self._alone_since = None
        try:
            yield from submit_more()
            while futures:
                for future in self._some_finished(futures, len(todo)):
                    sub, begun, matched = futures.pop(future)
                    yield self._outcome(future, sub, begun, matched, assignment, policy, complete, failed)
                yield from submit_more()
        finally:
            for future in futures:
                future.cancel()

    def _window(self) -> int:
        """How many tasks to keep submitted: twice the admitted workers' threads (read every few seconds)."""
        now = time.monotonic()
        if now - getattr(self, "_window_read", -math.inf) > 5:
            try:
                workers = self.client.scheduler_info(n_workers=-1)["workers"].values()
                threads = sum(w.get("resources", {}).get(RESOURCE, 0) for w in workers)
            except Exception:  # noqa: BLE001  (a lost scheduler is reported by _some_finished)
                threads = 0
            self._window_size, self._window_read = max(8, 2 * int(threads)), now
        return self._window_size

    def _some_finished(self, futures: dict, total: int) -> set:
        """The futures that finish within a couple of seconds (maybe none); ClusterLost when the scheduler goes
        away or no admitted worker has been alive for NO_WORKER_LIMIT."""
        from distributed import wait

        try:
            done, _ = wait(list(futures), timeout=2, return_when="FIRST_COMPLETED")
        except TimeoutError:
            done = set()
        except Exception as err:  # noqa: BLE001  (the connection to the scheduler failed)
            raise self._lost(len(futures), err) from None
        if self.client.status not in ("running", "connecting") or any(f.status == "cancelled" for f in done):
            raise self._lost(len(futures))
        if not done:
            self._schedule_admitted()
            alive = self._admitted_alive()
            self._alone_since = None if alive else (self._alone_since or time.monotonic())
            if self._alone_since and time.monotonic() - self._alone_since > NO_WORKER_LIMIT:
                raise ClusterLost(f"no admitted worker has been alive on {self.spec} for {NO_WORKER_LIMIT:g} s, so "
                                  f"the run stopped with submissions left to grade (of {total}). The results so far "
                                  "are saved: start workers and run the same command again to resume.")
        return done

    def _schedule_admitted(self) -> None:
        """Hand the tasks waiting for a worker (state no-worker) to the workers admitted since they began to wait:
        the scheduler looks for them when a worker joins, not when a joined worker gains a resource."""

        def schedule(dask_scheduler):
            recommendations = {}
            for ws in dask_scheduler.running:
                recommendations.update(dask_scheduler.bulk_schedule_unrunnable_after_adding_worker(ws))
            if recommendations:
                dask_scheduler.transitions(recommendations, stimulus_id=f"autodiff-lab-admitted-{time.time()}")

        try:
            self.client.run_on_scheduler(schedule)
        except Exception:  # noqa: BLE001
            raise self._lost(0) from None

    def _admitted_alive(self) -> bool:
        try:
            workers = self.client.scheduler_info(n_workers=-1)["workers"].values()
        except Exception:  # noqa: BLE001
            raise self._lost(0) from None
        return any(w.get("resources", {}).get(RESOURCE) for w in workers)

    def _lost(self, running: int, err: Exception | None = None) -> ClusterLost:
        why = f" ({type(err).__name__}: {str(err)[:200]})" if err else ""
        return ClusterLost(f"the dask scheduler at {self.spec} went away during the run{why}, with {running} "
                           "submissions being graded; the results that finished are saved. Run the same command again "
                           "once the scheduler is back: it resumes where this run stopped.")

    def _outcome(self, future, sub: Submission, begun: Result, matched, assignment, policy: dict,
                 complete, failed) -> Result:
        from distributed import KilledWorker

        while future.status != "error":
            try:
                out = future.result(timeout=2)
                break
            except TimeoutError:     # its result was lost with its worker after it finished: computed again
                self._some_finished({future: None}, 1)
            except Exception:  # noqa: BLE001  (it erred meanwhile: read below)
                if future.status != "error":
                    raise
        if future.status == "error":
            err = future.exception()
            if isinstance(err, KilledWorker):
                last = getattr(err, "last_worker", None)
                where = f" (the last was {getattr(last, 'address', last)})" if last is not None else ""
                run = Run(failure={"kind": "crashed", "cell": "", "reason":
                                   f"grading this submission killed {ALLOWED_FAILURES + 1} workers in a row{where}; it "
                                   "was not tried again"})
                return complete(finish(begun, matched, run, assignment, policy["forbidden_functions"],
                                       policy["allowed_functions"], policy["own_rules"]), sub)
            return failed(sub, err)
        if "broken" in out:
            raise ClusterError(f"on worker {out['worker']}: {out['broken']}")
        if "error" in out:
            err = RuntimeError(f"on worker {out['worker']}: {out['error']}")
            err.log = out.get("log", "")
            return failed(sub, err)
        return complete(finish(begun, matched, out["run"], assignment, policy["forbidden_functions"],
                               policy["allowed_functions"], policy["own_rules"]), sub)


def refusal(address: str, info: dict, failures: list[str]) -> str:
    """One message: the worker (address, name, host) and what failed."""
    name = info.get("name")
    host = info.get("host")
    label = address + (f" (name {name}" if name not in (None, "") else " (") + (f", host {host})" if host else ")")
    label = label.replace(" ()", "").replace("(, ", "(")
    return f"worker {label} refused, no submission is graded on it: " + "; ".join(failures)
