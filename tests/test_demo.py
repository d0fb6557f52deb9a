"""`fastnn demo`: the cheap steps run end to end and report real numbers."""
import subprocess
import sys

import pytest

from fastnn import demo


def test_autograd_step_prints_the_lecture_values(capsys):
    demo.run(["autograd"])
    out = capsys.readouterr().out
    assert "L = c e = -10" in out
    assert "dL/da = -2, dL/db = -4, dL/dc = 5" in out


def test_classifier_steps_report_accuracy_and_curves(capsys):
    curves = demo.run(["sms", "digits"], quick=True)
    out = capsys.readouterr().out
    accuracies = [float(line.split()[-1]) for line in out.splitlines()
                  if line.strip().startswith("test accuracy")]
    assert accuracies and all(0.9 < a <= 1 for a in accuracies)
    assert set(curves) == {"LogisticRegression (SMS)", "SoftmaxRegression (digits)",
                           "MLPClassifier (digits)"}
    assert all(len(c) > 1 and c[-1] < c[0] for c in curves.values())


def test_unknown_step_is_a_clear_error():
    with pytest.raises(ValueError, match="unknown demo step"):
        demo.run(["nope"])


def test_command_line_runs_a_step():
    result = subprocess.run([sys.executable, "-m", "fastnn", "demo", "--steps", "autograd"],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "dL/dc = 5" in result.stdout and "demo finished" in result.stdout
