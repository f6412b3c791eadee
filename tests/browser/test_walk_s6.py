"""Pages of the hackathon at a phone's width that scrolled sideways on the session 6 walk."""

from __future__ import annotations

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_team_page_fits_a_phone(site):
    """The team's invite link (scheme, host, port and code in one word of code type) widened
    the teams page by 26 px at 390 px."""
    from teams.services import create_team
    from tests.site.hackathon import hackathon, registered

    event = hackathon("walk-six-phone-width")
    (member,) = registered(event, "walk-six-member")
    create_team(event, member, "Long Link Team")
    site.log_in("walk-six-member")
    site.driver.set_window_size(390, 900)
    site.open(f"/events/{event.slug}/teams/")
    site.find("#team-link")
    overflow = site.driver.execute_script(
        "return document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 1, f"the teams page scrolls sideways by {overflow} px at 390 px"
