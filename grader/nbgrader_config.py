"""nbgrader settings for autodiff_lab, plus the grading pipeline's own (Sandbox, Grader).

Read by the pipeline with traitlets' PyFileConfigLoader (nbgrader's Python API does not read it by itself);
nbgrader's own commands, run from the repository root (the course folder), read it through ../nbgrader_config.py.
"""

c = get_config()  # noqa: F821  (provided by traitlets when it loads this file)

# --- course layout: solutions/<assignment>/<assignment>.ipynb are the sources, assignments/ the student copies
c.CourseDirectory.course_id = "autodiff_lab"
c.CourseDirectory.source_directory = "solutions"
c.CourseDirectory.release_directory = "assignments"

# --- plain nbgrader autograde, if an instructor runs it anyway (the pipeline never relies on these)
c.Execute.timeout = 60
c.OverwriteCells.add_missing_cells = True

# --- the pipeline's sandbox: limits per submission, each a positive number (see grader/sandbox/outcomes.py,
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

# --- policy (grader/answer_policy.py reads every answer cell): libraries no submission may import, and per
#     assignment the engine names its answer cells may not use. An answer that uses one is graded
#     needs-manual-grade ("engine-derivative") with the line quoted, however it reaches the name: aliases,
#     submodules (from autodiff_lab import transforms), attribute chains, getattr(ad, "vjp"), or a name the
#     template's own cells imported (a2's setup imports vjp for the self-checks). A name is a function or
#     module of the engine (grad, check.numerical_grad, nn.fit, graph, viz), or an attribute of the built-in
#     rules (.vjps, apply_vjp_rule, ...), or Value's .backward.
c.Grader.forbidden_modules = ["torch", "jax", "jaxlib", "autograd", "micrograd", "tensorflow", "mxnet", "sympy"]
ENGINE_DERIVATIVES = [
    "grad", "value_and_grad", "vjp", "jvp", "jacfwd", "jacrev", "hessian", "hvp",    # the transformations
    "backward_pass", "tracing",                                                      # and what they are made of
    "numerical_grad", "numerical_jacobian", "derivative_along",                      # finite differences
    "vjps", "jvps", "any_arg_vjp", "any_arg_jvp", "apply_vjp_rule", "apply_jvp_rule",  # the built-in rules
    "Dual", "fit", "graph", "viz",          # a forward tracer; training, graphs and drawings run backward passes
    "checkpoint",                           # its backward pass runs vjp on the recomputed function
]
c.Grader.forbidden_functions = {
    "a1_backprop": ENGINE_DERIVATIVES + ["backward"],
    "a2_vjp": ENGINE_DERIVATIVES + ["Value", "unbroadcast", "kept_shape"],   # the engine's sum_to_shape helpers
    "a3_forward_mode": ENGINE_DERIVATIVES + ["Value"],
    "a4_two_layer_net": ENGINE_DERIVATIVES + ["Value", "nn"],
}
# answer cell (grade_id) -> forbidden engine names that cell may use all the same: a3 builds Jacobians from the
# engine's JVPs and VJPs; a1's neuron_loss builds a Value graph, and may run backward on it to look
c.Grader.allowed_functions = {
    "a1_backprop": {"neuron_loss": ["backward"]},
    "a3_forward_mode": {"jacobian_fwd": ["jvp"], "jacobian_rev": ["vjp"]},
}
# answer cells whose Value rules must build Value(data, op=..., parents=(...), local_grads=(...)) themselves:
# Value's own arithmetic there (a * b, (-a).exp(), np.exp(a), sum([a, b])) is graded engine-derivative
c.Grader.own_rules = {"a1_backprop": ["mul_div", "sigmoid_log", "max_router"]}
c.Grader.workers = 0                 # 0: one worker per CPU core

# --- the hidden tests' random inputs: set a new salt each term (e.g. "2026-fall"); --input-salt overrides it.
#     "" draws the inputs the source notebooks' seeds give (grader/README.md, "Fresh hidden inputs each term")
c.Grader.input_salt = ""
