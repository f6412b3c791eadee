"""The challenge manifest: a good folder loads, each kind of bad input gives its named error."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from grader.challenges.spec import (
    BadKind,
    BadManifest,
    BadSecret,
    BadShape,
    ChallengeError,
    MissingFile,
    MissingManifest,
    MissingSecret,
    SlugMismatch,
    load_challenge,
)

from .conftest import HORNER


def _edit(folder: Path, old: str, new: str) -> None:
    manifest = folder / "challenge.toml"
    text = manifest.read_text()
    assert old in text
    manifest.write_text(text.replace(old, new, 1))


def test_the_test_challenge_loads():
    spec = load_challenge(HORNER)
    assert spec.slug == "horner" and spec.kind == "kernel"
    assert spec.kernel.device == "cpu" and spec.kernel.framework == "numba"
    assert spec.kernel.shapes == ({"n": 65536}, {"n": 16384})
    assert spec.kernel.public_seeds == (1, 2)
    assert spec.secret_seeds() == (9137, 52211)
    assert spec.limits.memory_mb == 1536 and spec.quota.per_day == 10


@pytest.mark.parametrize(
    ("old", "new", "error", "code"),
    [
        ('kind = "kernel"', 'kind = "gpu"', BadKind, "bad-kind"),
        ('slug = "horner"', 'slug = "other"', SlugMismatch, "slug-mismatch"),
        ('slug = "horner"', 'slug = "Bad Slug"', BadManifest, "bad-manifest"),
        ("shapes = [{ n = 65536 }, { n = 16384 }]", "shapes = []", BadShape, "bad-shape"),
        ("{ n = 16384 }", "{ n = -1 }", BadShape, "bad-shape"),
        ("{ n = 16384 }", '{ n = "big" }', BadShape, "bad-shape"),
        ("{ n = 16384 }", "{ n = 4096, m = 4096, k = 4096 }", BadShape, "bad-shape"),
        ('device = "cpu"', 'device = "tpu"', BadManifest, "bad-manifest"),
        ('framework = "numba"', 'framework = "jax"', BadManifest, "bad-manifest"),
        ("rtol = 1e-4", "rtol = -1.0", BadManifest, "bad-manifest"),
        ("rtol = 1e-4", "rtol = true", BadManifest, "bad-manifest"),
        ("public_seeds = [1, 2]", 'public_seeds = ["one"]', BadManifest, "bad-manifest"),
        ("max_speedup_flag = 10.0", "max_speedup_flag = 0.5", BadManifest, "bad-manifest"),
        ('entry = "solve"', 'entry = "os.system"', BadManifest, "bad-manifest"),
        ("time_s = 90", "time_s = 0", BadManifest, "bad-manifest"),
        ('title = "Horner"', 'title = "HORNER', BadManifest, "bad-manifest"),
        ("[kernel]", "[kernels]", BadManifest, "bad-manifest"),
    ],
)
def test_bad_manifest_fields_are_named_errors(horner_copy, old, new, error, code):
    _edit(horner_copy, old, new)
    with pytest.raises(error) as caught:
        load_challenge(horner_copy)
    assert caught.value.code == code
    assert isinstance(caught.value, ChallengeError) and str(caught.value)


def test_missing_files_and_secrets(horner_copy, tmp_path):
    with pytest.raises(MissingManifest):
        load_challenge(tmp_path / "nowhere")
    (horner_copy / "secret" / "seeds.txt").write_text("# none yet\n")
    with pytest.raises(BadSecret):
        load_challenge(horner_copy)
    (horner_copy / "secret" / "seeds.txt").write_text("12\nseven\n")
    with pytest.raises(BadSecret, match="line 2"):
        load_challenge(horner_copy)
    shutil.rmtree(horner_copy / "secret")
    with pytest.raises(MissingSecret):
        load_challenge(horner_copy)
    (horner_copy / "reference.py").unlink()
    with pytest.raises(MissingFile):
        load_challenge(horner_copy)


def test_a_predictions_manifest(tmp_path):
    folder = tmp_path / "iris"
    (folder / "public").mkdir(parents=True)
    (folder / "challenge.toml").write_text(
        'slug = "iris"\ntitle = "Iris"\nkind = "predictions"\n'
        '[predictions]\nid_column = "id"\ntarget_column = "label"\nmetric = "rmse"\n'
    )
    (folder / "public" / "test.csv").write_text("id,x\n1,0.5\n")
    with pytest.raises(MissingSecret):
        load_challenge(folder)
    (folder / "secret").mkdir()
    (folder / "secret" / "labels.csv").write_text("id,label,split\n1,0.3,public\n")
    spec = load_challenge(folder)
    assert spec.predictions.metric == "rmse" and not spec.predictions.higher_is_better
    (folder / "challenge.toml").write_text(
        (folder / "challenge.toml").read_text().replace('"rmse"', '"f2"')
    )
    with pytest.raises(BadManifest, match="metric"):
        load_challenge(folder)
