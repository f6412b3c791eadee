"""Korean interface: key pages render in Korean, the switch is remembered, and no string is left
untranslated in the catalogue (this last test fails whenever a new string lacks a translation:
run `makemessages -l ko` from platform/ and translate it)."""

from __future__ import annotations

import ast
import re
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse

LOCALE_DIR = Path(settings.LOCALE_PATHS[0]) / "ko" / "LC_MESSAGES"
PO_FILE = LOCALE_DIR / "django.po"
MO_FILE = LOCALE_DIR / "django.mo"
KOREAN = {"HTTP_ACCEPT_LANGUAGE": "ko"}


# --- a small .po reader (polib is not a dependency) ----------------------------------------------


@dataclass
class Entry:
    line: int
    msgctxt: str | None = None
    msgid: str = ""
    msgid_plural: str | None = None
    msgstr: dict[int, str] = field(default_factory=dict)
    flags: set[str] = field(default_factory=set)
    obsolete: bool = False


_KEYWORD = re.compile(r'^(msgctxt|msgid_plural|msgid|msgstr(?:\[(\d+)\])?)\s+(".*")\s*$')


def read_po(path: Path) -> list[Entry]:
    """Entries of a gettext catalogue, header included (msgid "")."""
    entries: list[Entry] = []
    current: Entry | None = None
    target: tuple[str, int | None] | None = None

    def start(lineno: int) -> Entry:
        nonlocal current
        if current is None or current.msgstr:
            current = Entry(line=lineno)
            entries.append(current)
        return current

    for lineno, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        line = raw.strip()
        obsolete = line.startswith("#~")
        if obsolete:
            line = line[2:].strip()
        if not line:
            target = None
            continue
        if line.startswith("#,"):
            entry = start(lineno)
            entry.flags |= {flag.strip() for flag in line[2:].split(",") if flag.strip()}
            continue
        if line.startswith("#"):
            continue
        match = _KEYWORD.match(line)
        if match:
            keyword, index, quoted = match.groups()
            entry = current if keyword.startswith("msgstr") and current else start(lineno)
            if keyword == "msgid" and entry.msgid:
                entry = start(lineno)  # an entry without msgstr: malformed, but keep going
            entry.obsolete = entry.obsolete or obsolete
            name = "msgstr" if keyword.startswith("msgstr") else keyword
            target = (name, int(index) if index is not None else (0 if name == "msgstr" else None))
            _append(entry, target, ast.literal_eval(quoted))
        elif line.startswith('"') and target is not None and current is not None:
            _append(current, target, ast.literal_eval(line))
        else:
            raise ValueError(f"{path}:{lineno}: cannot read {raw!r}")
    return entries


def _append(entry: Entry, target: tuple[str, int | None], text: str) -> None:
    name, index = target
    if name == "msgstr":
        entry.msgstr[index] = entry.msgstr.get(index, "") + text
    else:
        setattr(entry, name, (getattr(entry, name) or "") + text)


# %(name)s, %(size).1f, %(max)g, %s, %% and {name} / {{ name }} must all survive translation.
_PLACEHOLDER = re.compile(r"%(?:\(\w+\))?[-#0+]*\d*(?:\.\d+)?[sdifgGeExXr%]|\{\{.*?\}\}|\{\w*\}")


def placeholders(text: str) -> list[str]:
    return sorted(_PLACEHOLDER.findall(text))


# --- the catalogue -----------------------------------------------------------------------------


def live_entries() -> list[Entry]:
    return [e for e in read_po(PO_FILE) if e.msgid and not e.obsolete]


def test_the_catalogue_exists_and_has_a_korean_header():
    assert PO_FILE.is_file(), "run `makemessages -l ko` in platform/"
    header = next(e for e in read_po(PO_FILE) if e.msgid == "")
    assert "Language: ko" in header.msgstr[0]
    assert "charset=UTF-8" in header.msgstr[0]
    assert "fuzzy" not in header.flags


def test_every_message_has_a_korean_translation():
    entries = live_entries()
    assert len(entries) > 100
    untranslated = [
        f"line {e.line}: {e.msgid!r}" for e in entries if not all(e.msgstr.values()) or not e.msgstr
    ]
    fuzzy = [f"line {e.line}: {e.msgid!r}" for e in entries if "fuzzy" in e.flags]
    assert not untranslated, "untranslated in django.po:\n" + "\n".join(untranslated)
    assert not fuzzy, "fuzzy (unchecked) in django.po:\n" + "\n".join(fuzzy)


def test_translations_keep_every_placeholder():
    broken = []
    for e in live_entries():
        for text in e.msgstr.values():
            if placeholders(text) != placeholders(e.msgid_plural or e.msgid):
                broken.append(f"line {e.line}: {e.msgid!r} -> {text!r}")
    assert not broken, "placeholders differ:\n" + "\n".join(broken)


# Messages whose right Korean text has no Hangul in it (brand names, codes); add with care.
NOT_HANGUL = frozenset({"API"})


def test_translations_are_korean():
    not_korean = [
        f"line {e.line}: {e.msgid!r}"
        for e in live_entries()
        if e.msgid not in NOT_HANGUL
        and not any("\uac00" <= ch <= "\ud7a3" for ch in "".join(e.msgstr.values()))
    ]
    assert not not_korean, "no Hangul in:\n" + "\n".join(not_korean)


def test_the_catalogue_compiles():
    result = subprocess.run(
        ["msgfmt", "--check", "-o", "/dev/null", str(PO_FILE)], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr


# --- pages in Korean ---------------------------------------------------------------------------


@pytest.fixture(autouse=True, scope="module")
def compiled_catalogue():
    """The .mo is not in git (scripts/bootstrap.sh makes it); build it here if it is stale."""
    if not MO_FILE.is_file() or MO_FILE.stat().st_mtime < PO_FILE.stat().st_mtime:
        subprocess.run(["msgfmt", "--check", "-o", str(MO_FILE), str(PO_FILE)], check=True)
        from django.utils.translation.reloader import translation_file_changed

        translation_file_changed(sender=None, file_path=MO_FILE)  # drop cached catalogues
    yield


@pytest.mark.parametrize(
    "url, korean",
    [
        ("/", ["직접 해 보며 GPU 프로그래밍을 배우세요.", "로그인", "회원가입"]),
        ("/accounts/login/", ["아직 계정이 없으신가요?", "로그인"]),
        ("/accounts/register/", ["계정 만들기", "이메일", "표시 이름"]),
    ],
)
def test_public_pages_in_korean(client, db, url, korean):
    response = client.get(url, **KOREAN)
    assert response.status_code == 200
    html = response.content.decode()
    assert '<html lang="ko">' in html
    for text in korean:
        assert text in html
    assert "Log in" not in html


def test_teaching_dashboard_in_korean(client, people, course_dirs):
    client.force_login(people["instructor"])
    response = client.get(reverse("teach-dashboard"), **KOREAN)
    assert response.status_code == 200
    html = response.content.decode()
    for text in [
        "강의",
        "저장소의 강좌",
        "아직 담당하는 강좌가 없습니다.",
        "아직 없음",
        "게시",
        "내 강좌",
    ]:
        assert text in html, text
    assert "Courses in the repository" not in html


def test_student_pages_in_korean(client, published, people):
    client.force_login(people["student"])
    html = client.get(reverse("home"), **KOREAN).content.decode()
    assert "내 강좌" in html and "기수 참여" in html
    cohort = published["cohort"]
    html = client.get(reverse("cohort-detail", args=[cohort.pk]), **KOREAN).content.decode()
    assert "버전 1" in html
    assert "과제" in html and "마감" in html
    html = client.get(reverse("join"), **KOREAN).content.decode()
    assert "강사에게 받은 초대 코드를 입력하세요." in html


def test_messages_are_translated(client, course_dirs, people):
    client.force_login(people["instructor"])
    response = client.post(reverse("teach-publish", args=["tiny"]), follow=True, **KOREAN)
    assert "Tiny course 버전 1을(를) 게시했습니다." in response.content.decode()


# --- the language switch -----------------------------------------------------------------------


def test_set_language_is_remembered_on_the_account(client, people):
    student = people["student"]
    assert student.language == ""
    client.force_login(student)
    response = client.post("/i18n/setlang/", {"language": "ko", "next": "/"})
    assert response.status_code == 302
    assert response.url == "/"
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "ko"
    student.refresh_from_db()
    assert student.language == "ko"

    # Another browser (no cookie, an English Accept-Language) still gets Korean for this user.
    client.cookies.pop(settings.LANGUAGE_COOKIE_NAME)
    html = client.get("/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert '<html lang="ko">' in html and "내 강좌" in html

    # And switching back is remembered too.
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    student.refresh_from_db()
    assert student.language == "en"
    client.cookies.pop(settings.LANGUAGE_COOKIE_NAME)
    html = client.get("/", **KOREAN).content.decode()
    assert "My courses" in html


def test_set_language_for_a_visitor_only_sets_the_cookie(client, db):
    response = client.post("/i18n/setlang/", {"language": "ko", "next": "/accounts/login/"})
    assert response.status_code == 302
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "ko"
    html = client.get("/accounts/login/").content.decode()
    assert "아직 계정이 없으신가요?" in html


def test_an_unknown_language_is_ignored(client, people):
    student = people["student"]
    client.force_login(student)
    client.post("/i18n/setlang/", {"language": "xx", "next": "/"})
    student.refresh_from_db()
    assert student.language == ""


def test_set_language_only_accepts_post(client, db):
    assert client.get("/i18n/setlang/?language=ko").status_code == 405
