"""The contest harness's reasons have their words in both languages (grader/challenges/reasons.py):
every reason code the harness can give a refused entry and every flag has a meaning in English
and Korean, and the sentences the verdicts, the kernel harness and the CSV reader write read in
Korean. No Django, no child processes: the checks are called as the harness calls them."""

import re
from pathlib import Path

import numpy as np
import pytest

from grader.challenges import predictions_csv, reasons, verdicts
from grader.challenges.channel import CallRecord
from grader.challenges.kernel import _read_entry
from grader.challenges.metrics import get_metric
from grader.challenges.predictions import Labels, match_rows
from grader.challenges.verdicts import Verdict

SOURCES = Path(reasons.__file__).parent
#: The platform's faults (status "error"): the site says so in its own words, not per code.
ERROR_CODES = {
    "sandbox-error", "grader-error", "reference-failed", "parse-timeout", "parse-failed",
    "missing-submission",
}  # fmt: skip
#: Literals the scan finds that are not reason codes (statuses, the kind).
NOT_CODES = {"scored", "rejected", "error", "predictions", "kernel"}
HANGUL = re.compile("[\uac00-\ud7a3]")


def _codes_in_the_harness() -> set[str]:
    """Every literal code the harness's sources hand to a verdict, a refusal or a flag."""
    found = set()
    patterns = (
        r"(?:Verdict|Rejected|ChildFailed|rejected|_rejected)\(\s*\"([a-z-]+)\"",
        r"\"code\": \"([a-z-]+)\"",
        r"return \"([a-z-]+)\", \(",
        r"^[A-Z_]+ = \"([a-z-]+)\"$",
    )
    for path in SOURCES.glob("*.py"):
        text = path.read_text()
        for pattern in patterns:
            found |= set(re.findall(pattern, text, flags=re.M))
    return found


def test_every_code_the_harness_gives_has_a_meaning_in_both_languages():
    codes = _codes_in_the_harness() - ERROR_CODES - NOT_CODES
    assert {"wrong-output", "timer-disagrees", "missing-id", "too-fast"} <= codes  # the scan works
    missing = sorted(code for code in codes if code not in reasons.REASONS)
    assert not missing, f"reason codes without words in grader/challenges/reasons.py: {missing}"
    for code, (english, korean) in reasons.REASONS.items():
        assert english and HANGUL.search(korean), code
        assert reasons.explain(code, "ko-kr") == korean and reasons.explain(code) == english
    assert set(reasons.FLAGS) <= set(reasons.REASONS)
    assert reasons.explain("") == "" and HANGUL.search(reasons.explain("new-check", "ko"))


def _call(wall=1e-3, reported=1e-3, idle_cpu=0.0, idle_wall=1e-3, threads=1, main=0.0, cpu=0.0):
    return CallRecord(wall, reported, np.zeros(1), idle_cpu, idle_wall, threads, main, cpu)


def _verdict(check, *args) -> Verdict:
    with pytest.raises(Verdict) as caught:
        check(*args)
    return caught.value


def _kernel_sentences() -> list[str]:
    ints, floats = np.arange(4), np.arange(4, dtype=np.float32)
    found = [
        _verdict(verdicts.check_output, ints[:3], ints, 1e-5, 1e-8),
        _verdict(verdicts.check_output, floats.astype(np.float64), floats, 1e-5, 1e-8),
        _verdict(verdicts.check_output, floats + 1, floats, 1e-5, 1e-8),
        _verdict(verdicts.check_output, ints + 1, ints, 1e-5, 1e-8),
        _verdict(verdicts.check_tampering, ["time.perf_counter", "numpy.allclose"]),
        _verdict(verdicts.check_threads, [_call(threads=3)], 1),
        _verdict(verdicts.check_idle_work, [_call(idle_cpu=0.05, idle_wall=0.1)]),
        _verdict(verdicts.check_clocks, [_call(wall=1e-3, reported=2e-3)], [_call()]),
        _verdict(
            verdicts.check_clocks, [_call(reported=1e-3, main=5e-3)] * 3, [_call(main=1e-3)] * 3
        ),
        _verdict(verdicts.check_clocks, [_call(wall=9e-3, reported=1e-3)] * 3, [_call()] * 3, True),
        _verdict(verdicts.check_repeats, [_call(cpu=1e-4)], [_call(cpu=1e-2)]),
    ]
    return [v.reason for v in found]


def test_the_kernel_verdicts_sentences_read_in_korean():
    sentences = _kernel_sentences()
    for sentence in sentences:
        assert reasons.is_translated(sentence), sentence
        korean = reasons.detail(sentence, "ko")
        assert HANGUL.search(korean), sentence
    # What it found is carried over: counts, the tolerance, the functions named.
    assert reasons.detail(sentences[2], "ko").startswith("원소 4개 중 4개가 다릅니다.")
    assert "rtol 1e-05, atol 1e-08" in reasons.detail(sentences[2], "ko")
    assert "time.perf_counter, numpy.allclose" in reasons.detail(sentences[4], "ko")
    # In English the harness's words stay, written as a sentence.
    assert reasons.detail(sentences[0], "en") == reasons.as_sentence(sentences[0])
    assert reasons.as_sentence("the columns are separated by ';'; use commas") == (
        "The columns are separated by ';'; use commas."
    )
    assert reasons.as_sentence("3 of 8 elements differ (rtol 1e-05)") == (
        "3 of 8 elements differ (rtol 1e-05)"
    )


def test_the_kernel_harness_own_refusals_read_in_korean(tmp_path):
    big = tmp_path / "big.py"
    big.write_bytes(b"#" * (1024**2 + 1))
    latin = tmp_path / "latin.py"
    latin.write_bytes("x = 'é'".encode("latin-1"))
    for path in (big, latin, tmp_path / "missing.py"):
        assert reasons.is_translated(_verdict(_read_entry, path).reason)
    for sentence in (
        # check_clocks' sentence before the channel's round trip was taken out (harness 1)
        "the entry's clock said 2.000 ms for a call the grader timed at 1.000 ms",
        "scoring ran past the challenge's 30 s",
        "a call ran past its time limit",
        "the child ended during a call (exit status 1): Traceback ...",
        "the entry ended during a call: killed by the memory limit",
        "a reply that is not JSON",
        "the child wrote to the channel between calls",
        "the output is not a numeric array of at most 4096 bytes (object, (3,))",
    ):
        assert reasons.is_translated(sentence), sentence


OPTIONS = {
    "max_bytes": 10_000, "max_rows": 10, "max_field_chars": 20, "id_column": "id",
    "target_column": "label", "value_kind": "probability",
}  # fmt: skip


def _csv_sentence(data: bytes, **options) -> str:
    with pytest.raises(predictions_csv.Rejected) as caught:
        predictions_csv.parse(data, OPTIONS | options)
    return caught.value.reason


def test_the_csv_readers_sentences_read_in_korean():
    files = [
        b"", b"id;label\n1;0\n", b"id,id\n", b"id,score\n", b",id,label\n0,1,0\n",
        b"id,label\n1,nan\n", b"id,label\n1,abc\n", b"id,label\n1,1e999\n", b"id,label\n1,2\n",
        b"\xff\xfeid", b"id,label\n\x00", b"id,label\n1,\xe9\n", b"id,label\n1,0,3\n",
        b"id,label\n" + b"1,0\n" * 11, b'id,label\n1,"' + b"x" * 30 + b'"\n',
        b'id,label\n1,"0\n',
    ]  # fmt: skip
    sentences = [_csv_sentence(data) for data in files]
    sentences.append(_csv_sentence(b"id,label\n" + b"1,0\n" * 3, max_bytes=5))
    labels = Labels(["1", "2", "3", "4"], ["a", "b", "a", "b"], np.array(["public"] * 4))
    accuracy = get_metric("accuracy")
    sentences += [
        match_rows(["1", "1"], ["a", "a"], labels, accuracy)[1],
        match_rows(["1", "9"], ["a", "a"], labels, accuracy)[1],
        match_rows(["1"], ["a"], labels, accuracy)[1],
        match_rows(["1", "2", "3", "4"], ["a", "c", "a", "b"], labels, accuracy)[1],
        "the file has 20000 bytes; at most 10000",
        "the file needs more time or memory to read than an entry may use",
    ]
    for sentence in sentences:
        assert reasons.is_translated(sentence), sentence
    assert "to_csv(..., index=False)" in reasons.detail(sentences[4], "ko")
    assert reasons.detail(sentences[4], "ko").startswith("예상하지 못한 열 ''")


def test_what_no_pattern_knows_stays_as_the_harness_wrote_it():
    traceback = "Traceback (most recent call last):\n  ...\nZeroDivisionError: division by zero"
    assert reasons.detail(traceback, "ko") == traceback
    assert not reasons.is_translated(traceback)
