from django.urls import path

from learning import views_student as student
from learning import views_teaching as teaching

urlpatterns = [
    path("", student.home, name="home"),
    path("cohorts/<int:pk>/", student.cohort_detail, name="cohort-detail"),
    path(
        "cohorts/<int:pk>/assignments/<slug:slug>/",
        student.assignment_detail,
        name="assignment-detail",
    ),
    path(
        "cohorts/<int:pk>/assignments/<slug:slug>/notebook",
        student.assignment_notebook,
        name="assignment-notebook",
    ),
    path("join/", student.join, name="join"),
    path("join/<str:code>/", student.join, name="join-code"),
    path("teach/", teaching.dashboard, name="teach-dashboard"),
    path("teach/publish/<slug:slug>/", teaching.publish, name="teach-publish"),
    path("teach/courses/<slug:slug>/", teaching.course_detail, name="teach-course"),
    path("teach/cohorts/<int:pk>/", teaching.cohort_manage, name="teach-cohort"),
    path("teach/cohorts/<int:pk>/invites/", teaching.create_invite, name="teach-invite"),
    path("teach/cohorts/<int:pk>/members/", teaching.add_member, name="teach-add-member"),
    path("teach/cohorts/<int:pk>/roster-csv/", teaching.import_roster, name="teach-import"),
    path("teach/cohorts/<int:pk>/policy/", teaching.update_policy, name="teach-policy"),
    path("teach/cohorts/<int:pk>/schedule/", teaching.update_schedule, name="teach-schedule"),
    path("teach/cohorts/<int:pk>/extensions/", teaching.grant_extension, name="teach-extension"),
    path("teach/cohorts/<int:pk>/version/", teaching.move_version, name="teach-move-version"),
]
