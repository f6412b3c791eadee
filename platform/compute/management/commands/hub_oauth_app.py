"""Create or update the hub's OAuth application and print where its credentials are."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandParser

from compute.oauth_app import HUB_CLIENT_ID, credentials_path, ensure_hub_application


class Command(BaseCommand):
    help = "Create/update JupyterHub's OAuth client at the site; write its secret (mode 600)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--redirect-uri", default="http://127.0.0.1:8001/hub/oauth_callback")
        parser.add_argument("--client-id", default=HUB_CLIENT_ID)
        parser.add_argument("--show-secret", action="store_true")

    def handle(self, *args, **options) -> None:
        data = ensure_hub_application(options["redirect_uri"], options["client_id"])
        self.stdout.write(f"client_id: {data['client_id']}")
        if options["show_secret"]:
            self.stdout.write(f"client_secret: {data['client_secret']}")
        self.stdout.write(f"credentials: {credentials_path()}")
