"""The challenge manifest (``challenges/<slug>/challenge.toml``): read, checked, never trusted.

Every bad input raises a ``ChallengeError`` subclass whose ``code`` names the problem
(``missing-manifest``, ``bad-kind``, ``bad-shape``, ``missing-secret``...), so the site and the
command line show a sentence, never a traceback. The contract is ``docs/challenges.md``.
"""

from __future__ import annotations

import math
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

KINDS = ("kernel", "predictions")
DEVICES = ("cpu", "cuda")
FRAMEWORKS = ("numba", "torch")
SCORE_RULES = ("geomean_speedup",)
METRICS = ("accuracy", "macro_f1", "rmse", "mae", "log_loss", "roc_auc")
#: Metrics where a smaller value is better (the board sorts by this).
LOWER_IS_BETTER = ("rmse", "mae", "log_loss")
SPLITS = ("public", "private")
SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
#: The most elements one input shape may ask for (keeps a typo from allocating terabytes).
MAX_SHAPE_ELEMENTS = 1 << 31


class ChallengeError(ValueError):
    """A challenge folder that cannot be scored against; ``code`` is stable, the text is for people."""

    code = "bad-challenge"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class MissingManifest(ChallengeError):
    code = "missing-manifest"


class BadManifest(ChallengeError):
    """Not TOML, or a field of the wrong type or value."""

    code = "bad-manifest"


class SlugMismatch(ChallengeError):
    code = "slug-mismatch"


class BadKind(ChallengeError):
    code = "bad-kind"


class BadShape(ChallengeError):
    code = "bad-shape"


class MissingFile(ChallengeError):
    code = "missing-file"


class MissingSecret(ChallengeError):
    code = "missing-secret"


class BadSecret(ChallengeError):
    code = "bad-secret"


@dataclass(frozen=True)
class KernelSettings:
    device: str
    framework: str
    entry: str
    shapes: tuple[dict[str, int], ...]
    public_seeds: tuple[int, ...]
    rtol: float
    atol: float
    score: str = "geomean_speedup"
    max_speedup_flag: float = 10.0


@dataclass(frozen=True)
class PredictionsSettings:
    id_column: str
    target_column: str
    metric: str

    @property
    def higher_is_better(self) -> bool:
        return self.metric not in LOWER_IS_BETTER


@dataclass(frozen=True)
class ChallengeLimits:
    time_s: float = 120.0
    memory_mb: int = 2048


@dataclass(frozen=True)
class Quota:
    per_day: int = 10
    total: int = 100


@dataclass(frozen=True)
class ChallengeSpec:
    root: Path
    slug: str
    title: str
    kind: str
    title_ko: str = ""
    kernel: KernelSettings | None = None
    predictions: PredictionsSettings | None = None
    limits: ChallengeLimits = field(default_factory=ChallengeLimits)
    quota: Quota = field(default_factory=Quota)

    # Paths of the folder's files (their existence was checked by load_challenge).
    @property
    def reference_path(self) -> Path:
        return self.root / "reference.py"

    @property
    def inputs_path(self) -> Path:
        return self.root / "inputs.py"

    @property
    def baseline_path(self) -> Path | None:
        name = "baseline.py" if self.kind == "kernel" else "baseline.csv"
        path = self.root / name
        return path if path.is_file() else None

    @property
    def secret_dir(self) -> Path:
        return self.root / "secret"

    @property
    def labels_path(self) -> Path:
        return self.secret_dir / "labels.csv"

    @property
    def public_dir(self) -> Path:
        return self.root / "public"

    def secret_seeds(self) -> tuple[int, ...]:
        """The kernel challenge's secret seeds (``secret/seeds.txt``, one integer a line)."""
        return read_seeds(self.secret_dir / "seeds.txt")


def read_seeds(path: Path) -> tuple[int, ...]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise MissingSecret(f"{path.parent.name}/{path.name} is missing") from None
    except OSError as exc:
        raise MissingSecret(f"cannot read {path.name}: {exc.strerror}") from None
    seeds = []
    for number, line in enumerate(text.splitlines(), 1):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        try:
            seeds.append(int(line))
        except ValueError:
            raise BadSecret(f"{path.name} line {number}: {line[:40]!r} is not an integer") from None
    if not seeds:
        raise BadSecret(f"{path.name} holds no seeds")
    return tuple(seeds)


def _get(table: dict, key: str, kind: type | tuple[type, ...], where: str, default=None):
    if key not in table:
        if default is None:
            raise BadManifest(f"{where}: '{key}' is required")
        return default
    value = table[key]
    # TOML integers are fine where a float is asked for; booleans are never numbers here.
    if isinstance(value, bool) and kind is not bool:
        raise BadManifest(f"{where}: '{key}' must be {_kind_name(kind)}, not a boolean")
    if kind is float and isinstance(value, int):
        value = float(value)
    if not isinstance(value, kind):
        raise BadManifest(f"{where}: '{key}' must be {_kind_name(kind)}")
    return value


def _kind_name(kind) -> str:
    names = {str: "a string", int: "an integer", float: "a number", list: "a list", dict: "a table"}
    return names.get(kind, str(kind))


def _choice(value: str, allowed: tuple[str, ...], where: str, key: str) -> str:
    if value not in allowed:
        raise BadManifest(f"{where}: '{key}' is {value!r}; use one of {', '.join(allowed)}")
    return value


def _shapes(raw: list, where: str) -> tuple[dict[str, int], ...]:
    if not raw:
        raise BadShape(f"{where}: 'shapes' must list at least one shape")
    shapes = []
    for index, shape in enumerate(raw):
        if not isinstance(shape, dict) or not shape:
            raise BadShape(f"{where}: shape {index + 1} must be a table such as {{ rows = 256 }}")
        elements = 1
        for name, size in shape.items():
            if not IDENTIFIER.match(name):
                raise BadShape(f"{where}: shape {index + 1}: {name!r} is not a dimension name")
            if isinstance(size, bool) or not isinstance(size, int) or size <= 0:
                raise BadShape(f"{where}: shape {index + 1}: {name} must be a positive integer")
            elements *= size
        if elements > MAX_SHAPE_ELEMENTS:
            raise BadShape(f"{where}: shape {index + 1} has {elements} elements, too many")
        shapes.append(dict(shape))
    return tuple(shapes)


def _kernel(table: dict) -> KernelSettings:
    where = "[kernel]"
    seeds = _get(table, "public_seeds", list, where)
    if not seeds or not all(isinstance(s, int) and not isinstance(s, bool) for s in seeds):
        raise BadManifest(f"{where}: 'public_seeds' must be a non-empty list of integers")
    entry = _get(table, "entry", str, where, "solve")
    if not IDENTIFIER.match(entry):
        raise BadManifest(f"{where}: 'entry' must be a Python function name")
    rtol = _get(table, "rtol", float, where, 1e-5)
    atol = _get(table, "atol", float, where, 1e-6)
    flag = _get(table, "max_speedup_flag", float, where, 10.0)
    if not (math.isfinite(rtol) and math.isfinite(atol)) or rtol < 0 or atol < 0:
        raise BadManifest(f"{where}: 'rtol' and 'atol' must be finite and not negative")
    if not math.isfinite(flag) or flag <= 1:
        raise BadManifest(f"{where}: 'max_speedup_flag' must be a number above 1")
    return KernelSettings(
        device=_choice(_get(table, "device", str, where), DEVICES, where, "device"),
        framework=_choice(_get(table, "framework", str, where), FRAMEWORKS, where, "framework"),
        entry=entry,
        shapes=_shapes(_get(table, "shapes", list, where), where),
        public_seeds=tuple(seeds),
        rtol=rtol,
        atol=atol,
        score=_choice(
            _get(table, "score", str, where, "geomean_speedup"), SCORE_RULES, where, "score"
        ),
        max_speedup_flag=flag,
    )


def _predictions(table: dict) -> PredictionsSettings:
    where = "[predictions]"
    return PredictionsSettings(
        id_column=_get(table, "id_column", str, where, "id"),
        target_column=_get(table, "target_column", str, where, "label"),
        metric=_choice(_get(table, "metric", str, where), METRICS, where, "metric"),
    )


def _positive(table: dict, key: str, kind: type, where: str, default):
    value = _get(table, key, kind, where, default)
    if value <= 0 or (isinstance(value, float) and not math.isfinite(value)):
        raise BadManifest(f"{where}: '{key}' must be positive")
    return value


def _require_files(root: Path, names: tuple[str, ...], secret: bool = False) -> None:
    for name in names:
        if not (root / name).is_file():
            error = MissingSecret if secret else MissingFile
            raise error(f"{root.name}/{name} is missing")


def load_challenge(directory: str | Path) -> ChallengeSpec:
    """Read and check ``directory/challenge.toml`` and the files its kind needs."""
    root = Path(directory).resolve()
    manifest = root / "challenge.toml"
    if not manifest.is_file():
        raise MissingManifest(f"{root.name}: no challenge.toml")
    try:
        data = tomllib.loads(manifest.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise BadManifest(f"challenge.toml is not valid TOML: {exc}") from None
    where = "challenge.toml"
    slug = _get(data, "slug", str, where)
    if not SLUG.match(slug):
        raise BadManifest(f"{where}: slug {slug!r} must be lower-case letters, digits and '-'")
    if slug != root.name:
        raise SlugMismatch(f"{where}: slug {slug!r} differs from the folder name {root.name!r}")
    kind = _get(data, "kind", str, where)
    if kind not in KINDS:
        raise BadKind(f"{where}: kind {kind!r} is not one of {', '.join(KINDS)}")
    if not isinstance(data.get(kind), dict):
        raise BadManifest(f"{where}: a {kind} challenge needs a [{kind}] table")
    limits_table = _get(data, "limits", dict, where, {})
    quota_table = _get(data, "quota", dict, where, {})
    spec = ChallengeSpec(
        root=root,
        slug=slug,
        title=_get(data, "title", str, where),
        title_ko=_get(data, "title_ko", str, where, ""),
        kind=kind,
        kernel=_kernel(data[kind]) if kind == "kernel" else None,
        predictions=_predictions(data[kind]) if kind == "predictions" else None,
        limits=ChallengeLimits(
            time_s=_positive(limits_table, "time_s", float, "[limits]", 120.0),
            memory_mb=_positive(limits_table, "memory_mb", int, "[limits]", 2048),
        ),
        quota=Quota(
            per_day=_positive(quota_table, "per_day", int, "[quota]", 10),
            total=_positive(quota_table, "total", int, "[quota]", 100),
        ),
    )
    if kind == "kernel":
        _require_files(root, ("reference.py", "inputs.py"))
        spec.secret_seeds()  # present and well formed
    else:
        _require_files(root, ("public/test.csv",))
        _require_files(root, ("secret/labels.csv",), secret=True)
    return spec
