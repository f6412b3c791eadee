"""JupyterHub on one machine, on loopback, behind the KernelCamp site.

- configurable-http-proxy (the PyPI port or the npm package) in front, on KC_HUB_PORT;
- the site is the OAuth2/OIDC identity provider (GenericOAuthenticator);
- servers are local processes, each under its own unprivileged Unix account (kc_spawner/);
  the GPU profile arrives in
  user_options["profile"] and is looked up in the file `manage.py export_profiles --format local`
  writes (re-read on every spawn);
- students cannot start servers themselves: only the site's service token can, after its
  allocation check;
- jupyterhub-idle-culler as a hub service, with the longest profile limits as a backstop; each
  server also shuts itself down after its own profile's idle timeout (arguments in the profile).

Everything is read from the environment (see docs/sessions.md); defaults suit scripts/run.sh.
"""

# ruff: noqa: F821 - `c` is provided by JupyterHub when it loads this file
from __future__ import annotations

import json
import os
import secrets
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
DATA = Path(os.environ.get("KC_HUB_DATA_DIR", REPO / "var" / "hub"))
DATA.mkdir(parents=True, exist_ok=True, mode=0o700)
IP = os.environ.get("KC_HUB_IP", "127.0.0.1")
PORT = int(os.environ.get("KC_HUB_PORT", "8001"))
HUB_PORT = int(os.environ.get("KC_HUB_INTERNAL_PORT", "8081"))
PROXY_API_PORT = int(os.environ.get("KC_PROXY_API_PORT", "8002"))
PUBLIC_URL = os.environ.get("KC_HUB_PUBLIC_URL", f"http://{IP}:{PORT}")
SITE_URL = os.environ.get("KC_SITE_URL", "http://127.0.0.1:8000").rstrip("/")
PROFILES_FILE = Path(os.environ.get("KC_HUB_PROFILES", DATA / "profiles.json"))


def _secret_file(name: str, nbytes: int = 32) -> str:
    """A hex secret kept in the data dir (mode 600), created on first start."""
    path = DATA / name
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_hex(nbytes))
    return path.read_text().strip()


def load_profiles() -> dict:
    if not PROFILES_FILE.exists():
        return {"profiles": {}, "culler": {"timeout": 3600, "max_age": 0}}
    return json.loads(PROFILES_FILE.read_text())


# --- the hub and its proxy -----------------------------------------------------------------
c.JupyterHub.ip = IP
c.JupyterHub.port = PORT
c.JupyterHub.hub_ip = IP
c.JupyterHub.hub_port = HUB_PORT
c.JupyterHub.db_url = os.environ.get("KC_HUB_DB_URL", f"sqlite:///{DATA / 'jupyterhub.sqlite'}")
c.JupyterHub.cookie_secret_file = str(DATA / "cookie_secret")
c.JupyterHub.pid_file = str(DATA / "jupyterhub.pid")
c.JupyterHub.redirect_to_server = False  # users may not spawn: land on the hub's home page
c.JupyterHub.cleanup_servers = False  # a hub restart leaves running servers alone
# Spawns past this limit are answered 429 and the site asks again until its own deadline. A
# server's start costs about 2.6 s of CPU: thirty at once on 2 cores made every one miss the hub's
# http_timeout (bench/workshop), while a queue of two per core lets each start in seconds.
c.JupyterHub.concurrent_spawn_limit = int(
    os.environ.get("KC_HUB_CONCURRENT_SPAWN_LIMIT", str(max(4, 2 * (os.cpu_count() or 1))))
)
c.JupyterHub.active_server_limit = int(os.environ.get("KC_HUB_ACTIVE_SERVER_LIMIT", "0"))
# Answer a start request quickly (202) so that the site can stream the spawn's progress.
# The Retry-After of the 429 past concurrent_spawn_limit: JupyterHub suggests 30-60 s, while a
# place is free again within a server's start (seconds). The site asks again after this, or as
# soon as one of its own spawns ends (compute.runner.spawn_slots). JupyterHub 6.1 does not let
# `c.JupyterHub.spawn_throttle_retry_range` be configured (the trait is not tagged config=True);
# its tornado setting of the same name is what the 429 reads, and these settings win.
c.JupyterHub.tornado_settings = {
    "slow_spawn_timeout": float(os.environ.get("KC_HUB_SLOW_SPAWN_TIMEOUT", "1")),
    "spawn_throttle_retry_range": tuple(
        int(part) for part in os.environ.get("KC_HUB_SPAWN_RETRY_RANGE", "2,4").split(",")
    ),
}
# A request through the proxy may take as long as a spawn: the spawn's progress stream (which the
# site's launch job follows) lasts until the server is ready. The PyPI port of the proxy gives up
# on a request after 20 s by default (503) and hands a stream over only once it has ended.
PROXY_TIMEOUT_MS = 1000 * int(os.environ.get("KC_PROXY_TIMEOUT_S", "600"))
c.ConfigurableHTTPProxy.command = [
    os.environ.get("KC_PROXY_COMMAND", str(BIN / "configurable-http-proxy")),
    f"--proxy-timeout={PROXY_TIMEOUT_MS}",
]
c.ConfigurableHTTPProxy.api_url = f"http://{IP}:{PROXY_API_PORT}"
c.ConfigurableHTTPProxy.auth_token = os.environ.get("CONFIGPROXY_AUTH_TOKEN") or _secret_file(
    "proxy_token"
)
c.ConfigurableHTTPProxy.pid_file = str(DATA / "proxy.pid")

# --- the hub's pages wear the site's look and send people to the site ------------------------
# templates/ overrides the hub's page, home, login, logout, error and not-running pages: students
# cannot start or stop servers at the hub (the site does, after its budget check), so no hub page
# offers a button that would answer 403; they point to the site's GPU sessions page instead.
HERE = Path(__file__).resolve().parent
c.JupyterHub.template_paths = [str(HERE / "templates")]
c.JupyterHub.template_vars = {
    "kc_site_url": SITE_URL,
    "kc_sessions_url": f"{SITE_URL}/sessions/",
    # The site's own stylesheet, served by the site (one design system, nothing from a CDN).
    "kc_site_css_url": os.environ.get("KC_SITE_CSS_URL", f"{SITE_URL}/static/kernelcamp/site.css"),
}

# --- who may do what -----------------------------------------------------------------------
SITE_TOKEN = os.environ.get("KC_HUB_API_TOKEN", "")
# The site's service: the only client whose spawn options are trusted (role_from_site, below).
SITE_SERVICE = "kernelcamp-site"
services = []
roles = [
    {
        # Students: reach their own server, but never start one (the site does, after its checks).
        "name": "user",
        "scopes": [
            "read:users!user",
            "read:servers!user",
            "access:servers!user",
            "users:activity!user",
            "read:tokens!user",
        ],
    }
]
if SITE_TOKEN:
    services.append({"name": SITE_SERVICE, "api_token": SITE_TOKEN})
    roles.append(
        {
            "name": SITE_SERVICE,
            "scopes": [
                "admin:users",
                "admin:groups",  # team groups: kc-team-<id> gives a shared team folder
                "servers",
                "access:servers",
                "tokens",
                "list:users",
                "read:users",
            ],
            "services": [SITE_SERVICE],
        }
    )
culler = load_profiles().get("culler", {})
culler_cmd = [
    sys.executable,
    "-m",
    "jupyterhub_idle_culler",
    f"--timeout={int(culler.get('timeout', 3600))}",
    "--cull-every=60",
]
if int(culler.get("max_age", 0)):
    culler_cmd.append(f"--max-age={int(culler['max_age'])}")
if os.environ.get("KC_HUB_IDLE_CULLER", "1") == "1":
    services.append({"name": "idle-culler", "command": culler_cmd})
    roles.append(
        {
            "name": "idle-culler",
            "scopes": ["list:users", "read:users:activity", "read:servers", "delete:servers"],
            "services": ["idle-culler"],
        }
    )
c.JupyterHub.services = services
c.JupyterHub.load_roles = roles

# --- single sign-on through the site -------------------------------------------------------
c.JupyterHub.authenticator_class = "generic-oauth"
_credentials = Path(
    os.environ.get("KC_HUB_OAUTH_CREDENTIALS", REPO / "var" / "hub-oauth-client.json")
)
_client = json.loads(_credentials.read_text()) if _credentials.exists() else {}
c.GenericOAuthenticator.client_id = os.environ.get("KC_HUB_OAUTH_CLIENT_ID") or _client.get(
    "client_id", "kernelcamp-hub"
)
c.GenericOAuthenticator.client_secret = os.environ.get("KC_HUB_OAUTH_CLIENT_SECRET") or _client.get(
    "client_secret", ""
)
c.GenericOAuthenticator.oauth_callback_url = f"{PUBLIC_URL}/hub/oauth_callback"
c.GenericOAuthenticator.authorize_url = f"{SITE_URL}/o/authorize/"
c.GenericOAuthenticator.token_url = f"{SITE_URL}/o/token/"
c.GenericOAuthenticator.userdata_url = f"{SITE_URL}/o/userinfo/"
c.GenericOAuthenticator.scope = ["openid", "profile", "email", "groups"]
c.GenericOAuthenticator.username_claim = "username"
c.GenericOAuthenticator.login_service = "KernelCamp"
c.GenericOAuthenticator.auto_login = True  # straight to the site: one login for both
c.GenericOAuthenticator.allow_all = True  # the site decides who has an account
c.GenericOAuthenticator.admin_users = set()
c.GenericOAuthenticator.manage_groups = True
c.GenericOAuthenticator.auth_state_groups_key = "oauth_user.groups"
c.GenericOAuthenticator.enable_auth_state = True
# Re-check the site's token this often: after a logout at the site the hub asks to log in again.
c.GenericOAuthenticator.auth_refresh_age = int(os.environ.get("KC_HUB_AUTH_REFRESH_AGE", "60"))
c.CryptKeeper.keys = [bytes.fromhex(_secret_file("crypt_key"))]

# --- servers: local processes, one unprivileged Unix account per user ---------------------
# kc_spawner/ (docs/sessions.md, "Isolation"): as root, each server runs as `jupyter-<name>` in
# its own mount namespace (the checkout, the hub's and the site's data hidden; private /tmp) and
# control group (the profile's mem_limit and cpu_limit); not as root, as the hub's user, warned.
sys.path.insert(0, str(Path(__file__).resolve().parent))
c.JupyterHub.spawner_class = "kc_spawner.KernelCampSpawner"
c.Spawner.cmd = [str(BIN / "jupyterhub-singleuser")]
c.Spawner.default_url = "/lab"
c.Spawner.start_timeout = int(os.environ.get("KC_HUB_START_TIMEOUT", "120"))
c.Spawner.http_timeout = int(os.environ.get("KC_HUB_HTTP_TIMEOUT", "120"))
c.KernelCampSpawner.home_base = os.environ.get("KC_SESSION_HOME_BASE", "/home")
c.KernelCampSpawner.unix_name_prefix = os.environ.get("KC_SESSION_USER_PREFIX", "jupyter-")
c.KernelCampSpawner.hidden_paths = [
    str(REPO),
    str(DATA),
    os.environ.get("KC_DATA_DIR", str(REPO / "var")),
    str(_credentials.parent),  # the site's data dir when run.sh set it
]
c.KernelCampSpawner.readonly_paths = [
    str(Path(__file__).resolve().parent / "nbgrader-student"),  # JUPYTER_CONFIG_PATH, below
    str(Path(__file__).resolve().parent / "lab-offline"),  # JUPYTER_CONFIG_PATH, below
    *filter(None, os.environ.get("KC_SESSION_READONLY_PATHS", "").split(":")),
]
c.KernelCampSpawner.fallback_home_template = str(DATA / "users" / "{username}")
# Team folders: kc-team-<id> hub groups (the site keeps them) → a Unix group and a setgid 2770
# directory here, mounted as ~/team in each member's server (hidden from everyone else).
c.KernelCampSpawner.teams_base = os.environ.get("KC_SESSION_TEAMS_BASE", str(DATA / "teams"))
c.KernelCampSpawner.team_unix_group_prefix = os.environ.get(
    "KC_SESSION_TEAM_GROUP_PREFIX", "kc-team-"
)
# Offline: JupyterLab neither asks the internet for news or updates nor offers to.
BASE_ARGS: list[str] = [
    "--LabApp.news_url=None",
    "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
]
c.Spawner.args = list(BASE_ARGS)


def apply_user_options(spawner, user_options: dict) -> None:
    """Turn the profile slug the site chose into environment, limits and server arguments."""
    slug = str(user_options.get("profile", ""))
    profiles = load_profiles().get("profiles", {})
    if slug not in profiles:
        raise ValueError(f"unknown GPU profile {slug!r}")
    profile = profiles[slug]
    spawner.environment = {**spawner.environment, **profile.get("environment", {})}
    spawner.mem_limit = profile.get("mem_limit") or None
    spawner.cpu_limit = profile.get("cpu_limit") or None
    spawner.args = BASE_ARGS + list(profile.get("args", []))


c.Spawner.apply_user_options = apply_user_options


# --- nbgrader's instructor tools for course staff only -------------------------------------
# nbgrader installs its server and JupyterLab extensions for every server. A student's server gets
# JUPYTER_CONFIG_PATH=nbgrader-student/, which switches off the formgrader, course list and
# assignment list server extensions and the matching lab plugins (Formgrader, Create Assignment,
# the Nbgrader menu); Validate stays. Who is course staff: first what the site said in the spawn's
# user_options ("role": "staff" or "student"), taken only from a request made with the site's own
# service token; otherwise (a restart from stored options, another client) the groups the site's
# OAuth claims gave the hub at the user's last login (compute/oidc.py): `cohort-<id>-ta`,
# `cohort-<id>-instructor`, `course-<slug>-*`. The groups alone missed an instructor whose first
# server the site started before they ever opened the hub.
NBGRADER_STUDENT_CONFIG = HERE / "nbgrader-student"
ROLES = ("staff", "student")


def role_from_site(spawner) -> str | None:
    """The role in the spawn's user_options when the site's service token asked for the spawn;
    None for anyone else (a student's own form or API call, an admin, a restart), whatever they
    sent: only the site checks who teaches."""
    from jupyterhub import orm

    handler = getattr(spawner, "handler", None)
    requester = getattr(handler, "current_user", None) if handler is not None else None
    if not (isinstance(requester, orm.Service) and requester.name == SITE_SERVICE):
        return None
    role = (spawner.user_options or {}).get("role")
    return role if role in ROLES else None


def take_role_from_site(spawner) -> None:
    # A hook of its own (not apply_user_options), so a config that swaps the profile handling
    # (deploy/slurm) keeps it; the spawner object outlives a spawn, so it is set on every one.
    spawner.kc_site_role = role_from_site(spawner)


c.Spawner.pre_spawn_hook = take_role_from_site


def is_course_staff(spawner) -> bool:
    """Course staff by the site's word for this spawn, else by the hub's groups, or an admin."""
    role = getattr(spawner, "kc_site_role", None)
    if role is not None:
        return role == "staff"
    user = spawner.user
    return bool(user.admin) or any(
        group.name.startswith("course-") or group.name.endswith(("-ta", "-instructor"))
        for group in user.groups
    )


def nbgrader_config_path(spawner) -> str:
    """JUPYTER_CONFIG_PATH for the server: empty (nbgrader as installed) for course staff."""
    # lab-offline/ (everyone) turns off JupyterLab's "get notified about Jupyter news?" prompt.
    offline = str(HERE / "lab-offline")
    if is_course_staff(spawner):
        return offline
    return os.pathsep.join([str(NBGRADER_STUDENT_CONFIG), offline])


c.Spawner.environment.update({"JUPYTER_CONFIG_PATH": nbgrader_config_path})
