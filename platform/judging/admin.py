from django.contrib import admin

from judging.models import Criterion, JudgeAssignment, JudgeConflict


@admin.register(Criterion)
class CriterionAdmin(admin.ModelAdmin):
    list_display = ("name", "event", "weight", "max_points")
    list_filter = ("event",)


@admin.register(JudgeConflict)
class JudgeConflictAdmin(admin.ModelAdmin):
    list_display = ("judge", "team", "event", "reason")


@admin.register(JudgeAssignment)
class JudgeAssignmentAdmin(admin.ModelAdmin):
    list_display = ("project", "judge", "completed_at")
    list_filter = ("event",)
