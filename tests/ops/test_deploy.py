"""deploy/ checked as far as this machine allows: systemd units verify, Kubernetes manifests
render and hang together, and every command, option, setting, path and URL they name exists in
the project. No cluster and no systemd as PID 1 are needed."""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from django.core.management import get_commands, load_command_class
from django.urls import resolve, reverse

REPO = Path(__file__).resolve().parents[2]
DEPLOY = REPO / "deploy"
SYSTEMD = DEPLOY / "systemd"
KUBE_SITE = DEPLOY / "kubernetes" / "site"
INSTALL_DIR = "/opt/kernelcamp"  # where the units expect the checkout
SECRET_NAMES = {"kernelcamp-secrets", "kernelcamp-postgres", "kernelcamp-tls"}  # made by hand


def unit_files() -> list[Path]:
    return sorted(p for p in SYSTEMD.iterdir() if p.suffix in {".service", ".timer", ".target"})


def unit_lines(path: Path, key: str) -> list[str]:
    return [
        line.split("=", 1)[1].strip()
        for line in path.read_text().splitlines()
        if line.startswith(f"{key}=")
    ]


def check_manage_py(argv: list[str]) -> None:
    """`manage.py <command> <args>`: the command exists and its parser accepts the args."""
    index = argv.index("manage.py")
    name, args = argv[index + 1], argv[index + 2 :]
    commands = get_commands()
    assert name in commands, f"manage.py {name}: no such command"
    command = load_command_class(commands[name], name)
    # systemd's ${VAR} and shell variables are filled in at run time: a placeholder value.
    args = [re.sub(r"\$\{?\w+\}?", "placeholder", a) for a in args]
    if name in {"restore"} and not args:
        return
    command.create_parser("manage.py", name).parse_args(args)


def check_gunicorn(argv: list[str]) -> None:
    config = argv[argv.index("-c") + 1]
    assert (REPO / config).is_file(), config


def check_argv(argv: list[str]) -> None:
    program = Path(argv[0]).name
    if "manage.py" in argv:
        check_manage_py(argv)
    elif program == "gunicorn":
        check_gunicorn(argv)
    elif program == "jupyterhub":
        config = argv[argv.index("-f") + 1].replace(INSTALL_DIR, str(REPO))
        assert Path(config).is_file(), config
    elif program not in {"kill", "find"}:
        raise AssertionError(f"unexpected program in deploy/: {argv}")


# --- systemd -------------------------------------------------------------------------------------


def test_every_unit_file_verifies_with_systemd_analyze(tmp_path):
    if shutil.which("systemd-analyze") is None:
        pytest.skip("systemd-analyze is not installed")
    for unit in unit_files():  # the checkout stands where the units expect /opt/kernelcamp
        (tmp_path / unit.name).write_text(unit.read_text().replace(INSTALL_DIR, str(REPO)))
    names = [str(tmp_path / u.name) for u in unit_files() if "@." not in u.name]
    names += [str(tmp_path / u.name.replace("@.", "@1.")) for u in unit_files() if "@." in u.name]
    result = subprocess.run(
        ["systemd-analyze", "verify", "--man=no", *names],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0 and not result.stderr.strip(), result.stderr


def test_units_run_the_projects_commands_with_options_they_accept():
    seen = set()
    for unit in unit_files():
        for line in unit_lines(unit, "ExecStart") + unit_lines(unit, "ExecStartPost"):
            argv = shlex.split(line)
            check_argv(argv)
            if "manage.py" in argv:
                seen.add(argv[argv.index("manage.py") + 1])
            if argv[0].startswith(INSTALL_DIR):
                assert (REPO / argv[0][len(INSTALL_DIR) + 1 :]).parent.name == "bin"
    # Site, migrations, workers of every kind, the hub's metering, retention and backups.
    assert {
        "migrate",
        "grading_worker",
        "contest_worker",
        "reconcile_sessions",
        "apply_retention",
        "backup",
        "hub_oauth_app",
        "export_profiles",
    } <= seen


def test_the_target_wants_every_service_and_templates_are_instantiable():
    wanted = " ".join(unit_lines(SYSTEMD / "kernelcamp.target", "Wants")).split()
    for name in wanted:
        assert (SYSTEMD / name).is_file(), name
    for unit in unit_files():
        for timer in [unit] if unit.suffix == ".timer" else []:
            assert (SYSTEMD / timer.name.replace(".timer", ".service")).is_file()
    gpu = (SYSTEMD / "kernelcamp-grading-gpu@.service").read_text()
    assert "CUDA_VISIBLE_DEVICES=%i" in gpu and "--queues grading-gpu" in gpu


# --- settings named anywhere in deploy/ exist -----------------------------------------------------


def project_setting_names() -> set[str]:
    """KC_* names the code reads (settings.py, the hub config, the spawner, the grader)."""
    names = set()
    for folder in ("platform", "deploy", "grader"):
        for path in (REPO / folder).rglob("*.py"):
            names.update(re.findall(r"\bKC_[A-Z0-9_]+\b", path.read_text(errors="replace")))
    return names


def test_every_setting_in_deploy_files_is_read_by_the_code():
    known = project_setting_names()
    files = [SYSTEMD / "kernelcamp.env.example", *KUBE_SITE.glob("*.yaml"), *unit_files()]
    for path in files:
        for name in set(re.findall(r"\bKC_[A-Z0-9_]+\b", path.read_text())):
            assert name in known, f"{path.name} sets {name}, which nothing reads"


# --- Kubernetes ----------------------------------------------------------------------------------


def rendered_site() -> list[dict]:
    """The kustomization, rendered by kubectl when it is installed, else by reading its files."""
    if shutil.which("kubectl"):
        out = subprocess.run(
            ["kubectl", "kustomize", str(KUBE_SITE)],
            capture_output=True,
            text=True,
            check=True,
            timeout=60,
        ).stdout
        return [d for d in yaml.safe_load_all(out) if d]
    kustomization = yaml.safe_load((KUBE_SITE / "kustomization.yaml").read_text())
    documents = []
    for resource in kustomization["resources"]:
        documents += [d for d in yaml.safe_load_all((KUBE_SITE / resource).read_text()) if d]
    return documents


def pod_specs(documents: list[dict]):
    for doc in documents:
        kind, spec = doc["kind"], doc.get("spec", {})
        if kind in {"Deployment", "StatefulSet", "Job"}:
            yield doc, spec["template"]["spec"]
        elif kind == "CronJob":
            yield doc, spec["jobTemplate"]["spec"]["template"]["spec"]


def test_kubernetes_manifests_render_and_hang_together():
    documents = rendered_site()
    by_kind: dict[str, dict[str, dict]] = {}
    for doc in documents:
        assert doc.get("apiVersion") and doc.get("kind") and doc["metadata"].get("name"), doc
        by_kind.setdefault(doc["kind"], {})[doc["metadata"]["name"]] = doc
    assert all(d["metadata"].get("namespace") == "kernelcamp" for d in documents[1:])

    for doc in by_kind["Deployment"].values():
        labels = doc["spec"]["template"]["metadata"]["labels"]
        assert doc["spec"]["selector"]["matchLabels"].items() <= labels.items()
    for service in by_kind["Service"].values():
        selected = [
            d
            for d in by_kind["Deployment"].values()
            if service["spec"]["selector"].items()
            <= d["spec"]["template"]["metadata"]["labels"].items()
        ]
        assert selected, service["metadata"]["name"]

    commands = {}
    for doc, pod in pod_specs(documents):
        for volume in pod.get("volumes", []):
            if "persistentVolumeClaim" in volume:
                assert (
                    volume["persistentVolumeClaim"]["claimName"] in by_kind["PersistentVolumeClaim"]
                )
        for container in pod["containers"]:
            check_argv(container["command"])
            commands[doc["metadata"]["name"]] = container["command"]
            for source in container.get("envFrom", []):
                if "configMapRef" in source:
                    assert source["configMapRef"]["name"] in by_kind["ConfigMap"]
                else:
                    assert source["secretRef"]["name"] in SECRET_NAMES
            for probe in ("livenessProbe", "readinessProbe"):
                if "httpGet" in container.get(probe, {}):
                    path = container[probe]["httpGet"]["path"]
                    assert resolve(path).url_name in {"healthz", "readyz"}
                    host = container[probe]["httpGet"]["httpHeaders"][0]["value"]
                    allowed = by_kind["ConfigMap"]["kernelcamp-config"]["data"]["KC_ALLOWED_HOSTS"]
                    assert host in allowed.split(",")

    # The web tier scales out; the two grading pools take their own queues; metering is a CronJob.
    assert by_kind["Deployment"]["kernelcamp-web"]["spec"]["replicas"] >= 2
    assert "grading,default" in commands["kernelcamp-grading-cpu"]
    assert "grading-gpu" in commands["kernelcamp-grading-gpu"]
    gpu_pod = by_kind["Deployment"]["kernelcamp-grading-gpu"]["spec"]["template"]["spec"]
    assert gpu_pod["containers"][0]["resources"]["limits"]["nvidia.com/gpu"] == 1
    assert commands["kernelcamp-metering"][-1] == "reconcile_sessions"
    assert by_kind["CronJob"]["kernelcamp-metering"]["spec"]["concurrencyPolicy"] == "Forbid"
    config = by_kind["ConfigMap"]["kernelcamp-config"]["data"]
    assert config["KC_DEBUG"] == "0" and config["KC_BEHIND_TLS_PROXY"] == "1"


def test_postgres_and_the_hub_values_parse():
    for path in [
        DEPLOY / "kubernetes" / "postgres" / "postgres.yaml",
        DEPLOY / "kubernetes" / "values.yaml",
    ]:
        assert [d for d in yaml.safe_load_all(path.read_text()) if d], path
    values = yaml.safe_load((DEPLOY / "kubernetes" / "values.yaml").read_text())
    assert values["hub"]["config"]["JupyterHub"]["authenticator_class"] == "generic-oauth"


# --- nginx and the image -------------------------------------------------------------------------


def test_nginx_points_at_the_ports_and_paths_the_services_use():
    conf = (DEPLOY / "nginx" / "kernelcamp.conf").read_text()
    env = dict(
        line.split("=", 1)
        for line in (SYSTEMD / "kernelcamp.env.example").read_text().splitlines()
        if line and not line.startswith("#")
    )
    assert f"server 127.0.0.1:{env['KC_PORT']};" in conf
    assert f"server 127.0.0.1:{env['KC_HUB_PORT']};" in conf
    assert env["KC_DEBUG"] == "0" and env["KC_BEHIND_TLS_PROXY"] == "1"
    assert env["KC_CLIENT_IP_HEADER"] == "HTTP_X_REAL_IP" and "X-Real-IP $remote_addr" in conf
    stream = re.search(r"location ~ (\S+) \{", conf).group(1)
    assert re.match(stream, reverse("session-events", args=[42]))
    body = int(re.search(r"client_max_body_size (\d+)m;", conf).group(1))
    from django.conf import settings

    assert body * 1024 * 1024 >= settings.KC_MAX_SUBMISSION_BYTES


@pytest.mark.skipif(not shutil.which("nginx") or not shutil.which("openssl"), reason="no nginx")
def test_nginx_accepts_the_site_as_written(tmp_path):
    """`nginx -t` with Debian's own nginx (1.22): the shipped site must load there, certificates
    aside (a throw-away pair stands in for the operator's)."""
    key, cert = tmp_path / "privkey.pem", tmp_path / "fullchain.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-subj", "/CN=camp.example.edu", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    site = (DEPLOY / "nginx" / "kernelcamp.conf").read_text()
    assert "/etc/ssl/kernelcamp/fullchain.pem" in site and "/etc/ssl/kernelcamp/privkey.pem" in site
    site = site.replace("/etc/ssl/kernelcamp/fullchain.pem", str(cert))
    (tmp_path / "site.conf").write_text(site.replace("/etc/ssl/kernelcamp/privkey.pem", str(key)))
    (tmp_path / "nginx.conf").write_text(
        f"pid {tmp_path}/nginx.pid;\nerror_log {tmp_path}/error.log;\nevents {{}}\n"
        f"http {{ include {tmp_path}/site.conf; }}\n"
    )
    checked = subprocess.run(
        ["nginx", "-t", "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf")],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert checked.returncode == 0, checked.stderr


def test_the_container_image_runs_the_web_server_config():
    containerfile = (DEPLOY / "Containerfile").read_text()
    cmd = re.search(r"^CMD (\[.*\])$", containerfile, re.M).group(1)
    check_argv(yaml.safe_load(cmd))
    assert "bubblewrap" in containerfile and "postgresql-client" in containerfile
