"""Grading autodiff_lab's assignments with nbgrader, in a way an instructor can trust with a class.

    autodiff-lab grade ASSIGNMENT --submissions DIR      (command.py; `make grade` runs the sample class)

The layers, each a file:

    config.py       settings, from nbgrader_config.py (nbgrader's and the pipeline's own)
    release.py      assignments/ generated from solutions/ by nbgrader (`make assignments`)
    assignment.py   an assignment's template, parts, points and hidden probes
    probes/         hidden tests as data: what to harvest in the sandbox, how to judge it outside
    student_text.py what of a student's text a feedback page may show (what the grader can vouch for)
    structure.py    a submission matched to the template, the assignment policy checked; answer_policy.py and
                    answer_names.py read answer cells statically for escapes and engine-made derivatives
    sandbox/        the sandboxed kernel (isolation, uid leases, limits, the kernel, its guard and its harvest;
                    warm starts forked from a zygote)
    graph_backward.py  the backward pass of a harvested Value graph, run here
    kernel_notes.py findings from what the kernel's guard noted at run time
    runner.py       one submission: run, harvest, judge, status
    pipeline.py     the class on a worker pool; results, gradebook.py, feedback.py, summary.py written by one
                    writer; progress.py; faults.py (the course folder's lock, a full disk)
    cluster/        the class on dask.distributed workers (--cluster): admission, tasks, results judged here
    collect.py      submissions in nbgrader's layout, per student, or from an LMS folder or zip: every entry a row
    lms.py, lms_export.py  a roster matched to the submissions; grades in Canvas's or Moodle's import format
    sample_class.py the sample class in sample/
"""
