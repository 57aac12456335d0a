"""Loss functions, each the mean over the batch (axis 0) of a per-example loss, written with anp functions
so that grad differentiates them (cross-entropy is one primitive with its own rules); and the L2 penalty
and accuracy.

    mse                    mean of (pred - target)^2 over every entry
    logistic_loss          log(1 + e^(-y z)),                                  y in {-1, +1}
    softmax_cross_entropy  -log softmax(s)[y] = logsumexp(s) - s_y,            y in {0, ..., C-1}
    cross_entropy          -sum_k t_k log softmax(s)_k                        t: rows of probabilities
    svm_loss               sum over j != y of max(0, s_j - s_y + margin)      (multiclass hinge)
    kl_divergence          sum_k p_k log(p_k / q_k)                           (0 log 0 = 0)

Labels are checked before anything is computed: a wrong shape or an out-of-range label would otherwise
broadcast or index into a silently wrong number.
Targets that are data (not traced) first become arrays of the predictions' library and dtype: lists work
like arrays, and float64 targets leave a float32 loss in float32. Scores given as lists become arrays too.
"""

from __future__ import annotations

from typing import Any

from .. import numpy as anp
from ..backend import asarray, is_array, isdtype, namespace, shape
from ..numpy.elementwise import astype_like
from ..primitive import defjvp, defvjp, primitive
from ..pytree import tree_flatten
from ..tracing import Tracer, raw


def mse(pred: Any, target: Any) -> Any:
    """Mean squared error: the mean of (pred - target)^2 over every entry. Shapes must match exactly."""
    pred = _scores(pred)
    target = _targets(target, pred)
    _same_shape("mse", pred, "pred", target, "target")
    diff = pred - target
    return anp.mean(diff * diff)


def logistic_loss(z: Any, y: Any) -> Any:
    """mean log(1 + e^(-y z)) for scores z and labels y in {-1, +1} of the same shape.

    Written as logaddexp(0, -y z), which never overflows: a score of -1000 with y = +1 costs 1000, not inf."""
    z = _scores(z)
    y = _labels(y, z)
    _same_shape("logistic_loss", z, "z", y, "y")
    _check_signs("logistic_loss", y)
    y = astype_like(y, z)  # integer labels would promote float32 scores to float64
    return anp.mean(anp.logaddexp(0.0, -(y * z)))


def softmax_cross_entropy(logits: Any, labels: Any) -> Any:
    """mean over the batch of -log softmax(logits)[label]: logits (batch, C), integer labels (batch,).

    Its gradient is the famous (softmax(logits) - one_hot(labels)) / batch."""
    logits = _scores(logits)
    return _cross_entropy(logits, _one_hot_labels("softmax_cross_entropy", logits, labels), one_hot=True)


def cross_entropy(logits: Any, targets: Any) -> Any:
    """mean over the batch of -sum_k targets_k log softmax(logits)_k for targets that are rows of
    probabilities (soft labels), both (batch, C). Differentiable in both arguments."""
    logits = _scores(logits)
    if len(shape(logits)) != 2:
        raise ValueError(f"cross_entropy needs logits of shape (batch, classes), got shape {shape(logits)}")
    targets = _targets(targets, logits)
    _same_shape("cross_entropy", logits, "logits", targets, "targets")
    return _cross_entropy(logits, targets)


@primitive
def _cross_entropy(logits, targets, one_hot=False):
    """mean over the rows of -sum_k targets_k log softmax(logits)_k; logits and targets (batch, C), each row
    of targets usually a distribution (one_hot=True: a one-hot row for a hard label). log softmax = logits -
    logsumexp(logits) is computed stably, so huge logits do not overflow.

    As one primitive its VJP is a single formula, g (softmax(logits) * rowsum(targets) - targets) / batch,
    which is softmax minus targets when the rows sum to 1, instead of the chain through log_softmax, the
    product with the targets and the sum: the step that dominates the loss's cost when the batch is small."""
    xp = namespace(logits, targets)
    shifted = logits - xp.max(logits, axis=-1, keepdims=True)  # log_softmax written out: 5 numpy calls fewer
    log_probs = shifted - xp.log(xp.sum(xp.exp(shifted), axis=-1, keepdims=True))
    return xp.sum(targets * log_probs) / -_rows(logits)


def _rows(x):
    return shape(x)[0] or 1  # an empty batch has loss 0, not 0 / 0


def _logits_gradient(logits, targets, one_hot):
    """d/d logits of -sum_k targets_k log softmax(logits)_k, row by row."""
    if one_hot:
        return anp.softmax(logits, axis=-1) - targets
    return anp.softmax(logits, axis=-1) * anp.sum(targets, axis=-1, keepdims=True) - targets


defvjp(
    _cross_entropy,
    lambda g, ans, logits, targets, one_hot=False: _logits_gradient(logits, targets, one_hot) * (g / _rows(logits)),
    lambda g, ans, logits, targets, one_hot=False: anp.log_softmax(logits, axis=-1) * (-g / _rows(logits)),
)
defjvp(
    _cross_entropy,
    lambda t, ans, logits, targets, one_hot=False: (
        anp.sum(_logits_gradient(logits, targets, one_hot) * t) / _rows(logits)
    ),
    lambda t, ans, logits, targets, one_hot=False: -anp.sum(anp.log_softmax(logits, axis=-1) * t) / _rows(logits),
)


def svm_loss(scores: Any, labels: Any, margin: float = 1.0) -> Any:
    """Multiclass hinge loss: mean over the batch of sum_{j != y} max(0, s_j - s_y + margin).

    scores (batch, C), integer labels (batch,). A class costs nothing once its score is `margin` below the
    correct one."""
    scores = _scores(scores)
    n = shape(scores)[0]
    is_correct = _one_hot_labels("svm_loss", scores, labels)
    correct = anp.sum(scores * is_correct, axis=-1, keepdims=True)
    hinge = anp.relu(scores - correct + margin)
    return anp.sum(anp.where(is_correct == 1, 0.0, hinge)) / n


def kl_divergence(p: Any, q: Any) -> Any:
    """KL(p || q) = sum_k p_k log(p_k / q_k) over the last axis (distributions), averaged over the others.

    p is the target distribution, q the predicted one (e.g. a softmax). Terms with p_k = 0 count 0; q_k must
    be positive wherever p_k is."""
    q = _scores(q)
    p = _targets(p, q)
    _same_shape("kl_divergence", p, "p", q, "q")
    present = raw(p) > 0
    q_safe = anp.where(present, q, 1.0)
    p_safe = anp.where(present, p, 1.0)
    terms = anp.where(present, p * (anp.log(p_safe) - anp.log(q_safe)), 0.0)
    per_example = anp.sum(terms, axis=-1)
    return anp.mean(per_example) if shape(per_example) else per_example


def l2_penalty(params: Any, strength: float) -> Any:
    """strength * the sum of squares of every weight matrix in params (leaves with 2 or more axes).
    Biases (vectors) are not penalized: they do not make the function steeper."""
    weights = [leaf for leaf in tree_flatten(params)[0] if len(shape(leaf)) >= 2]
    if not weights:
        raise ValueError("l2_penalty found no weight matrix (an array with 2 or more axes) in params")
    return strength * sum(anp.sum(W * W) for W in weights)


def accuracy(logits: Any, labels: Any) -> float:
    """The fraction of examples classified correctly.

    logits (batch, C) with integer labels: the predicted class is the largest logit. One score per example,
    shape (batch,) or (batch, 1), with labels of that shape in {-1, +1}: the predicted label is the sign of
    the score (0 counts as -1)."""
    z = raw(_scores(logits))
    y = _labels(labels, z)
    xp = namespace(z, y)
    if len(shape(z)) == 1 or shape(z)[-1] == 1:
        _same_shape("accuracy", z, "scores", y, "labels")
        _check_signs("accuracy with one score per example", y)
        predicted = xp.where(z > 0, 1, -1)
    else:
        _one_hot_labels("accuracy", z, y)
        predicted = xp.argmax(z, axis=-1)
    return float(xp.mean(xp.astype(predicted == y, xp.float64)))


def one_hot(labels: Any, n_classes: int, dtype: Any) -> Any:
    """(batch, n_classes) array with a 1 at each example's label, 0 elsewhere (a constant)."""
    xp = namespace(labels)
    return xp.astype(_is_label(xp, labels, n_classes), dtype)


def _is_label(xp: Any, labels: Any, n_classes: int) -> Any:
    """(batch, n_classes) booleans, True at each example's label."""
    return xp.reshape(labels, (-1, 1)) == xp.arange(n_classes)


# ------------------------------------------------------------------------------------------------ checks
def _scores(x: Any) -> Any:
    """Scores or predictions given as a (nested) list, as an array of the default library; arrays, numbers
    and traced values as they are."""
    return asarray(x) if isinstance(x, (list, tuple)) else x


def _labels(y: Any, scores: Any) -> Any:
    """Labels (data, never differentiated) as an array of the scores' library."""
    y, like = raw(y), raw(scores)
    return y if is_array(y) and namespace(y) is namespace(like) else asarray(y, like=like)


def _check_signs(who: str, y: Any) -> None:
    """Labels of a binary classifier (one score per example) must be -1 or +1."""
    xp = namespace(y)
    if not bool(xp.all((y == 1) | (y == -1))):
        raise ValueError(f"{who} needs labels y in {{-1, +1}}. For labels in {{0, 1}}, pass 2 * y - 1.")


def _targets(target: Any, pred: Any) -> Any:
    """A plain target (data: an array of any library, a list, a number) as an array of the prediction's
    library and floating dtype, so that float64 targets do not turn a float32 loss into float64. A traced
    target is being differentiated, and stays as it is."""
    if isinstance(target, Tracer):
        return target
    return astype_like(_labels(target, pred), pred)


def _one_hot_labels(who: str, logits: Any, labels: Any) -> Any:
    """one_hot(labels) in the dtype of logits, for integer labels of shape (batch,) with values in 0..C-1;
    anything else is a ValueError saying what is wrong. (A label out of range gives a row without a True, so
    counting the Trues checks the range at once.)"""
    labels, logits_shape = _labels(labels, logits), shape(logits)
    xp = namespace(labels)
    if len(logits_shape) != 2:
        raise ValueError(f"{who} needs logits of shape (batch, classes), got shape {logits_shape}")
    n, n_classes = logits_shape
    if not isdtype(xp, labels.dtype, "integral"):
        raise ValueError(
            f"{who} needs integer class labels (0 to {n_classes - 1}), got dtype {labels.dtype}. For one-hot "
            f"targets pass argmax(targets, axis=1); for float labels, labels.astype(int)."
        )
    if shape(labels) != (n,):
        raise ValueError(
            f"{who} needs one label per example: labels of shape ({n},) for logits of shape {logits_shape}, "
            f"got labels of shape {shape(labels)}."
            + (" Flatten them: labels.reshape(-1)." if len(shape(labels)) == 2 and labels.size == n else "")
        )
    is_label = _is_label(xp, labels, n_classes)
    if int(xp.count_nonzero(is_label)) != n:
        raise ValueError(
            f"{who}: labels must lie in 0..{n_classes - 1} for {n_classes} classes, got values from "
            f"{int(xp.min(labels))} to {int(xp.max(labels))}. Does the last layer have one output per class?"
        )
    return xp.astype(is_label, raw(logits).dtype)


def _same_shape(who: str, a: Any, a_name: str, b: Any, b_name: str) -> None:
    if shape(a) != shape(b):
        hint = ""
        if shape(a)[:1] != shape(b)[:1]:
            hint = " The batch sizes differ: pass the labels that belong to this batch."
        elif sorted(shape(a)) == sorted(shape(b)) or 1 in shape(a) + shape(b):
            hint = f" Reshape one to match (e.g. {b_name}.reshape({shape(a)}))."
        raise ValueError(
            f"{who}: {a_name} has shape {shape(a)} but {b_name} has shape {shape(b)}; they must match "
            f"exactly (broadcasting would pair up the wrong entries and give a silently wrong loss).{hint}"
        )
