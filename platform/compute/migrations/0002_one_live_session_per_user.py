from django.db import migrations, models


class Migration(migrations.Migration):
    """A stopping server no longer blocks a new launch (which waits for the stop to finish)."""

    dependencies = [
        ("compute", "0001_initial"),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name="hubsession",
            name="one_active_session_per_user",
        ),
        migrations.AddConstraint(
            model_name="hubsession",
            constraint=models.UniqueConstraint(
                condition=models.Q(("status__in", ["starting", "running"])),
                fields=("user",),
                name="one_live_session_per_user",
            ),
        ),
    ]
