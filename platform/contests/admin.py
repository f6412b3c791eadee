from django.contrib import admin

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


@admin.register(Entry)
class EntryAdmin(admin.ModelAdmin):
    list_display = ("pk", "challenge", "competitor", "status", "public_score", "created_at")
    list_filter = ("status", "challenge")
    readonly_fields = ("sha256", "size", "result", "competitor", "created_at")
    exclude = ("file",)
