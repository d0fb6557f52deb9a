"""fastnn: fast CPU kernels and models for the classic neural models of NLP."""
__version__ = "0.1.0"

from fastnn import autograd, functional
from fastnn._config import show_config
from fastnn._threads import threads

__all__ = ["__version__", "autograd", "functional", "show_config", "threads"]
