"""The computation graph as Graphviz DOT text: the lecture's diagrams for any expression.

Tensors are boxes (name, shape, value, gradient when known), operations ovals between
their inputs and their result.  No graphviz dependency: the text renders with the
`dot` program (``dot -Tsvg graph.dot``) or any online viewer.
"""
import shutil
import subprocess

import numpy as np

_MAX_VALUES = 6   # longer arrays show their shape only


def _format(array):
    array = np.asarray(array)
    if array.size == 1:
        return f"{array.item():.4g}"
    if array.size <= _MAX_VALUES:
        return np.array2string(array, precision=4, separator=", ").replace("\n", "")
    return None


def _escape(text):
    return text.replace("\\", "\\\\").replace('"', '\\"')


def _tensor_label(t, show_values):
    lines = [t.name] if t.name else []
    lines.append("x".join(str(n) for n in t.data.shape) or "scalar")
    if show_values:
        value = _format(t.data)
        if value is not None:
            lines.append(f"value {value}")
        if t.grad is not None:
            grad = _format(t.grad)
            if grad is not None:
                lines.append(f"grad {grad}")
    return "\\n".join(_escape(line) for line in lines)


def to_dot(root, show_values=True):
    """DOT text of the graph that produced `root` (a Tensor), walked without recursion.

    show_values : bool, default=True
        Write values and gradients of Tensors with at most 6 elements into their boxes.
    """
    lines = ["digraph autograd {", "  rankdir=LR;",
             '  node [fontname="Helvetica", fontsize=11];']
    number = {id(root): 0}   # short, stable node names: t0 is the root
    stack = [root]
    while stack:
        t = stack.pop()
        k = number[id(t)]
        style = "filled" if t.requires_grad and t.grad_fn is None else "solid"
        fill = ', fillcolor="#dbe9f6"' if style == "filled" else ""
        lines.append(f'  t{k} [shape=box, style={style}{fill}, '
                     f'label="{_tensor_label(t, show_values)}"];')
        node = t.grad_fn
        if node is None:
            continue
        op_label = _escape(node.op + (f" {node.label}" if node.label else ""))
        lines.append(f'  op{k} [shape=ellipse, label="{op_label}"];')
        lines.append(f"  op{k} -> t{k};")
        for child in node.inputs:
            if child is None:
                continue
            if id(child) not in number:
                number[id(child)] = len(number)
                stack.append(child)
            lines.append(f"  t{number[id(child)]} -> op{k};")
    lines.append("}")
    return "\n".join(lines) + "\n"


class Graph:
    """DOT source with a picture for Jupyter when Graphviz's `dot` program exists.

    Attributes: source (the DOT text).  str(graph) is the source; save(path) writes it.
    """

    def __init__(self, source):
        self.source = source

    def __str__(self):
        return self.source

    def __repr__(self):
        return f"<Graph: {self.source.count(' -> ')} edges; .source holds the DOT text>"

    def save(self, path):
        """Write the DOT text to `path` (render it with ``dot -Tpng path -o out.png``)."""
        with open(path, "w", encoding="utf-8") as f:
            f.write(self.source)

    def _repr_svg_(self):
        program = shutil.which("dot")
        if program is None:
            return None
        done = subprocess.run([program, "-Tsvg"], input=self.source.encode(),
                              capture_output=True, timeout=30, check=False)
        return done.stdout.decode() if done.returncode == 0 else None
