from django.urls import path

from grading import views, views_feedback, views_insight, views_manual, views_review

urlpatterns = [
    path("cohorts/<int:pk>/assignments/<slug:slug>/submit", views.submit, name="submit"),
    path("submissions/<int:pk>/", views.submission_detail, name="submission-detail"),
    path("submissions/<int:pk>/status", views.submission_status, name="submission-status"),
    path("submissions/<int:pk>/feedback", views.submission_feedback, name="submission-feedback"),
    path(
        "submissions/<int:pk>/feedback/",
        views_feedback.feedback_page,
        name="submission-feedback-page",
    ),
    path(
        "submissions/<int:pk>/feedback.html",
        views_feedback.feedback_download,
        name="submission-feedback-download",
    ),
    path("cohorts/<int:pk>/progress/", views_insight.my_progress, name="my-progress"),
    path("teach/cohorts/<int:pk>/progress/", views_insight.cohort_progress, name="cohort-progress"),
    path(
        "teach/cohorts/<int:pk>/students/<int:user_pk>/",
        views_insight.student_progress,
        name="student-progress",
    ),
    path(
        "teach/cohorts/<int:pk>/assignments/<slug:slug>/insight/",
        views_insight.assignment_insight,
        name="assignment-insight",
    ),
    path(
        "teach/cohorts/<int:pk>/assignments/<slug:slug>/similarity/",
        views_insight.similarity_pairs,
        name="similarity",
    ),
    path(
        "teach/cohorts/<int:pk>/assignments/<slug:slug>/similarity/<int:a>/<int:b>/",
        views_insight.similarity_pair,
        name="similarity-pair",
    ),
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
    path("teach/cohorts/<int:pk>/grade/<slug:slug>/", views_manual.desk, name="manual-desk"),
    path(
        "teach/cohorts/<int:pk>/grade/<slug:slug>/release",
        views_manual.release,
        name="manual-release",
    ),
    path("teach/grade/<int:pk>/", views_manual.grade_submission, name="manual-grade"),
    path("teach/cohorts/<int:pk>/reviews/", views_review.review_queue, name="review-queue"),
    path("teach/reviews/<int:pk>/", views_review.review_detail, name="review-detail"),
    path("teach/reviews/<int:pk>/decide", views_review.review_decide, name="review-decide"),
]
