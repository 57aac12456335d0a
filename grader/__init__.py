"""Grading autodiff_lab's assignments with nbgrader, in a way an instructor can trust with a class.

    autodiff-lab grade ASSIGNMENT --submissions DIR      (command.py; `make grade` runs the sample class)

The layers, each a file:

    config.py       settings, from nbgrader_config.py (nbgrader's and the pipeline's own)
    release.py      assignments/ generated from solutions/ by nbgrader (`make assignments`)
    assignment.py   an assignment's template, parts, points and hidden probes
    probes/         hidden tests as data: what to harvest in the sandbox, how to judge it outside
    structure.py    a submission matched to the template, the assignment policy checked
    sandbox/        the sandboxed kernel (isolation, limits, the kernel and its harvest helpers)
    runner.py       one submission: run, harvest, judge, status
    pipeline.py     the class on a worker pool; results, gradebook.py, feedback.py, summary.py written by one
                    writer; progress.py
    collect.py      submissions in nbgrader's layout, per student, or from an LMS folder or zip
    sample_class.py the sample class in sample/
"""
