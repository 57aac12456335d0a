"""nbgrader settings for autodiff_lab, plus the grading pipeline's own (Sandbox, Grader).

Read by the pipeline with traitlets' PyFileConfigLoader (nbgrader's Python API does not read it by itself);
to use nbgrader's own commands from the repository root, copy or link this file there as nbgrader_config.py.
"""

c = get_config()  # noqa: F821  (provided by traitlets when it loads this file)

# --- course layout: solutions/<assignment>/<assignment>.ipynb are the sources, assignments/ the student copies
c.CourseDirectory.course_id = "autodiff_lab"
c.CourseDirectory.source_directory = "solutions"
c.CourseDirectory.release_directory = "assignments"

# --- plain nbgrader autograde, if an instructor runs it anyway (the pipeline never relies on these)
c.Execute.timeout = 60
c.OverwriteCells.add_missing_cells = True

# --- the pipeline's sandbox: limits per submission, each a positive number (see grader/sandbox/supervisor.py,
#     Limits); --cell-timeout and --submission-timeout override the first two
c.Sandbox.cell_timeout = 30          # seconds of wall clock per cell
c.Sandbox.submission_timeout = 300   # seconds of wall clock for the whole notebook, cells and harvests
c.Sandbox.interrupt_grace = 2        # seconds a kernel has to stop after the interrupt before it is killed
c.Sandbox.cpu_seconds = 120          # CPU seconds for the whole notebook
c.Sandbox.memory_mb = 2048           # address space
c.Sandbox.processes = 64
c.Sandbox.open_files = 256
c.Sandbox.disk_mb = 64               # the student's working copy and /tmp
c.Sandbox.output_kb = 256            # stdout/stderr kept in the log
c.Sandbox.isolation = "auto"         # auto | namespaces | userns | rlimits

# --- policy: libraries no submission may import, and engine functions an assignment forbids
c.Grader.forbidden_modules = ["torch", "jax", "jaxlib", "autograd", "micrograd", "tensorflow", "mxnet", "sympy"]
c.Grader.forbidden_functions = {
    "a1_backprop": ["grad", "value_and_grad", "vjp", "jacrev", "jacfwd"],
    "a2_vjp": ["jacrev", "jacfwd", "hessian"],
    "a3_forward_mode": ["jacfwd", "jacrev", "hessian"],
    "a4_two_layer_net": ["grad", "value_and_grad", "vjp", "jacrev", "jacfwd"],
}
c.Grader.workers = 0                 # 0: one worker per CPU core

# --- the hidden tests' random inputs: set a new salt each term (e.g. "2026-fall"); --input-salt overrides it.
#     "" draws the inputs the source notebooks' seeds give (grader/README.md, "Fresh hidden inputs each term")
c.Grader.input_salt = ""
