"""Small predictions challenges built in a temporary folder, and entries written as bytes.

Twenty test rows: ids "1".."20", the first eight public and the other twelve private, so a test
can tell which split a score came from.
"""

from __future__ import annotations

from pathlib import Path

from grader.challenges.spec import ChallengeSpec, load_challenge

IDS = [str(i) for i in range(1, 21)]
PUBLIC_IDS = IDS[:8]
PRIVATE_IDS = IDS[8:]
#: Class labels for accuracy/macro_f1 and 0/1 targets for log_loss/roc_auc (both classes in
#: each split), numbers for rmse/mae.
CLASS_LABELS = ["cat", "dog", "cat", "bird", "dog", "cat", "bird", "dog"] + ["cat", "dog"] * 6
BINARY_LABELS = ["0", "1"] * 10
NUMBER_LABELS = [f"{i * 0.5:g}" for i in range(20)]


def labels_for(metric: str) -> list[str]:
    if metric in ("accuracy", "macro_f1"):
        return CLASS_LABELS
    if metric in ("log_loss", "roc_auc"):
        return BINARY_LABELS
    return NUMBER_LABELS


def make_challenge(root: Path, metric: str, labels: list[str] | None = None) -> ChallengeSpec:
    """A challenge folder named ``<metric>-toy`` under root, loaded."""
    labels = labels or labels_for(metric)
    folder = root / f"{metric.replace('_', '-')}-toy"
    (folder / "public").mkdir(parents=True, exist_ok=True)
    (folder / "secret").mkdir(exist_ok=True)
    (folder / "challenge.toml").write_text(
        f'slug = "{folder.name}"\ntitle = "Toy"\nkind = "predictions"\n\n'
        f'[predictions]\nid_column = "id"\ntarget_column = "label"\nmetric = "{metric}"\n'
    )
    (folder / "public" / "test.csv").write_text("id,x\n" + "".join(f"{i},0\n" for i in IDS))
    splits = ["public"] * len(PUBLIC_IDS) + ["private"] * len(PRIVATE_IDS)
    (folder / "secret" / "labels.csv").write_text(
        "id,label,split\n"
        + "".join(f"{i},{y},{s}\n" for i, y, s in zip(IDS, labels, splits, strict=True))
    )
    return load_challenge(folder)


def entry_csv(rows, header: str = "id,label", newline: str = "\n") -> bytes:
    """rows: (id, value) pairs or whole lines (str)."""
    lines = [header]
    for row in rows:
        lines.append(row if isinstance(row, str) else f"{row[0]},{row[1]}")
    return (newline.join(lines) + newline).encode()


def write_entry(folder: Path, data: bytes, name: str = "entry.csv") -> Path:
    path = folder / name
    path.write_bytes(data)
    return path
