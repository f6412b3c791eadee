from django.urls import path

from judging import views

urlpatterns = [
    path("events/<slug:slug>/judging/", views.judge_home, name="judge-home"),
    path(
        "events/<slug:slug>/judging/conflict/", views.judge_declare_conflict, name="judge-conflict"
    ),
    path("events/<slug:slug>/judging/manage/", views.judging_manage, name="judging-manage"),
    path("events/<slug:slug>/results/", views.event_results, name="event-results"),
    path("events/<slug:slug>/results.csv", views.event_results_csv, name="event-results-csv"),
    path("judging/assignments/<int:pk>/", views.judge_score, name="judge-score"),
]
