"""fastnn.io: atomic model files without pickle, clear errors for anything else."""
import numpy as np
import pytest

from fastnn import io


def test_round_trip_and_exact_path(tmp_path):
    path = tmp_path / "model.bin"              # no suffix added: exactly this path
    io.save_arrays(path, "Thing", {"w": np.arange(6.0).reshape(2, 3)}, {"size": 3})
    arrays, meta = io.load_arrays(path, "Thing")
    np.testing.assert_array_equal(arrays["w"], np.arange(6.0).reshape(2, 3))
    assert meta["size"] == 3 and meta["kind"] == "Thing"
    assert [p.name for p in tmp_path.iterdir()] == ["model.bin"]


@pytest.mark.parametrize("content", [b"", b"garbage", b"PK\x03\x04broken zip"])
def test_corrupt_files_are_value_errors(tmp_path, content):
    path = tmp_path / "bad.npz"
    path.write_bytes(content)
    with pytest.raises(ValueError, match="bad.npz"):
        io.load_arrays(path, "Thing")


def test_other_files_and_kinds(tmp_path):
    np.save(tmp_path / "plain.npy", np.ones(3))
    with pytest.raises(ValueError, match="not an .npz"):
        io.load_arrays(tmp_path / "plain.npy", "Thing")
    np.savez(tmp_path / "foreign.npz", a=np.ones(2))
    with pytest.raises(ValueError, match="no fastnn metadata"):
        io.load_arrays(tmp_path / "foreign.npz", "Thing")
    io.save_arrays(tmp_path / "other.npz", "Other", {"a": np.ones(2)})
    with pytest.raises(ValueError, match="'Other' model, not a 'Thing'"):
        io.load_arrays(tmp_path / "other.npz", "Thing")
    with pytest.raises(FileNotFoundError):
        io.load_arrays(tmp_path / "missing.npz", "Thing")


def test_failed_save_keeps_the_old_file(tmp_path):
    path = tmp_path / "model.npz"
    io.save_arrays(path, "Thing", {"a": np.ones(2)})
    before = path.read_bytes()
    with pytest.raises(TypeError, match="object"):
        io.save_arrays(path, "Thing", {"a": np.array([object()])})
    with pytest.raises(TypeError):
        io.save_arrays(path, "Thing", {"a": np.ones(2)}, {"bad": object()})
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["model.npz"]
