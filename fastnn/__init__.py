"""fastnn: fast CPU kernels and models for the classic neural models of NLP."""
__version__ = "0.1.0"

from fastnn import autograd, functional
from fastnn._config import show_config
from fastnn._threads import threads

__all__ = ["__version__", "autograd", "functional", "optim", "show_config", "threads",
           "MLPClassifier"]

# the estimators import scikit-learn: load them on first use, not on `import fastnn`
_LAZY = {"MLPClassifier": "fastnn.neural_network", "optim": "fastnn.optim"}


def __getattr__(name):
    if name in _LAZY:
        import importlib
        module = importlib.import_module(_LAZY[name])
        return module if module.__name__.endswith(name) else getattr(module, name)
    raise AttributeError(f"module 'fastnn' has no attribute {name!r}")
