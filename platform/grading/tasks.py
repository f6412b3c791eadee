"""Background work, written against the django.tasks API (the django-tasks backport on Django 5.2)."""

try:  # Django 6
    from django.tasks import task
except ImportError:  # Django 5.2 with the backport
    from django_tasks import task


@task(queue_name="grading")
def grade_submission(submission_id: int, source_assignment_id: int | None = None) -> str:
    from grading.services import grade_now

    return grade_now(submission_id, source_assignment_id)
