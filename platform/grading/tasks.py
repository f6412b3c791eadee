"""Background work, written against the django.tasks API (the django-tasks backport on Django 5.2).

Imports go one way: web-side services and recovery enqueue through this module; the task body
is the worker side (`grading.services_worker`), which imports neither of them.
"""

from django.conf import settings

try:  # Django 6
    from django.tasks import task
except ImportError:  # Django 5.2 with the backport
    from django_tasks import task

from grading.models import Submission
from grading.services_worker import grade_now
from learning.models import Assignment


@task(queue_name="grading")
def grade_submission(submission_id: int, source_assignment_id: int | None = None) -> str:
    return grade_now(submission_id, source_assignment_id)


def queue_for(assignment: Assignment) -> str:
    """GPU work goes to GPU workers only where the deployment has them."""
    if settings.KC_GRADING_GPU_QUEUE and assignment.gpu_profile.startswith("gpu"):
        return "grading-gpu"
    return "grading"


def enqueue_grading(submission_id: int, source_assignment_id: int | None = None) -> None:
    submission = Submission.objects.select_related("assignment").get(pk=submission_id)
    task = grade_submission.using(queue_name=queue_for(submission.assignment))
    result = task.enqueue(submission_id, source_assignment_id)
    Submission.objects.filter(pk=submission_id).update(task_id=str(result.id))
