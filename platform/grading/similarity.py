"""Which answers of an assignment look copied: winnowed fingerprints of normalised tokens (the
method of MOSS: Schleimer, Wilkerson and Aiken, "Winnowing", SIGMOD 2003).

Each submission's code cells are tokenised with Python's `tokenize`; every identifier becomes
one token and every number and string literal another, comments and blank lines vanish, so
renaming variables, rewording comments or changing constants does not hide a copy. Hashes of
every k consecutive tokens are winnowed (the smallest hash of each window of w), which keeps
any shared run of at least k + w - 1 tokens. Every k-gram of the released starter notebook is
removed first, so the code everyone was given does not make everyone look alike. Computed on
demand: a cohort's assignment is a few dozen notebooks of a few hundred lines.
"""

from __future__ import annotations

import hashlib
import io
import json
import keyword
import tokenize
from collections import Counter, OrderedDict, defaultdict
from dataclasses import dataclass, field
from itertools import combinations

from grading.models import Submission
from grading.selectors import counted_submissions

#: Tokens per k-gram and k-grams per winnowing window: shared runs of k + w - 1 = 15 tokens
#: (about two lines of code) are always found; shorter ones may be.
K = 10
W = 6
#: The most pairs a page lists.
MAX_PAIRS = 30
#: Fewest shared fingerprints that make a pair worth listing: two one-line answers that agree
#: share one, which says nothing.
MIN_SHARED = 3
#: Longest notebook source read, in characters.
MAX_SOURCE_CHARS = 400_000

_SKIPPED = {tokenize.COMMENT, tokenize.NL, tokenize.ENCODING, tokenize.ENDMARKER}


@dataclass
class Token:
    text: str
    cell: int
    line: int  # 0-based line within its cell


@dataclass
class Fingerprinted:
    """One answer: its cells' sources, its tokens and its winnowed fingerprints."""

    submission: Submission | None
    cells: list[str]
    tokens: list[Token] = field(default_factory=list)
    #: hash -> token positions where a k-gram with that hash starts
    prints: dict[int, list[int]] = field(default_factory=dict)


def _code_cells(notebook: dict, skip_protected: bool = True) -> list[str]:
    """The student's code: code cells, without the instructor's tests and locked given code."""
    sources = []
    for cell in notebook.get("cells", []) if isinstance(notebook, dict) else []:
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if skip_protected and isinstance(meta, dict) and meta.get("locked"):
            continue
        source = cell.get("source", "")
        sources.append("".join(source) if isinstance(source, list) else str(source))
    return sources


def normalised_tokens(cells: list[str]) -> list[Token]:
    tokens: list[Token] = []
    for index, source in enumerate(cells):
        # IPython magics and shell escapes are not Python: blank them, keeping line numbers.
        lines = [
            "" if line.lstrip().startswith(("%", "!")) else line
            for line in source.splitlines(keepends=True)
        ]
        reader = io.StringIO("".join(lines)).readline
        try:
            for tok in tokenize.generate_tokens(reader):
                if tok.type in _SKIPPED:
                    continue
                tokens.append(Token(_normalise(tok), index, tok.start[0] - 1))
        except (tokenize.TokenError, IndentationError, SyntaxError):
            pass  # keep the tokens read before the broken spot
    return tokens


def _normalise(tok: tokenize.TokenInfo) -> str:
    if tok.type == tokenize.NAME:
        return tok.string if keyword.iskeyword(tok.string) else "V"
    if tok.type == tokenize.NUMBER:
        return "N"
    if tok.type == tokenize.STRING or tok.type >= getattr(tokenize, "FSTRING_START", 1 << 30):
        return "S"
    if tok.type == tokenize.NEWLINE:
        return ";"
    if tok.type == tokenize.INDENT:
        return "{"
    if tok.type == tokenize.DEDENT:
        return "}"
    return tok.string


def _kgram_hashes(tokens: list[Token], k: int = K) -> list[int]:
    """A stable 64-bit hash of each k-gram (Python's own hash of strings changes from process to
    process, and so would which fingerprints winnowing keeps)."""
    texts = [t.text for t in tokens]
    return [
        int.from_bytes(
            hashlib.blake2b("\x1f".join(texts[i : i + k]).encode(), digest_size=8).digest(), "big"
        )
        for i in range(len(texts) - k + 1)
    ]


def winnow(hashes: list[int], w: int = W) -> dict[int, list[int]]:
    """hash -> positions chosen: in each window of w hashes, the smallest (rightmost on ties)."""
    chosen: dict[int, list[int]] = defaultdict(list)
    if not hashes:
        return chosen
    if len(hashes) < w:
        w = len(hashes)
    last = -1
    for start in range(len(hashes) - w + 1):
        window = hashes[start : start + w]
        low = min(window)
        position = start + max(i for i, h in enumerate(window) if h == low)
        if position != last:
            chosen[hashes[position]].append(position)
            last = position
    return chosen


def fingerprint(cells: list[str], excluded: set[int], submission=None) -> Fingerprinted:
    doc = Fingerprinted(submission, cells, normalised_tokens(cells))
    prints = winnow(_kgram_hashes(doc.tokens))
    doc.prints = {h: p for h, p in prints.items() if h not in excluded}
    return doc


def starter_hashes(release_notebook: str) -> set[int]:
    """Every k-gram of the code the students were given (all its code cells)."""
    try:
        notebook = json.loads(release_notebook)
    except ValueError:
        return set()
    return set(_kgram_hashes(normalised_tokens(_code_cells(notebook, skip_protected=False))))


def _submission_cells(submission: Submission) -> list[str]:
    try:
        notebook = json.loads(bytes(submission.notebook)[: MAX_SOURCE_CHARS * 4])
    except (ValueError, RecursionError, TypeError):
        return []
    return [source[:MAX_SOURCE_CHARS] for source in _code_cells(notebook)]


@dataclass
class Pair:
    a: Fingerprinted
    b: Fingerprinted
    shared: int

    @property
    def similarity(self) -> float:
        """Shared fingerprints over the smaller answer's fingerprints (0..1)."""
        smaller = min(len(self.a.prints), len(self.b.prints))
        return self.shared / smaller if smaller else 0.0

    @property
    def percent(self) -> int:
        return round(100 * self.similarity)


#: (submission sha256, starter notebook) -> (cells, tokens, prints): submissions never change,
#: so a worker process tokenises each answer once (Python's tokenize is the slow part: about
#: 70 ms for a 200-line answer on a busy 2-core machine).
_CACHE: OrderedDict = OrderedDict()
_CACHE_SIZE = 2048


def _cached_fingerprint(submission: Submission, excluded: set[int], starter_key: str):
    key = (submission.sha256, starter_key)
    if key in _CACHE:
        _CACHE.move_to_end(key)
        cells, tokens, prints = _CACHE[key]
        return Fingerprinted(submission, cells, tokens, dict(prints))
    doc = fingerprint(_submission_cells(submission), excluded, submission)
    _CACHE[key] = (doc.cells, doc.tokens, dict(doc.prints))
    if len(_CACHE) > _CACHE_SIZE:
        _CACHE.popitem(last=False)
    return doc


def answers(cohort, slug: str) -> list[Fingerprinted]:
    """The counted submission of each student for the assignment, fingerprinted."""
    assignment = cohort.version.assignments.get(slug=slug)
    excluded = starter_hashes(assignment.release_notebook)
    starter_key = hashlib.sha256(assignment.release_notebook.encode()).hexdigest()
    counted = [s for (_uid, s_slug), s in counted_submissions(cohort).items() if s_slug == slug]
    submissions = Submission.objects.filter(pk__in=[s.pk for s in counted]).select_related(
        "student", "assignment"
    )
    return [_cached_fingerprint(s, excluded, starter_key) for s in submissions]


def closest_pairs(docs: list[Fingerprinted], limit: int = MAX_PAIRS) -> list[Pair]:
    """Pairs sharing at least MIN_SHARED fingerprints, most similar first."""
    holders: dict[int, list[int]] = defaultdict(list)
    for index, doc in enumerate(docs):
        for h in doc.prints:
            holders[h].append(index)
    # A fingerprint in more than half the answers is an idiom of the exercise, not a copy: it
    # is dropped like the starter code, from the counts and from the marked regions.
    idioms = {h for h, indices in holders.items() if len(indices) > max(2, len(docs) // 2)}
    for doc in docs:
        doc.prints = {h: p for h, p in doc.prints.items() if h not in idioms}
    shared: Counter = Counter()
    for h, indices in holders.items():
        if h in idioms:
            continue
        for i, j in combinations(indices, 2):
            shared[(i, j)] += 1
    pairs = [Pair(docs[i], docs[j], n) for (i, j), n in shared.items() if n >= MIN_SHARED]
    pairs.sort(key=lambda p: (-p.similarity, -p.shared))
    return pairs[:limit]


@dataclass
class MarkedLine:
    number: int
    text: str
    matched: bool


def marked_cells(doc: Fingerprinted, other: Fingerprinted) -> list[list[MarkedLine]]:
    """Each code cell of `doc` as lines, with the lines inside a k-gram shared with `other`
    marked."""
    common = set(doc.prints) & set(other.prints)
    matched: set[tuple[int, int]] = set()
    for h in common:
        for start in doc.prints[h]:
            for token in doc.tokens[start : start + K]:
                matched.add((token.cell, token.line))
    return [
        [
            MarkedLine(number + 1, line, (cell, number) in matched)
            for number, line in enumerate(source.splitlines())
        ]
        for cell, source in enumerate(doc.cells)
    ]
