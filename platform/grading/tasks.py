"""Background work, written against the django.tasks API (the django-tasks backport on Django 5.2).

Imports go one way: web-side services and recovery enqueue through this module; the task body
is the worker side (`grading.services_worker`), which imports neither of them.
"""

from django.conf import settings

try:  # Django 6
    from django.tasks import task
except ImportError:  # Django 5.2 with the backport
    from django_tasks import task

from grading.models import Grade, Submission
from grading.services_worker import grade_now
from learning.models import Assignment

GPU_QUEUE = "grading-gpu"


@task(queue_name="grading")
def grade_submission(
    submission_id: int, source_assignment_id: int | None = None, on_gpu: bool = False
) -> str:
    outcome = grade_now(submission_id, source_assignment_id)
    if outcome == "graded" and not on_gpu:
        send_gpu_cells_to_gpu(submission_id)
    return outcome


def send_gpu_cells_to_gpu(submission_id: int) -> bool:
    """Where GPU workers exist (KC_GRADING_GPU_QUEUE), a grade whose GPU-only cells wait (graded
    on the simulator) is graded again there, against the same source; until then the grade
    stands with those cells waiting, and the new grade replaces it with the totals updated.
    Sent once: the GPU run never sends again (`on_gpu`), whatever its device turned out to be."""
    if not settings.KC_GRADING_GPU_QUEUE:
        return False
    grade = Grade.objects.filter(submission_id=submission_id, waiting_gpu_points__gt=0).first()
    if grade is None:
        return False
    # A worker that dies on the way is replaced by one grading against the same source.
    Submission.objects.filter(pk=submission_id).update(regrade_against=grade.graded_against_id)
    grade_submission.using(queue_name=GPU_QUEUE).enqueue(
        submission_id, grade.graded_against_id, on_gpu=True
    )
    return True


def queue_for(assignment: Assignment) -> str:
    """GPU work goes to GPU workers only where the deployment has them."""
    if settings.KC_GRADING_GPU_QUEUE and assignment.gpu_profile.startswith("gpu"):
        return GPU_QUEUE
    return "grading"


def enqueue_grading(submission_id: int, source_assignment_id: int | None = None) -> None:
    submission = Submission.objects.select_related("assignment").get(pk=submission_id)
    queue = queue_for(submission.assignment)
    task = grade_submission.using(queue_name=queue)
    # Graded on a GPU worker from the start: nothing to send on afterwards.
    extra = {"on_gpu": True} if queue == GPU_QUEUE else {}
    result = task.enqueue(submission_id, source_assignment_id, **extra)
    Submission.objects.filter(pk=submission_id).update(task_id=str(result.id))
