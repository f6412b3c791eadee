"""A request scope for `events.permissions.event_roles`: each request reads a user's roles in an
event once, however many rules its view and templates ask (an event page asks about a dozen)."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from events.permissions import request_scope


class EventRolesMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        # The scope closes when the response is made: a streamed body reads roles afresh.
        with request_scope():
            return self.get_response(request)
