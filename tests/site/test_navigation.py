"""The menu offers only what its pages let the user in to."""

from django.test import Client


def _menu(user) -> str:
    client = Client()
    client.force_login(user)
    return client.get("/").content.decode()


def test_teaching_is_in_the_menu_only_for_those_who_teach(published, people):
    assert 'id="nav-teach"' not in _menu(people["student"])
    assert 'id="nav-teach"' not in _menu(people["outsider"])
    for teacher in ("instructor", "ta", "staff"):
        assert 'id="nav-teach"' in _menu(people[teacher]), teacher
    # Whoever sees the link may open the page.
    client = Client()
    client.force_login(people["ta"])
    assert client.get("/teach/").status_code == 200
    client.force_login(people["student"])
    assert client.get("/teach/").status_code == 403
