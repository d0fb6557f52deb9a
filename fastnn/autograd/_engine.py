"""backward(): the reverse walk over the recorded graph, without recursion.

Two passes over the nodes reachable from the output.  The first counts, for every
node, how many edges lead into it from the part of the graph being walked; the
second processes a node once all of its consumers have handed it their gradient
contributions (Kahn's topological order), so each node runs exactly once, with its
complete gradient.  Both passes use explicit stacks: a chain of 100,000 operations
needs no deeper Python stack than one.  A node's pending gradient is dropped once
used, and (unless retain_graph) so is its backward closure with the values it saved.
"""
import numpy as np

FREED_MESSAGE = (
    "backward through a graph whose saved values were already freed by an earlier "
    "backward(); call the first backward(retain_graph=True) to run it twice, or "
    "recompute the forward pass")


def _check_grad(root, grad):
    """The seed gradient: ones for a one-value output, else `grad` checked and copied."""
    data = root.data
    if grad is None:
        if data.size != 1:
            raise RuntimeError(
                f"backward() without `grad` needs a one-value output; this Tensor has "
                f"shape {data.shape}: pass grad (an array of that shape) or reduce it "
                f"first, e.g. out.sum().backward()")
        return np.ones_like(data)
    from fastnn.autograd._tensor import Tensor
    if isinstance(grad, Tensor):
        grad = grad.data
    grad = np.asarray(grad)
    if grad.dtype.kind not in "fiub":
        raise TypeError(f"grad must hold real numbers, got dtype {grad.dtype}")
    if grad.shape != data.shape:
        raise ValueError(f"grad has shape {grad.shape}, but the Tensor has shape "
                         f"{data.shape}")
    return np.array(grad, dtype=data.dtype, copy=True)


def _count_consumers(root_node):
    """{node: number of edges into it} over the graph reachable from root_node."""
    consumers = {root_node: 0}
    stack = [root_node]
    while stack:
        node = stack.pop()
        if node.backward_fn is None:
            raise RuntimeError(FREED_MESSAGE)
        for t in node.inputs:
            if t is None:
                continue
            child = t.grad_fn
            if child is None:
                continue
            count = consumers.get(child)
            if count is None:
                consumers[child] = 1
                stack.append(child)
            else:
                consumers[child] = count + 1
    return consumers


def _owned(g, passed):
    """g as a C-contiguous array nobody else holds (so it may be accumulated into in
    place, and optimizers' kernels take it without a copy)."""
    if g is passed or not g.flags.owndata or not g.flags.writeable \
            or not g.flags.c_contiguous:
        return np.array(g, order="C", copy=True)
    return g


def _accumulate_leaf(t, g, passed):
    if t.grad is None:
        t.grad = _owned(g, passed)
    else:
        t.grad += g


def _cast(g, t):
    """g as an array of t's dtype and shape (a broken backward rule is a bug, said so)."""
    if type(g) is not np.ndarray:
        g = np.asarray(g)
    data = t.data
    if g.dtype != data.dtype:
        g = g.astype(data.dtype)
    if g.shape != data.shape:
        raise RuntimeError(f"internal error: gradient of shape {g.shape} for a Tensor of "
                           f"shape {data.shape}")
    return g


def run_backward(root, grad=None, retain_graph=False):
    """Accumulate d(root)/d(leaf) into the ``.grad`` of every leaf that requires it."""
    if not root.requires_grad:
        raise RuntimeError("backward() on a Tensor that does not require grad: none of "
                           "its inputs has requires_grad=True (or it was computed under "
                           "no_grad())")
    seed = _check_grad(root, grad)
    root_node = root.grad_fn
    if root_node is None:                       # backward on a leaf: d(x)/d(x) = 1
        _accumulate_leaf(root, seed, None)
        return
    consumers = _count_consumers(root_node)
    pending = {root_node: seed}
    ready = [root_node]
    while ready:
        node = ready.pop()
        g = pending.pop(node, None)
        inputs = node.inputs
        if g is None:                           # no gradient reached it (all None)
            grads = (None,) * len(inputs)
        else:
            if node.retained is not None:
                _accumulate_leaf(node.retained, g, g)
            grads = node.backward_fn(g)
        if not retain_graph:
            node.backward_fn = None             # frees the values the closure saved
        for t, gi in zip(inputs, grads):
            if t is None:
                continue
            child = t.grad_fn
            if gi is not None and t.requires_grad:
                gi = _cast(gi, t)
                if child is None:
                    _accumulate_leaf(t, gi, g)
                else:
                    previous = pending.get(child)
                    pending[child] = gi if previous is None else previous + gi
            if child is not None:
                left = consumers[child] - 1
                consumers[child] = left
                if left == 0:
                    ready.append(child)
