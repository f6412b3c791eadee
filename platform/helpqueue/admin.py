from django.contrib import admin

from helpqueue.models import HelpRequest


@admin.register(HelpRequest)
class HelpRequestAdmin(admin.ModelAdmin):
    list_display = ["topic", "asker", "event", "cohort", "status", "created_at", "claimed_by"]
    list_filter = ["status"]
