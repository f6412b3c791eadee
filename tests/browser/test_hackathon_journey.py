"""A hackathon in a real browser: register with the invite code, form a team, see the live
announcement banner, submit a project with a notebook, a judge scores it, the organizer publishes
and the participant sees the results."""

from __future__ import annotations

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def sign_in_as(site, username: str) -> None:
    site.driver.delete_all_cookies()
    site.log_in(username)


def test_register_team_submit_judge_publish(site, tmp_path):
    from events.services import post_announcement
    from judging.models import Criterion, JudgeAssignment
    from judging.services import assign_judges
    from tests.site.factories import make_user
    from tests.site.hackathon import hackathon

    event = hackathon("browser-hack", registration_mode="invite", invite_code="GPU2026")
    organizer, judge = make_user("organizer"), make_user("judge")
    make_user("hacker")
    event.roles.create(user=organizer, role="organizer")
    event.roles.create(user=judge, role="judge")
    Criterion.objects.create(event=event, name="Speed-up", weight=3, max_points=10)

    # A participant registers with the invite code and creates a team.
    sign_in_as(site, "hacker")
    site.open(f"/events/{event.slug}/register/")
    site.fill({"code": "GPU2026"})
    site.click("#register-form button")
    site.path_is(rf"/events/{event.slug}/teams/")
    site.fill({"name": "Warp Drive"})
    site.click("#create-team button")
    site.text_in("#my-team", "Warp Drive")
    assert site.find("#team-code").text.strip()

    # The organizer's announcement reaches the open page through the htmx banner.
    post_announcement(event, organizer, "Pizza in room 2")
    site.text_in("#event-banner", "Pizza in room 2")

    # Submit the project with a notebook; the page shows what judges will see.
    site.click("#team-project-link")
    notebook = tmp_path / "kernel.ipynb"
    notebook.write_text('{"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}')
    site.fill({"title": "Tiled matmul", "description": "Shared-memory tiles."})
    site.find("#p-file").send_keys(str(notebook))
    site.click("#project-form button")
    site.text_in("#project-as-judged", "Tiled matmul")
    site.text_in("#project-as-judged", "kernel.ipynb")

    # The organizer assigns judges; the judge scores from their page.
    assign_judges(event, 1)
    assignment = JudgeAssignment.objects.get()
    sign_in_as(site, "judge")
    site.open(f"/events/{event.slug}/judging/")
    site.click_element(site.find("#judge-assignments a"))
    site.text_in("#project-as-judged", "Tiled matmul")
    site.fill({f"c{Criterion.objects.get().pk}": "8", "comment": "Fast."})
    site.click("#score-form button")
    site.text_in("#judge-assignments", "scored")
    assignment.refresh_from_db()
    assert assignment.completed_at is not None

    # The organizer publishes; the participant then sees the results.
    sign_in_as(site, "organizer")
    site.open(f"/events/{event.slug}/judging/manage/")
    site.click("#publish-results")
    site.find("#results-published")
    sign_in_as(site, "hacker")
    site.open(f"/events/{event.slug}/results/")
    site.text_in("#results", "Tiled matmul")
    site.text_in("#results", "80.0")
