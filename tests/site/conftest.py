import pytest

from learning.services.publishing import publish_course
from tests.site.factories import make_user, open_cohort


@pytest.fixture
def people(db):
    from django.contrib.auth.models import Group, Permission

    instructor = make_user("inst")
    group = Group.objects.create(name="Instructors")
    group.permissions.add(Permission.objects.get(codename="add_course"))
    instructor.groups.add(group)
    return {
        "instructor": instructor,
        "ta": make_user("ta"),
        "student": make_user("stud"),
        "outsider": make_user("outsider"),
        "staff": make_user("staffer", is_staff=True),
    }


@pytest.fixture
def published(course_dirs, people):
    from learning.models import CourseStaff, Enrolment
    from learning.services.enrolment import enrol

    version = publish_course("tiny", by=people["instructor"]).version
    CourseStaff.objects.create(
        course=version.course, user=people["ta"], role=CourseStaff.Role.TEACHING_ASSISTANT
    )
    cohort = open_cohort(version.course, people["instructor"], seat_limit=10)
    enrol(cohort, people["student"], source=Enrolment.Source.MANUAL)
    return {"version": version, "course": version.course, "cohort": cohort}
