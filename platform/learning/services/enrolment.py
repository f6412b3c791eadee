"""Putting people into cohorts: by hand, by CSV and by invite code, within seat limits."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from learning.models import Cohort, Enrolment, InviteCode

EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
USERNAME_RE = re.compile(r"^[\w.@+-]{1,150}$")


class EnrolmentError(ValueError):
    pass


def _take_seat(cohort: Cohort) -> None:
    """Reserve a seat with one conditional UPDATE, so concurrent joins can never oversell."""
    seats = Cohort.objects.filter(pk=cohort.pk)
    if cohort.seat_limit is not None:
        seats = seats.filter(seats_taken__lt=F("seat_limit"))
    if seats.update(seats_taken=F("seats_taken") + 1) != 1:
        raise EnrolmentError(_("This cohort is full."))


@transaction.atomic
def enrol(cohort: Cohort, user, *, source: str, role: str = Enrolment.Role.STUDENT) -> Enrolment:
    existing = Enrolment.objects.filter(cohort=cohort, user=user).first()
    if existing:
        return existing
    if role == Enrolment.Role.STUDENT:
        _take_seat(cohort)
    try:
        with transaction.atomic():
            return Enrolment.objects.create(cohort=cohort, user=user, role=role, source=source)
    except IntegrityError:
        # The same person joined twice at once: give the seat back and keep the first enrolment.
        if role == Enrolment.Role.STUDENT:
            Cohort.objects.filter(pk=cohort.pk).update(seats_taken=F("seats_taken") - 1)
        return Enrolment.objects.get(cohort=cohort, user=user)


@transaction.atomic
def unenrol(enrolment: Enrolment) -> None:
    if enrolment.role == Enrolment.Role.STUDENT:
        Cohort.objects.filter(pk=enrolment.cohort_id).update(seats_taken=F("seats_taken") - 1)
    enrolment.delete()


def join_with_code(user, code: str) -> Enrolment:
    code = code.strip().upper()
    with transaction.atomic():
        invite = InviteCode.objects.select_related("cohort").filter(code=code).first()
        if invite is None:
            raise EnrolmentError(_("There is no invite code %(code)s.") % {"code": code})
        existing = Enrolment.objects.filter(cohort=invite.cohort, user=user).first()
        if existing:
            return existing
        now = timezone.now()
        if not invite.active or (invite.expires_at and invite.expires_at <= now):
            raise EnrolmentError(_("This invite code has expired."))
        usable = InviteCode.objects.filter(pk=invite.pk)
        if invite.max_uses is not None:
            usable = usable.filter(Q(uses__lt=F("max_uses")))
        if usable.update(uses=F("uses") + 1) != 1:
            raise EnrolmentError(_("This invite code has been used up."))
        return enrol(invite.cohort, user, source=Enrolment.Source.INVITE)


@dataclass
class CsvRow:
    line: int
    username: str
    email: str
    name: str
    role: str
    errors: list[str] = field(default_factory=list)
    exists: bool = False
    already_enrolled: bool = False


@dataclass
class CsvPreview:
    rows: list[CsvRow]
    errors: list[str]

    @property
    def ok(self) -> bool:
        return not self.errors and all(not r.errors for r in self.rows)

    @property
    def new_students(self) -> int:
        return sum(
            1 for r in self.rows if not r.already_enrolled and r.role == Enrolment.Role.STUDENT
        )


def preview_csv(cohort: Cohort, text: str) -> CsvPreview:
    """Check a roster CSV (columns: email, name, optional username and role) without writing."""
    User = get_user_model()
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    headers = [h.strip().lower() for h in (reader.fieldnames or [])]
    if "email" not in headers:
        return CsvPreview(
            [], [_("The first line must be a header with at least an 'email' column.")]
        )
    reader.fieldnames = headers
    rows: list[CsvRow] = []
    seen: dict[str, int] = {}
    for line, raw in enumerate(reader, start=2):
        email = (raw.get("email") or "").strip().lower()
        row = CsvRow(
            line=line,
            email=email,
            name=(raw.get("name") or "").strip(),
            username=(raw.get("username") or "").strip() or email.split("@")[0],
            role=(raw.get("role") or Enrolment.Role.STUDENT).strip().lower(),
        )
        if not EMAIL_RE.match(email):
            row.errors.append(_("'%(email)s' is not an email address.") % {"email": email})
        if row.role not in Enrolment.Role.values:
            row.errors.append(_("Unknown role '%(role)s'.") % {"role": row.role})
        if not USERNAME_RE.match(row.username):
            row.errors.append(_("'%(name)s' is not a valid username.") % {"name": row.username})
        if email in seen:
            row.errors.append(_("Repeats the email on line %(line)d.") % {"line": seen[email]})
        seen.setdefault(email, line)
        user = User.objects.filter(email__iexact=email).first() if email else None
        if user:
            row.exists = True
            row.username = user.username
            row.already_enrolled = cohort.enrolments.filter(user=user).exists()
        elif User.objects.filter(username=row.username).exists():
            row.errors.append(
                _("Username '%(name)s' belongs to someone with another email.")
                % {"name": row.username}
            )
        rows.append(row)
    errors = []
    if not rows:
        errors.append(_("The file has no rows."))
    seat_limit, seats_taken = Cohort.objects.values_list("seat_limit", "seats_taken").get(
        pk=cohort.pk
    )
    free = None if seat_limit is None else seat_limit - seats_taken
    preview = CsvPreview(rows, errors)
    if free is not None and preview.new_students > free:
        errors.append(
            _("%(n)d new students but only %(free)d seats are free.")
            % {"n": preview.new_students, "free": free}
        )
    return preview


@transaction.atomic
def import_csv(cohort: Cohort, text: str) -> CsvPreview:
    """Enrol everyone in the CSV, or no one: any error leaves the cohort as it was."""
    preview = preview_csv(cohort, text)
    if not preview.ok:
        raise EnrolmentError(_("The CSV has errors; nothing was imported."))
    User = get_user_model()
    for row in preview.rows:
        user = User.objects.filter(email__iexact=row.email).first()
        if user is None:
            first, _sep, last = row.name.partition(" ")
            user = User(username=row.username, email=row.email, first_name=first, last_name=last)
            user.set_unusable_password()
            user.save()
        enrol(cohort, user, source=Enrolment.Source.CSV, role=row.role)
    return preview
