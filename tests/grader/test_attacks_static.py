"""Attacks on the static policy over answer cells (grader/answer_policy.py), as a student who has read the grader's
source would write them: doors to objects the answer did not create must be `escape` (tampered), derivatives the
engine makes must be `engine-derivative` (needs-manual-grade), each finding quoting the line. Every attack is put
in a real answer cell of the released notebook, the other cells right, under the shipped grading config."""

import copy
import glob
from functools import cache

import pytest

from grader.assignment import cell_settings, load_assignment
from grader.config import DEFAULT_CONFIG, REPO, load_config, load_settings
from grader.runner import status_of
from grader.structure import grade_id, match, read_notebook

GRADER = load_settings(load_config())[1]
POLICY_CODES = ("escape", "engine-derivative", "forbidden-import")
TRANSFORMATIONS = ["grad", "value_and_grad", "vjp", "jvp", "jacfwd", "jacrev", "hessian", "hvp"]
FINITE_DIFFERENCES = ["numerical_grad", "numerical_jacobian", "derivative_along"]


@cache
def _loaded(aid):
    a = load_assignment(aid)
    return a, a.reference_notebook()


def settings(aid):
    a, _ = _loaded(aid)
    return {"forbidden_modules": GRADER.forbidden_modules,
            "forbidden_functions": GRADER.forbidden_functions.get(aid, []),
            **cell_settings(aid, a.template, GRADER.allowed_functions, GRADER.own_rules)}


def policy(notebook, aid):
    """The policy findings (escape, engine-derivative, forbidden-import) of a notebook of assignment `aid`."""
    return [v for v in match(notebook, _loaded(aid)[0].template, **settings(aid)).violations if v.code in POLICY_CODES]


def answer(aid, gid, source):
    """The findings when answer cell `gid` of an otherwise right notebook holds `source`."""
    nb = copy.deepcopy(_loaded(aid)[1])
    next(c for c in nb["cells"] if grade_id(c) == gid)["source"] = source
    return policy(nb, aid)


def flags(found, code, source, text):
    """Assert a finding `code` quotes the line of `source` that contains `text` ("line N: <line>")."""
    lines = source.splitlines()
    n = next(i for i, line in enumerate(lines, 1) if text in line)
    quote = f"line {n}: {lines[n - 1].strip()}"
    assert any(v.code == code and quote in v.message for v in found), (code, quote, [v.message for v in found])


def a2(source):
    return answer("a2_vjp", "elementwise", source)


RULES = "\n\ndef vjp_exp(g, ans, x):\n    return g * ans\n"


# --- escape doors (tampered) ------------------------------------------------------------------------------------

def test_sys_modules_through_the_engines_own_imports():
    """Attack: reach sys.modules through a module the engine imported (autodiff_lab.backend.sys) and patch the
    checker."""
    src = "from autodiff_lab import backend\nbackend.sys.modules['grader.probes'].compare = print\n" + RULES
    found = a2(src)
    flags(found, "escape", src, "backend.sys")
    assert status_of(None, found) == "tampered"


def test_sys_through_a_numpy_submodule():
    """Attack: numpy's public submodules import sys; walk there by attributes only."""
    flags(a2(src := "np.matrixlib.defmatrix.sys.modules.clear()\n"), "escape", src, "defmatrix")


def test_npyio_os_from_numpy():
    """Attack: from numpy.lib import npyio; npyio.os.system(...) (os is an attribute of a numpy module)."""
    src = "from numpy.lib import npyio\nnpyio.os.system('cp ../*.ipynb /tmp')\n"
    found = a2(src)
    flags(found, "escape", src, "import npyio")
    flags(found, "escape", src, "npyio.os")


def test_gc_get_objects():
    """Attack: import gc and find the grader's objects among all live ones."""
    flags(a2(src := "import gc\nfor obj in gc.get_objects():\n    pass\n"), "escape", src, "import gc")


def test_a_frame_through_an_exceptions_traceback():
    """Attack: raise and catch to get a traceback, then walk frames up to the caller's locals."""
    src = ("def vjp_tanh(g, ans, x):\n    try:\n        raise ValueError\n    except ValueError as err:\n"
           "        caller = err.__traceback__.tb_frame.f_back\n    return caller.f_locals['expected']\n")
    found = a2(src)
    flags(found, "escape", src, "__traceback__")
    flags(found, "escape", src, "f_locals")


def test_class_subclasses():
    """Attack: ().__class__.__base__.__subclasses__() lists every class of the process (loaders, the harvest)."""
    flags(a2(src := "loaders = ().__class__.__base__.__subclasses__()\n"), "escape", src, "__subclasses__")


def test_getattr_with_a_computed_name():
    """Attack: getattr(np, 'sa' + 'vez') hides the attribute's name from a reader."""
    flags(a2(src := "save = getattr(np, 'sa' + 'vez')\n"), "escape", src, "getattr")


def test_getattr_with_a_literal_dunder_or_internal_name():
    """Attack: getattr with a literal name is read as the attribute itself: '__code__', 'tb_frame'."""
    src = "code = getattr(vjp_exp, '__code__')\nframe = getattr(tb, 'tb_frame')\ncore = getattr(np, '_core')\n" + RULES
    found = a2(src)
    flags(found, "escape", src, "__code__")
    flags(found, "escape", src, "tb_frame")
    flags(found, "escape", src, "_core")


def test_getattr_passed_around_as_a_value():
    """Attack: functools.reduce(getattr, names, np) reads attributes named at run time."""
    src = "import functools\nsave = functools.reduce(getattr, ['sa' + 'vez'], np)\n"
    flags(a2(src), "escape", src, "reduce(getattr")


def test_setattr_on_a_module():
    """Attack: setattr(np, 'allclose', ...) makes every comparison pass."""
    flags(a2(src := "setattr(np, 'allclose', lambda *a, **k: True)\n"), "escape", src, "setattr")


def test_rebinding_a_numpy_function():
    """Attack: np.sum = ... changes what every later cell and the harvest computes."""
    flags(a2(src := "np.sum = lambda *a, **k: 0.0\n" + RULES), "escape", src, "np.sum =")


def test_replacing_values_backward_in_a1():
    """Attack: Value.backward = ... in an a1 answer cell: the test cell's backward passes would be the student's."""
    src = answer_source = "Value.backward = lambda self: None\n"
    flags(answer("a1_backprop", "add_mul", answer_source), "escape", src, "Value.backward")


@pytest.mark.parametrize("src", ["x = 1\n%load ../../solutions/a2_vjp/a2_vjp.ipynb\n", "!cat ../../grader/probes.py\n",
                                 "x = 1\n%run -i /tmp/patch.py\n", "files = !ls ..\n", "%%bash\nls ..\n"])
def test_ipython_magics_and_shell_lines(src):
    """Attack: magics and shell lines run before the policy would see any Python (they become get_ipython())."""
    magic = next(line for line in src.splitlines() if "%" in line or "!" in line)
    flags(a2(src), "escape", src, magic)


def test_get_ipython_namespace():
    """Attack: get_ipython().user_ns holds everything the kernel defined, the harvest included."""
    flags(a2(src := "get_ipython().user_ns['np'] = None\n"), "escape", src, "get_ipython")


@pytest.mark.parametrize("line", [
    "exec('import o' + 's')", "eval('__import__(\"os\")')", "code = compile('1', 'x', 'eval')",
    "g = globals()", "l = locals()", "v = vars(np)", "f = open('/etc/passwd')", "breakpoint()",
    "x = input()", "help(np)", "m = memoryview(b'x')", "b = __builtins__", "loader = __loader__",
    "spec = __spec__", "os = __import__('os')", "exit()", "delattr(np, 'sum')"])
def test_names_that_reach_outside_the_answer(line):
    """Attack: builtins that run text as code, list namespaces, open files or import by name."""
    flags(a2(line + "\n"), "escape", line, line[:6])


def test_aliasing_a_module_then_storing():
    """Attack: m = np; m.savez = ... (the store is on a name that is the module)."""
    flags(a2(src := "m = np\nm.savez = np.save\n"), "escape", src, "m.savez")


def test_module_returned_by_a_lambda():
    """Attack: (lambda: np)().savez = f hides the module behind a call."""
    found = a2(src := "(lambda: np)().savez = print\n")
    flags(found, "escape", src, "lambda")
    assert any("as a value" in v.message for v in found)


def test_module_passed_to_a_function_that_patches_it():
    """Attack: def patch(m): m.allclose = ...; patch(np): the store is on a parameter."""
    src = "def patch(m):\n    m.allclose = print\n\n\npatch(np)\n"
    found = a2(src)
    flags(found, "escape", src, "m.allclose")
    flags(found, "escape", src, "patch(np)")


def test_walrus_alias():
    """Attack: (m := np).allclose = print: an assignment expression instead of a statement."""
    flags(a2(src := "(m := np).allclose = print\n"), "escape", src, ":= np")


def test_mutating_the_engines_rule_table_in_place():
    """Attack: anp.tanh.vjps.update(...) swaps the engine's own rule without any attribute store."""
    src = "import autodiff_lab.numpy as anp\nanp.tanh.vjps.update({0: lambda g, ans, x: g})\n"
    flags(a2(src), "escape", src, "update")


def test_storing_into_the_engines_rule_table():
    """Attack: anp.tanh.vjps[0] = ... (a subscript store into what a module holds)."""
    src = "import autodiff_lab.numpy as anp\nanp.tanh.vjps[0] = lambda g, ans, x: g\n"
    flags(a2(src), "escape", src, "vjps[0]")


def test_replacing_a_template_primitives_rules():
    """Attack: my_tanh.vjps = {...}: the template's primitive, changed by attribute store instead of defvjp."""
    flags(a2(src := "my_tanh.vjps = {0: lambda g, ans, x: g}\n"), "escape", src, "my_tanh.vjps")


def test_importlib_with_a_computed_name():
    """Attack: importlib.import_module('o' + 's'): the module's name never appears in the cell."""
    src = "import importlib\nos = importlib.import_module('o' + 's')\n"
    found = a2(src)
    flags(found, "escape", src, "import importlib")
    flags(found, "escape", src, "import_module(")


def test_private_names_of_numpy_and_the_engine():
    """Attack: np._core and the engine's private modules are not the public API an answer needs."""
    src = "import autodiff_lab.numpy as anp\nf = np._core.multiarray.copyto\nm = anp._math\n"
    found = a2(src)
    flags(found, "escape", src, "np._core")
    flags(found, "escape", src, "anp._math")


def test_dunder_names_assigned_in_a_class_body():
    """Attack: a class whose body sets __class__ (isinstance checks lie) or __module__."""
    src = "class Sneaky:\n    __class__ = property(lambda self: np.ndarray)\n    __module__ = 'numpy'\n"
    found = a2(src)
    flags(found, "escape", src, "__class__ =")
    flags(found, "escape", src, "__module__ =")


def test_closure_cells():
    """Attack: a function's closure cells are writable: vjp_exp.__closure__[0].cell_contents = ..."""
    flags(a2(src := "vjp_exp.__closure__[0].cell_contents = 0\n" + RULES), "escape", src, "__closure__")


def test_a_generators_frame():
    """Attack: a generator's gi_frame reaches frames without sys._getframe."""
    flags(a2(src := "gen = (x for x in [1])\nframe = gen.gi_frame.f_back\n"), "escape", src, "gi_frame")


def test_deleting_a_module_attribute():
    """Attack: del np.allclose makes the checker's import fail over to something else."""
    flags(a2(src := "del np.allclose\n"), "escape", src, "del np")


def test_attribute_pattern_in_a_match_statement():
    """Attack: `case C(__traceback__=tb)` reads an attribute without writing a dot."""
    src = ("try:\n    1 / 0\nexcept ZeroDivisionError as err:\n    match err:\n"
           "        case ZeroDivisionError(__traceback__=tb):\n            frame = tb\n")
    flags(a2(src), "escape", src, "case ZeroDivisionError")


def test_a_method_that_rebinds_self():
    """Attack: self = np inside a method, then self.allclose = ... looks like an instance store."""
    src = "class Patch:\n    def apply(self):\n        self = np\n        self.allclose = print\n"
    flags(a2(src), "escape", src, "self.allclose")


def test_a_global_declaration_to_reach_a_builtin():
    """Attack: a function that declares `global open` uses the builtin, not a local of its own."""
    src = "def sneaky():\n    global open\n    return open('/etc/passwd').read()\n"
    flags(a2(src), "escape", src, "return open")


@pytest.mark.parametrize("line", [
    "data = np.load('answers.npy', allow_pickle=True)", "x.tofile('/tmp/leak')",
    "view = np.lib.stride_tricks.as_strided(x, shape=(10**6,), strides=(8,))", "address = x.ctypes.data",
    "lib = np.ctypeslib", "import numpy.f2py"])
def test_numpy_doors_to_files_and_memory(line):
    """Attack: numpy reads pickles, writes files and makes views of raw memory."""
    flags(a2(line + "\n"), "escape", line, line[:8])


def test_stdlib_doors_through_allowed_modules():
    """Attack: allowed modules hold doors: string.Formatter().get_field evaluates attribute paths, typing.sys is
    sys, typing.get_type_hints evaluates annotations."""
    src = ("import string\nimport typing\nobj = string.Formatter().get_field('0.__globals__', [vjp_exp], {})\n"
           "mods = typing.sys.modules\nhints = typing.get_type_hints(vjp_exp)\n" + RULES)
    found = a2(src)
    for text in ("get_field", "typing.sys", "get_type_hints"):
        flags(found, "escape", src, text)


def test_imports_beyond_the_allowed_modules():
    """Attack: modules an answer never needs (os inside a function, operator, a relative import)."""
    src = "import operator\nfrom . import harvest\n\ndef vjp_tanh(g, ans, x):\n    import os\n    return g\n"
    found = a2(src)
    for text in ("import operator", "from . import", "import os"):
        flags(found, "escape", src, text)


def test_a_mutating_method_taken_as_a_bound_method_or_unbound():
    """Attack: f = anp.tanh.vjps.update; f({...}) and dict.update(anp.tanh.vjps, {...}): no call on the chain."""
    src = ("import autodiff_lab.numpy as anp\nf = anp.tanh.vjps.update\nf({0: print})\n"
           "dict.update(my_tanh.vjps, {0: print})\n")
    found = a2(src)
    flags(found, "escape", src, "f = anp")
    flags(found, "escape", src, "dict.update")


def test_a_modules_rule_table_handed_to_a_function():
    """Attack: def f(d): d[0] = ...; f(anp.tanh.vjps): the store is on a parameter, the table is the engine's."""
    src = "import autodiff_lab.numpy as anp\n\n\ndef f(d):\n    d[0] = print\n\n\nf(anp.tanh.vjps)\n"
    flags(a2(src), "escape", src, "f(anp.tanh.vjps)")


def test_rules_given_to_the_engines_own_functions():
    """Attack: defvjp(anp.multiply, ...) replaces a rule the engine (and anything built on it) relies on."""
    src = "import autodiff_lab.numpy as anp\ndefvjp(anp.multiply, lambda g, ans, x, y: g, None)\n"
    flags(a2(src), "escape", src, "defvjp(anp.multiply")


def test_ipythons_output_history():
    """Attack: Out and _3 hold what earlier cells displayed, the kernel's objects included."""
    src = "seen = Out\nlast = _3\n"
    found = a2(src)
    flags(found, "escape", src, "Out")
    flags(found, "escape", src, "_3")


def test_functools_singledispatch_evaluates_annotations():
    """Attack: singledispatch's register() evaluates a string annotation: code hidden in a string."""
    src = "import functools\nf = functools.singledispatch(print)\n"
    flags(a2(src), "escape", src, "singledispatch")


def test_code_nested_too_deeply_to_read():
    """Attack: an expression nested thousands deep, which Python runs but no recursive reader follows."""
    src = "x = " + "+".join(["a"] * 2000) + "\n"
    found = a2(src)
    assert [v.code for v in found] == ["escape"] and "nested too deeply" in found[0].message


def test_an_answer_cell_too_long_to_read():
    """Attack: a cell of megabytes (the size check allows 64 MiB) to exhaust the grader's time and memory."""
    found = a2("x = 1\n" * 20_000)
    assert [v.code for v in found] == ["escape"] and "characters long" in found[0].message


def test_attack_a_method_taken_from_its_class_can_be_called_on_an_engine_class():
    """Attack: a method that stores on self, called through its class with the engine's Primitive (or a
    module, or anything) as self: Primitive.apply_vjp_rule = fake without writing a store on a foreign object."""
    src = ("from autodiff_lab import Primitive\nclass C:\n    def __init__(self, v):\n        self.apply_vjp_rule = v\n"
           "C.__init__(Primitive, print)\nset_on = getattr(C, '__init__')\ntype(C(1)).__init__(Primitive, 2)\n")
    found = a2(src + RULES)
    for text in ("C.__init__(Primitive, print)", "set_on = getattr", "type(C(1)).__init__"):
        flags(found, "escape", src, text)


def test_honest_code_with_builtin_like_names_and_classes_is_not_an_escape():
    """Parameters named like builtins, __name__, a class that stores on self and defines operators: no finding."""
    src = ("def scale(input, vars):\n    return input * vars\n\n\nclass Pair:\n    __slots__ = ('a', 'b')\n\n"
           "    def __init__(self, a, b):\n        self.a = a\n        self.b = b\n\n"
           "    def __add__(self, other):\n        return Pair(self.a + other.a, self.b + other.b)\n\n"
           "    __radd__ = __add__\n    __hash__ = None\n\n\n"
           "key = getattr(Pair(1, 2), 'a'), Pair(1, 2).__add__, np.__version__\n"
           "if __name__ == '__main__':\n    print(np.linalg.norm(np.ones(3)), np.random.default_rng(0).normal())\n"
           "import string\nimport autodiff_lab.numpy as anp\nletters, name, tau = string.ascii_letters, "
           "anp.tanh.name, 2 * np.pi\nxs = []\nxs.append(np.pi)\nfor _ in range(2):\n    pass\n")
    assert a2(src) == []


def test_a_cell_that_does_not_parse_has_no_policy_finding():
    """Fault: a syntax error is the kernel's to report (it raises before anything runs), not an escape."""
    assert a2("def vjp_tanh(g, ans, x:\n    exec('x')\n") == []


# --- engine-made derivatives (needs-manual-grade) ---------------------------------------------------------------

def test_a2_rule_as_the_engines_vjp_through_an_alias():
    """Attack: a2's tanh rule written as the engine's own VJP of anp.tanh, through `import autodiff_lab as ad`."""
    src = ("import autodiff_lab as ad\nimport autodiff_lab.numpy as anp\n\n\ndef vjp_tanh(g, ans, x):\n"
           "    return ad.vjp(anp.tanh, x)[1](g)[0]\n")
    found = a2(src)
    flags(found, "engine-derivative", src, "ad.vjp")
    assert status_of(None, found) == "needs-manual-grade"


def test_a2_rule_with_the_vjp_the_template_imported():
    """Attack: a2's setup imports vjp for the self-checks; an answer cell uses it as its rule."""
    src = "def vjp_tanh(g, ans, x):\n    return vjp(my_tanh, x)[1](g)[0]\n"
    flags(a2(src), "engine-derivative", src, "vjp(my_tanh")


def test_a4_value_and_grad_through_a_submodule():
    """Attack: a4's gradients from `from autodiff_lab import transforms; transforms.value_and_grad`."""
    src = ("from autodiff_lab import transforms\n\n\ndef two_layer_loss(params, X, y, reg, loss='softmax'):\n"
           "    return transforms.value_and_grad(lambda p: 0.0)(params)\n")
    flags(answer("a4_two_layer_net", "two_layer", src), "engine-derivative", src, "transforms.value_and_grad")


def test_a4_grad_imported_from_a_submodule_under_another_name():
    """Attack: from autodiff_lab.transforms import grad as g."""
    src = "from autodiff_lab.transforms import grad as g\n\n\ndef f(params):\n    return g(len)(params)\n"
    found = answer("a4_two_layer_net", "two_layer", src)
    flags(found, "engine-derivative", src, "import grad as g")
    flags(found, "engine-derivative", src, "return g(len)")


def test_a_full_attribute_chain_to_the_engine():
    """Attack: import autodiff_lab; autodiff_lab.transforms.jacrev(f)(x) (no from-import to search for)."""
    src = "import autodiff_lab\nJ = autodiff_lab.transforms.jacrev(np.tanh)(np.ones(3))\n"
    flags(a2(src), "engine-derivative", src, "jacrev")


def test_getattr_with_a_literal_engine_name():
    """Attack: getattr(ad, 'value_and_grad') instead of ad.value_and_grad."""
    src = "import autodiff_lab as ad\nmake = getattr(ad, 'value_and_grad')\n"
    flags(answer("a4_two_layer_net", "two_layer", src), "engine-derivative", src, "getattr")


def test_an_engine_function_renamed_by_assignment():
    """Attack: make = ad.vjp; later make(f, x): the forbidden name appears once, far from its use."""
    src = "import autodiff_lab as ad\nmake = ad.vjp\n\n\ndef vjp_tanh(g, ans, x):\n    return make(my_tanh, x)\n"
    found = a2(src)
    flags(found, "engine-derivative", src, "make = ad.vjp")
    flags(found, "engine-derivative", src, "return make(")


def test_the_engines_built_in_rule_called_directly():
    """Attack: a2's rule is the engine's own rule of anp.tanh, read from its rule table (.vjps)."""
    src = ("import autodiff_lab.numpy as anp\n\n\ndef vjp_tanh(g, ans, x):\n"
           "    return anp.tanh.vjps[0](g, ans, x)\n")
    flags(a2(src), "engine-derivative", src, "vjps[0]")


def test_the_engines_rule_applied_through_apply_vjp_rule():
    """Attack: anp.softmax.apply_vjp_rule(...) runs the built-in softmax rule for a2's softmax part."""
    src = ("import autodiff_lab.numpy as anp\n\n\ndef vjp_softmax(g, ans, x):\n"
           "    return anp.softmax.apply_vjp_rule(0, g, ans, [x], {})\n")
    flags(answer("a2_vjp", "softmax", src), "engine-derivative", src, "apply_vjp_rule")


def test_a_rule_table_reached_through_an_alias_name():
    """Attack: rules = anp.tanh.vjps at the top, rules[0] inside the function."""
    src = "import autodiff_lab.numpy as anp\nrules = anp.tanh.vjps\n"
    flags(a2(src), "engine-derivative", src, "rules = ")


def test_finite_differences_the_template_imported():
    """Attack: a4's self-check cell imports numerical_grad; the svm answer takes its gradient from it."""
    src = ("def svm_loss(scores, y):\n    loss = float(np.mean(scores))\n"
           "    return loss, numerical_grad(lambda s: float(np.mean(s)), scores)\n")
    flags(answer("a4_two_layer_net", "svm_loss", src), "engine-derivative", src, "numerical_grad(")


def test_finite_differences_from_the_checkers_submodule():
    """Attack: from autodiff_lab.check.finite_differences import numerical_jacobian for a2's matmul rule."""
    src = ("from autodiff_lab.check.finite_differences import numerical_jacobian as J\n\n\n"
           "def vjp_matmul_X(g, ans, X, W):\n    return g\n")
    flags(answer("a2_vjp", "matmul", src), "engine-derivative", src, "numerical_jacobian")


def test_a_star_import_of_the_engine():
    """Attack: from autodiff_lab import * binds grad without writing its name."""
    src = "from autodiff_lab import *\n"
    flags(answer("a4_two_layer_net", "two_layer", src), "engine-derivative", src, "import *")


def test_a4_training_with_the_engines_nn():
    """Attack: a4's train() delegates to autodiff_lab.nn.fit, which takes gradients with grad."""
    src = "from autodiff_lab import nn\n\n\ndef train(X, y, **kw):\n    return nn.fit(None, None, X, y)\n"
    flags(answer("a4_two_layer_net", "train", src), "engine-derivative", src, "nn.fit")


def test_a3_dual_functions_through_the_engines_forward_tracer():
    """Attack: a3's d_sin pushes a tangent through anp.sin with the engine's Dual instead of writing the rule."""
    src = "from autodiff_lab import Dual\n\n\ndef d_sin(u):\n    return Dual\n"
    flags(answer("a3_forward_mode", "dual_functions", src), "engine-derivative", src, "import Dual")


def test_a3_jacobian_cells_may_use_only_their_own_transformation():
    """Attack: a3 allows jvp in jacobian_fwd and vjp in jacobian_rev (Grader.allowed_functions), nothing more:
    jacfwd or vjp in jacobian_fwd, and jvp in the JVP-rule cell, are flagged."""
    right = "def jacobian_fwd(f, x):\n    return np.stack([jvp(f, (x,), (e,))[1] for e in np.eye(x.size)], axis=1)\n"
    assert answer("a3_forward_mode", "jacobian_fwd", right) == []
    src = "import autodiff_lab as ad\n\n\ndef jacobian_fwd(f, x):\n    return ad.jacfwd(f)(x) + vjp(f, x)[0]\n"
    found = answer("a3_forward_mode", "jacobian_fwd", src)
    flags(found, "engine-derivative", src, "jacfwd")
    assert "jacfwd" in " ".join(v.message for v in found)
    src = "def jvp_tanh(t, ans, x):\n    return jvp(np.tanh, (x,), (t,))[1]\n"
    flags(answer("a3_forward_mode", "jvp_rules", src), "engine-derivative", src, "return jvp(")


def test_a1_rule_as_values_own_product():
    """Attack: a1's v_mul = lambda a, b: a * b reuses Value's multiplication (its local gradients)."""
    src = "v_mul = lambda a, b: a * b\nv_div = lambda a, b: a / b\n"
    found = answer("a1_backprop", "mul_div", src)
    flags(found, "engine-derivative", src, "a * b")
    flags(found, "engine-derivative", src, "a / b")


def test_a1_sigmoid_rebuilt_from_value_expressions():
    """Attack: v_sigmoid returns (1 + (-a).exp()) ** -1 and v_log returns a.log()."""
    src = "def v_sigmoid(a):\n    return (1 + (-a).exp()) ** -1\n\n\ndef v_log(a):\n    return a.log()\n"
    found = answer("a1_backprop", "sigmoid_log", src)
    flags(found, "engine-derivative", src, "(-a).exp()")
    flags(found, "engine-derivative", src, "a.log()")


def test_a1_values_given_to_library_functions_and_builtins():
    """Attack: np.exp(a) calls a.exp(); max(a, b) and sum([a, b]) use Value's operators inside the builtin."""
    src = ("def v_max(a, b):\n    return max(a, b) if sum([a, b]).data else np.exp(a)\n")
    flags(answer("a1_backprop", "max_router", src), "engine-derivative", src, "sum([a, b])")


def test_a1_value_arithmetic_behind_a_helper_function():
    """Attack: the rule calls a helper with the Values, and the helper does the arithmetic; also Value.__mul__."""
    src = ("def _times(x, y):\n    return x * y\n\n\ndef v_mul(a, b):\n    return _times(a, b)\n\n\n"
           "def v_div(a, b):\n    return Value.__mul__(a, b ** -1)\n")
    found = answer("a1_backprop", "mul_div", src)
    flags(found, "engine-derivative", src, "x * y")
    flags(found, "engine-derivative", src, "Value.__mul__")


def test_a1_by_hand_parts_may_not_run_backward():
    """Attack: a1's add_mul 'by hand' builds Values and reads their .grad after the engine's backward pass."""
    src = ("def add_mul_backprop(x, y, z):\n    vx, vy, vz = Value(x), Value(y), Value(z)\n    f = (vx + vy) * vz\n"
           "    f.backward()\n    return f.data, (vx.grad, vy.grad, vz.grad)\n")
    flags(answer("a1_backprop", "add_mul", src), "engine-derivative", src, "f.backward()")


def test_a1_rules_on_floats_in_helpers_are_not_flagged():
    """A helper on floats (called with a.data), max with a key, and the Value(...) node are the intended answer."""
    src = ("def _sig(x):\n    return 1.0 / (1.0 + math.exp(-x))\n\n\ndef v_sigmoid(a):\n    s = _sig(a.data)\n"
           "    return Value(s, op='sigmoid', parents=(a,), local_grads=(s * (1.0 - s),))\n\n\n"
           "def v_log(a):\n    return Value(math.log(a.data), op='log', parents=(a,), local_grads=(1.0 / a.data,))\n")
    assert answer("a1_backprop", "sigmoid_log", src) == []


def test_a1_max_router_choosing_by_data_is_not_flagged():
    """max(a, b, key=...) picks a Value by its float data: no Value arithmetic, so no finding."""
    src = ("def v_max(a, b):\n    winner = max(a, b, key=lambda v: v.data)\n"
           "    return Value(winner.data, op='max', parents=(a, b), local_grads=(float(winner is a), "
           "float(winner is b)))\n")
    assert answer("a1_backprop", "max_router", src) == []


# --- the shipped config, the solutions and the sample class -----------------------------------------------------

def test_the_shipped_config_forbids_every_derivative_maker_where_the_student_writes_derivatives():
    """Fault: a hurried instructor's config that leaves a transformation or finite differences open in a1, a2 or a4."""
    for aid in ("a1_backprop", "a2_vjp", "a4_two_layer_net"):
        assert set(TRANSFORMATIONS + FINITE_DIFFERENCES + ["vjps", "apply_vjp_rule"]) <= set(
            GRADER.forbidden_functions[aid]), aid
    assert GRADER.allowed_functions["a3_forward_mode"] == {"jacobian_fwd": ["jvp"], "jacobian_rev": ["vjp"]}
    assert GRADER.own_rules["a1_backprop"] == ["mul_div", "sigmoid_log", "max_router"]


def test_a_misshapen_or_misspelt_cell_setting_is_a_clear_error():
    """Fault: allowed_functions given as a list, or naming a cell that does not exist: an error that says which."""
    with pytest.raises(ValueError, match=r"Grader.allowed_functions maps each assignment to a dict"):
        load_settings(load_config(DEFAULT_CONFIG), {"Grader": {"allowed_functions": {"a3_forward_mode": ["jvp"]}}})
    a, _ = _loaded("a3_forward_mode")
    with pytest.raises(ValueError, match=r"'jacobian_fwdd', which is not an answer cell of a3_forward_mode"):
        cell_settings("a3_forward_mode", a.template, {"a3_forward_mode": {"jacobian_fwdd": ["jvp"]}}, {})


@pytest.mark.parametrize("aid", ["a1_backprop", "a2_vjp", "a3_forward_mode", "a4_two_layer_net"])
def test_the_reference_solutions_have_no_policy_finding(aid):
    """Every solution answer cell passes: a false positive there would fail the reference check of the class."""
    assert policy(_loaded(aid)[1], aid) == []


SAMPLE_ESCAPES = {   # the sample students whose answers really reach outside (their statuses do not change)
    "finn": ("reductions", "import os"),        # os._exit: crashed first
    "gus": ("shapes", "import sys"),            # segfault: crashed first
    "max": ("elementwise", "numpy.allclose"),   # patches numpy, the checker, IPython, builtins: tampered already
}


def test_the_sample_class_has_no_new_finding_but_its_real_cheats():
    """Every sample submission: no engine-derivative; escapes only where the student really reaches outside."""
    seen = {}
    for path in sorted(glob.glob(str(REPO / "grader" / "sample" / "submitted" / "*" / "*" / "*.ipynb"))):
        student, aid = path.split("/")[-3], path.split("/")[-2]
        try:
            nb = read_notebook(path)
        except ValueError:
            continue                                # ivy's corrupt notebook: invalid, never matched
        for v in policy(nb, aid):
            seen.setdefault(student, set()).add((v.code, v.cell))
            if student in SAMPLE_ESCAPES and v.code == "escape":
                assert v.cell == SAMPLE_ESCAPES[student][0]
    assert seen.pop("nia") == {("forbidden-import", "elementwise")}
    assert seen == {s: {("escape", cell)} for s, (cell, _) in SAMPLE_ESCAPES.items()}

