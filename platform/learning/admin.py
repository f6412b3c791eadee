from django.contrib import admin

from learning import models


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_change_permission(self, request, obj=None):
        return False


class AssignmentInline(ReadOnlyInline):
    model = models.Assignment
    fields = ("position", "slug", "title", "points", "notebook_path")
    readonly_fields = fields


@admin.register(models.Course)
class CourseAdmin(admin.ModelAdmin):
    list_display = ("title", "slug", "organization")


@admin.register(models.CourseVersion)
class CourseVersionAdmin(admin.ModelAdmin):
    list_display = ("course", "number", "published_at", "content_hash")
    readonly_fields = [f.name for f in models.CourseVersion._meta.fields]
    inlines = [AssignmentInline]


class EnrolmentInline(admin.TabularInline):
    model = models.Enrolment
    extra = 0


@admin.register(models.Cohort)
class CohortAdmin(admin.ModelAdmin):
    list_display = (
        "name",
        "course",
        "version",
        "starts_on",
        "ends_on",
        "seats_taken",
        "seat_limit",
    )
    inlines = [EnrolmentInline]


admin.site.register(models.CourseStaff)
admin.site.register(models.InviteCode)
admin.site.register(models.Extension)
admin.site.register(models.AssignmentSchedule)
