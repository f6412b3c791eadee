"""Makes the signed-in user the actor of audit entries recorded while serving their request."""

from __future__ import annotations

from audit.services import acting_as


class AuditActorMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        # request.user is lazy: read it only when something is recorded.
        with acting_as(lambda: getattr(request, "user", None)):
            return self.get_response(request)
