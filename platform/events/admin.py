from django.contrib import admin

from events.models import Event, EventRole


class EventRoleInline(admin.TabularInline):
    model = EventRole
    extra = 0


@admin.register(Event)
class EventAdmin(admin.ModelAdmin):
    list_display = ("title", "organization", "starts_at", "ends_at")
    prepopulated_fields = {"slug": ("title",)}
    inlines = [EventRoleInline]
