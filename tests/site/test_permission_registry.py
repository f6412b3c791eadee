"""accounts.permissions is a registry that the apps fill in: it knows no app above it."""

import ast
from pathlib import Path

import pytest

from accounts import permissions

PLATFORM = Path(__file__).resolve().parents[2] / "platform"
APPS_ABOVE_ACCOUNTS = {
    "learning", "grading", "events", "teams", "projects", "judging", "compute", "helpqueue",
    "contests",
}  # fmt: skip


def test_the_registry_imports_no_app_above_it():
    tree = ast.parse((PLATFORM / "accounts" / "permissions.py").read_text())
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            imported.add(node.module.split(".")[0])
        elif isinstance(node, ast.Import):
            imported.update(alias.name.split(".")[0] for alias in node.names)
    assert not imported & APPS_ABOVE_ACCOUNTS


def test_each_rule_lives_in_the_app_its_action_belongs_to():
    owners = {action: permissions._RULES[action].__module__ for action in permissions.actions()}
    assert owners["cohort.view"] == "learning.permissions"
    assert owners["gradebook.view"] == "grading.permissions"
    assert owners["session.launch"] == "compute.permissions"
    assert owners["event.manage"] == "events.permissions"
    assert owners["team.member"] == "teams.permissions"
    assert owners["judging.score"] == "judging.permissions"
    assert all(module.endswith(".permissions") for module in owners.values())


def test_two_apps_cannot_claim_one_action():
    def impostor(user, obj) -> bool:
        return True

    impostor.__module__ = "somewhere.else"
    with pytest.raises(ValueError, match="already registered"):
        permissions.rule("event.manage")(impostor)
    assert permissions._RULES["event.manage"].__module__ == "events.permissions"
