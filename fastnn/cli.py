"""The `fastnn` command (also `python -m fastnn`)."""
import argparse
import time

import numpy as np


def selfcheck():
    """Run each kernel once on a small input against its NumPy reference."""
    from fastnn import functional as F
    from fastnn import reference as R

    rng = np.random.default_rng(0)
    z = rng.standard_normal((64, 10)).astype(np.float32)
    y = rng.integers(0, 10, 64)
    x = rng.standard_normal((64, 32)).astype(np.float32)
    W = rng.standard_normal((16, 32)).astype(np.float32)
    t = rng.random(64).astype(np.float32)
    checks = {
        "softmax": lambda: (F.softmax(z), R.softmax(z)),
        "log_softmax": lambda: (F.log_softmax(z), R.log_softmax(z)),
        "softmax_cross_entropy": lambda: (F.softmax_cross_entropy(z, y)[1],
                                          R.softmax_cross_entropy(z, y)[1]),
        "binary_cross_entropy": lambda: (F.binary_cross_entropy_with_logits(z[:, 0], t)[1],
                                         R.binary_cross_entropy_with_logits(z[:, 0], t)[1]),
        "relu": lambda: (F.relu_backward(x, x), R.relu_backward(x, x)),
        "tanh": lambda: (F.tanh(x), R.tanh(x)),
        "sigmoid": lambda: (F.sigmoid(x), R.sigmoid(x)),
        "linear": lambda: (F.linear(x, W), R.linear(x, W)),
        "lm_windows": lambda: (F.lm_windows(y, 3, 0)[0], R.lm_windows(y, 3, 0)[0]),
        "embedding": lambda: (F.embedding(y[:8], x), R.embedding(y[:8], x)),
    }
    failed = 0
    for name, run in checks.items():
        start = time.perf_counter()
        got, want = run()
        ok = np.allclose(got, want, rtol=1e-4, atol=1e-5)
        failed += not ok
        print(f"  {name:24s} {'ok' if ok else 'MISMATCH':8s} "
              f"{(time.perf_counter() - start) * 1e3:7.2f} ms")
    return failed


def main(argv=None):
    parser = argparse.ArgumentParser(prog="fastnn", description=__doc__)
    sub = parser.add_subparsers(dest="command")
    sub.add_parser("info", help="print the build configuration and check every kernel once "
                                "(the default)")
    demo = sub.add_parser("demo", help="train every model on the embedded data and report "
                                       "quality and time")
    demo.add_argument("--quick", action="store_true", help="a one-minute version")
    demo.add_argument("--plot", metavar="PNG", help="also draw the training-loss curves "
                                                    "(needs matplotlib)")
    demo.add_argument("--steps", nargs="+", metavar="STEP", help="run only these steps")
    args = parser.parse_args(argv)
    if args.command == "demo":
        from fastnn import demo as demo_module
        try:
            demo_module.run(args.steps, quick=args.quick, plot=args.plot)
        except ValueError as exc:
            parser.error(str(exc))
        return 0
    from fastnn import show_config
    show_config()
    print("kernels against the NumPy reference:")
    failed = selfcheck()
    print("all kernels agree" if not failed else f"{failed} kernel(s) disagree")
    return 1 if failed else 0
