"""The Django admin for challenges and entries. Its saves go through what the site's own writes
do afterwards: the boards are computed again and their version raised (the cached tables and
the JSON's ETag follow the version), and a challenge is saved field by field, so a stale form
never writes an old board version back over one a score raised meanwhile."""

from django.contrib import admin
from django.db import transaction

from contests.models import Challenge, Entry


@admin.register(Challenge)
class ChallengeAdmin(admin.ModelAdmin):
    """Organizer settings the manifest does not decide: quota, selection, closing, visibility."""

    list_display = ("title", "event", "kind", "version", "freeze_at", "private_revealed_at")
    list_filter = ("kind", "event")
    fields = (
        "title",
        "title_ko",
        "closes_at",
        "quota_per_day",
        "quota_total",
        "selection",
        "max_final",
        "freeze_at",
        "private_revealed_at",
        "public_board",
    )

    def save_model(self, request, obj, form, change):
        if not change:
            super().save_model(request, obj, form, change)
            return
        from contests import services
        from contests.boards import rebuild_board

        changed = [name for name in self.fields if name in form.changed_data]
        if not changed:
            return
        with transaction.atomic():
            rest = [name for name in changed if name != "freeze_at"]
            if rest:
                obj.save(update_fields=rest)
            if "freeze_at" in changed:
                # As the organizer's page does: unfreezing shows the live standings again.
                services.set_freeze(obj, form.cleaned_data["freeze_at"])
            rebuild_board(obj)  # the selection rule may change which entry stands for a team
        obj.refresh_from_db()


def _refresh(entries) -> None:
    from contests.boards import refresh_rows
    from contests.services import bump_board

    for challenge, competitor in {(e.challenge, e.competitor) for e in entries}:
        if competitor.startswith("t") and not _team_exists(competitor):
            continue  # a deleted team's entries stay off the board (boards.rebuild_board)
        refresh_rows(challenge, competitor)
        bump_board(challenge)


def _team_exists(competitor: str) -> bool:
    from teams.models import Team

    return Team.objects.filter(pk=int(competitor[1:])).exists()


@admin.register(Entry)
class EntryAdmin(admin.ModelAdmin):
    list_display = ("pk", "challenge", "competitor", "status", "public_score", "created_at")
    list_filter = ("status", "challenge")
    readonly_fields = ("sha256", "size", "result", "competitor", "created_at")
    exclude = ("file",)

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        if "flags" in form.base_fields:
            form.base_fields["flags"].required = False  # no flags is "[]", the usual case
        return form

    def save_model(self, request, obj, form, change):
        with transaction.atomic():
            if change:
                obj.save(update_fields=[n for n in form.changed_data if n in form.fields])
            else:
                obj.save()
            _refresh([obj])

    def delete_model(self, request, obj):
        with transaction.atomic():
            obj.delete()
            _refresh([obj])

    def delete_queryset(self, request, queryset):
        with transaction.atomic():
            entries = list(queryset.select_related("challenge"))
            queryset.delete()
            _refresh(entries)
