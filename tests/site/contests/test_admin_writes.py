"""Issue 12, session 6: writes through the Django admin leave the boards right. The admin saves a
challenge or an entry without the site's services: the private board kept the old selection
rule, an entry's score edited or an entry deleted stayed on the board (its cached table too), and
a challenge form saved every field, its board version included, over a score that landed while
the form was open."""

from __future__ import annotations

import pytest
from contests import boards
from contests.models import Challenge, Entry
from django.contrib import admin
from django.test import Client, RequestFactory
from django.urls import reverse

from tests.site.contests.world import contest_world, hand_in
from tests.site.factories import make_user

pytestmark = pytest.mark.django_db

CSV = b"id,label\n1,0\n"


def staff():
    root = make_user("admin-root", is_staff=True, is_superuser=True)
    client = Client()
    client.force_login(root)
    return root, client


def board_scores(world, board="public"):
    challenge = Challenge.objects.get(pk=world["challenge"].pk)
    return {r.competitor: r.score for r in boards.board_rows(challenge, board, True)}


def challenge_form(challenge, **changes) -> dict:
    data = {
        "title": challenge.title,
        "title_ko": challenge.title_ko,
        "closes_at_0": "",
        "closes_at_1": "",
        "quota_per_day": challenge.quota_per_day,
        "quota_total": challenge.quota_total,
        "selection": challenge.selection,
        "max_final": challenge.max_final,
        "freeze_at_0": "",
        "freeze_at_1": "",
        "private_revealed_at_0": "",
        "private_revealed_at_1": "",
        "public_board": "on" if challenge.public_board else "",
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v != "" or not k.startswith("public_board")}


def test_a_selection_changed_in_the_admin_rebuilds_the_private_board():
    world = contest_world("admin-sel")
    challenge = world["challenge"]
    early = hand_in(world, "a1", 0.9, 0.2)
    hand_in(world, "a1", 0.5, 0.8)
    team = f"t{world['team_a'].pk}"
    Entry.objects.filter(pk=early.pk).update(is_final=True)
    assert board_scores(world, "private")[team] == 0.8  # best private of all entries
    _root, client = staff()
    url = reverse("admin:contests_challenge_change", args=[challenge.pk])
    answer = client.post(url, challenge_form(challenge, selection="final"))
    assert answer.status_code == 302, answer.context["adminform"].form.errors
    assert board_scores(world, "private")[team] == 0.2  # the entry marked final


def test_the_admin_never_writes_an_old_board_version_back():
    world = contest_world("admin-stale")
    challenge = Challenge.objects.get(pk=world["challenge"].pk)  # the form's copy
    hand_in(world, "a1", 0.6)  # lands while the form is open
    landed = Challenge.objects.get(pk=challenge.pk).board_version
    root, _client = staff()
    request = RequestFactory().post("/admin/")
    request.user = root
    model_admin = admin.site._registry[Challenge]
    form_class = model_admin.get_form(request, challenge, change=True)
    form = form_class(challenge_form(challenge, quota_total=7), instance=challenge)
    assert form.is_valid(), form.errors
    model_admin.save_model(request, form.save(commit=False), form, change=True)
    after = Challenge.objects.get(pk=challenge.pk)
    assert after.quota_total == 7
    assert after.board_version > landed


def test_an_entry_edited_or_deleted_in_the_admin_leaves_the_board_at_once():
    world = contest_world("admin-entry")
    challenge = world["challenge"]
    ours = hand_in(world, "a1", 0.9)
    hand_in(world, "b1", 0.5)
    page = reverse("challenge-board", args=[world["event"].slug, challenge.slug])
    viewer = Client()
    viewer.force_login(world["b2"])
    assert "0.9000" in viewer.get(page).content.decode()  # cached now
    _root, client = staff()
    # Unranked by an organizer in the admin (e.g. found to cheat).
    url = reverse("admin:contests_entry_change", args=[ours.pk])
    form = client.get(url).context["adminform"].form
    data = {}
    for name, value in form.initial.items():
        if name not in form.fields or value is None or value is False:
            continue  # an unchecked box is left out of a form's POST
        data[name] = form.fields[name].widget.format_value(value) if name == "flags" else value
    data.pop("ranked")
    data["flags"] = "[]"  # an entry without flags (the usual case) saves
    answer = client.post(url, data)
    assert answer.status_code == 302, answer.context["adminform"].form.errors
    assert not Entry.objects.get(pk=ours.pk).ranked
    assert "0.9000" not in viewer.get(page).content.decode()
    assert board_scores(world)[f"t{world['team_a'].pk}"] is None
    # The other team's entry deleted with the admin's bulk action.
    theirs = Entry.objects.get(competitor=f"t{world['team_b'].pk}")
    answer = client.post(
        reverse("admin:contests_entry_changelist"),
        {"action": "delete_selected", "post": "yes", "_selected_action": [theirs.pk]},
    )
    assert answer.status_code == 302
    assert "0.5000" not in viewer.get(page).content.decode()
