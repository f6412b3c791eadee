"""Background work, written against the django.tasks API (the django-tasks backport on Django 5.2)."""

try:  # Django 6
    from django.tasks import task
except ImportError:  # Django 5.2 with the backport
    from django_tasks import task


@task(queue_name="contests", priority=-10)
def score_next_entry() -> str:
    """A token: score whichever queued entry the fair order picks (contests.queue)."""
    from contests.scoring import score_next

    return score_next()
