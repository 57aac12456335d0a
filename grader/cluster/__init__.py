"""Grading on a dask.distributed cluster (`autodiff-lab grade ... --cluster tcp://HOST:8786` or `local:N`).

    transfer.py    a submission's files, packed into the task: no shared file system
    admission.py   workers are checked before they get work (sources, versions, a sandbox with the run's limits)
    tasks.py       what a worker runs: the notebook in its sandbox, nothing judged
    pool.py        the client: admission, tasks, results as they finish, judged here; dead workers and schedulers

Only the pipeline imports this package, and only when asked to: dask is an optional extra (autodiff-lab[cluster]).
"""
