"""Make the churn-predictions challenge's data: a synthetic table of telecom customers.

Run from the repository root: ``.venv/bin/python challenges/churn-predictions/make_data.py``.
The seed is fixed, so the output is the same on every run; the files it writes are committed
(``public/``, ``secret/labels.csv``, ``baseline.csv``), and a test checks they match this script.

Churn follows a hidden logistic model of the features plus noise, so a good model reaches a
macro F1 around 0.76 (the hidden model itself) and the baseline's simple rule 0.68; no
one can reach 1.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

SEED = 20261202
TRAIN_ROWS = 3000
TEST_ROWS = 2000
PUBLIC_SHARE = 0.4
HERE = Path(__file__).resolve().parent
CONTRACTS = ("month-to-month", "one-year", "two-year")
PAYMENTS = ("card", "bank-transfer", "invoice")
FEATURES = (
    "tenure_months",
    "monthly_charge",
    "support_calls",
    "contract",
    "payment",
    "has_fiber",
    "data_gb",
)


def customers(rng: np.random.Generator, n: int) -> dict[str, np.ndarray]:
    contract = rng.choice(len(CONTRACTS), size=n, p=[0.55, 0.25, 0.20])
    tenure = np.clip(rng.gamma(2.0, 12.0, size=n) * (1 + contract), 1, 120).astype(int)
    fiber = rng.random(n) < 0.45
    charge = np.round(25 + 30 * fiber + rng.normal(20, 12, size=n).clip(0), 2)
    return {
        "tenure_months": tenure,
        "monthly_charge": charge,
        "support_calls": rng.poisson(1.2 + 0.8 * fiber, size=n),
        "contract": contract,
        "payment": rng.choice(len(PAYMENTS), size=n, p=[0.5, 0.3, 0.2]),
        "has_fiber": fiber.astype(int),
        "data_gb": np.round(rng.lognormal(2.5, 0.8, size=n), 1),
    }


def churn_probability(c: dict[str, np.ndarray]) -> np.ndarray:
    logit = (
        -0.6
        + 1.2 * (c["contract"] == 0)
        - 0.9 * (c["contract"] == 2)
        - 0.035 * c["tenure_months"]
        + 0.025 * (c["monthly_charge"] - 60)
        + 0.45 * c["support_calls"]
        + 0.5 * (c["payment"] == 2)
        - 0.01 * c["data_gb"]
    )
    return 1 / (1 + np.exp(-logit))


def baseline_rule(c: dict[str, np.ndarray]) -> np.ndarray:
    """The baseline entry: month-to-month customers who called support twice or more churn."""
    return ((c["contract"] == 0) & (c["support_calls"] >= 2)).astype(int)


def rows(c: dict[str, np.ndarray], ids: np.ndarray) -> list[list]:
    table = []
    for i, customer_id in enumerate(ids):
        row = [int(customer_id)]
        for name in FEATURES:
            value = c[name][i]
            if name == "contract":
                value = CONTRACTS[value]
            elif name == "payment":
                value = PAYMENTS[value]
            row.append(value.item() if hasattr(value, "item") else value)
        table.append(row)
    return table


def write(path: Path, header: list[str], table: list[list]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(table)


def main(out: Path = HERE) -> None:
    rng = np.random.default_rng(SEED)
    n = TRAIN_ROWS + TEST_ROWS
    everyone = customers(rng, n)
    churn = (rng.random(n) < churn_probability(everyone)).astype(int)
    ids = rng.permutation(np.arange(100001, 100001 + n))
    train = {k: v[:TRAIN_ROWS] for k, v in everyone.items()}
    test = {k: v[TRAIN_ROWS:] for k, v in everyone.items()}
    test_ids = ids[TRAIN_ROWS:]
    test_churn = churn[TRAIN_ROWS:]
    public = np.zeros(TEST_ROWS, dtype=bool)
    public[rng.permutation(TEST_ROWS)[: int(TEST_ROWS * PUBLIC_SHARE)]] = True
    header = ["id", *FEATURES]
    write(
        out / "public" / "train.csv",
        [*header, "churn"],
        [
            r + [int(y)]
            for r, y in zip(rows(train, ids[:TRAIN_ROWS]), churn[:TRAIN_ROWS], strict=True)
        ],
    )
    write(out / "public" / "test.csv", header, rows(test, test_ids))
    write(
        out / "public" / "sample_submission.csv", ["id", "churn"], [[int(i), 0] for i in test_ids]
    )
    write(
        out / "secret" / "labels.csv",
        ["id", "churn", "split"],
        [
            [int(i), int(y), "public" if p else "private"]
            for i, y, p in zip(test_ids, test_churn, public, strict=True)
        ],
    )
    write(
        out / "baseline.csv",
        ["id", "churn"],
        [[int(i), int(y)] for i, y in zip(test_ids, baseline_rule(test), strict=True)],
    )


if __name__ == "__main__":
    main()
