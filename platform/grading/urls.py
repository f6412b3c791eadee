from django.urls import path

from grading import views, views_review

urlpatterns = [
    path("cohorts/<int:pk>/assignments/<slug:slug>/submit", views.submit, name="submit"),
    path("submissions/<int:pk>/", views.submission_detail, name="submission-detail"),
    path("submissions/<int:pk>/status", views.submission_status, name="submission-status"),
    path("submissions/<int:pk>/feedback", views.submission_feedback, name="submission-feedback"),
    path("teach/cohorts/<int:pk>/gradebook/", views.gradebook, name="gradebook"),
    path("teach/cohorts/<int:pk>/gradebook.csv", views.gradebook_csv, name="gradebook-csv"),
    path("teach/cohorts/<int:pk>/overrides/", views.override, name="grade-override"),
    path("teach/cohorts/<int:pk>/regrade/<slug:slug>/", views.regrade, name="regrade"),
    path("teach/regrades/<int:pk>/", views.regrade_detail, name="regrade-detail"),
    path(
        "teach/cohorts/<int:pk>/hidden-tests/<slug:slug>/",
        views.release_tests,
        name="release-tests",
    ),
    path("teach/cohorts/<int:pk>/reviews/", views_review.review_queue, name="review-queue"),
    path("teach/reviews/<int:pk>/", views_review.review_detail, name="review-detail"),
    path("teach/reviews/<int:pk>/decide", views_review.review_decide, name="review-decide"),
]
