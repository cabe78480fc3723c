"""Atomic writes, pickle-free array files, and cyclist profiles."""

from __future__ import annotations

import numpy as np
import pytest

from fietsstad import ValidationError
from fietsstad._io import atomic_write, load_arrays, save_arrays
from fietsstad.errors import CacheError
from fietsstad.network import PROFILES, Infra, get_profile


def test_atomic_write_leaves_nothing_on_failure(tmp_path):
    target = tmp_path / "out.txt"
    with pytest.raises(RuntimeError):
        with atomic_write(target, "w") as fh:
            fh.write("half")
            raise RuntimeError("boom")
    assert not target.exists()
    assert list(tmp_path.iterdir()) == []


def test_arrays_roundtrip_and_refuse_objects(tmp_path):
    save_arrays(tmp_path / "a.bin", {"x": np.arange(5, dtype=np.int32)}, {"k": 1})
    arrays, meta = load_arrays(tmp_path / "a.bin")
    assert arrays["x"].tolist() == [0, 1, 2, 3, 4] and meta == {"k": 1}
    with pytest.raises(TypeError):
        save_arrays(tmp_path / "b.bin", {"o": np.array([{}], dtype=object)}, {})


def test_plain_npz_is_not_trusted(tmp_path):
    np.savez(tmp_path / "c.npz", x=np.arange(3))
    with pytest.raises(CacheError):
        load_arrays(tmp_path / "c.npz")


def test_profiles_have_every_category_and_are_ordered():
    for p in PROFILES.values():
        for cat in Infra:
            assert p.speed(cat) > 0
    bike, ebike = get_profile("bike"), get_profile("ebike")
    assert all(ebike.speed(c) >= bike.speed(c) for c in Infra)
    # planning speed on ordinary streets (anchors.md): 16 km/h bike, 20 km/h e-bike
    assert bike.speed(Infra.MIXED) == 16 and ebike.speed(Infra.MIXED) == 20
    assert bike.speed(Infra.MIXED, unpaved=True) == pytest.approx(16 * bike.unpaved_factor)


def test_profile_validation():
    with pytest.raises(ValidationError):
        get_profile("unicycle")
    with pytest.raises(ValidationError):
        get_profile("bike").with_speeds(hovercraft=3)
    with pytest.raises(ValidationError):
        get_profile("bike").with_speeds(mixed=-1)
    with pytest.raises(ValidationError):
        get_profile("bike").with_speeds(mixed=float("nan"))


def test_atomic_write_uses_default_file_mode(tmp_path):
    import os

    umask = os.umask(0)
    os.umask(umask)
    target = tmp_path / "mode.txt"
    with atomic_write(target, "w") as fh:
        fh.write("x")
    plain = tmp_path / "plain.txt"
    plain.write_text("x")
    assert (target.stat().st_mode & 0o777) == (plain.stat().st_mode & 0o777) == (0o666 & ~umask)
