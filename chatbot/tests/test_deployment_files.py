"""
The Dockerfile and docker-compose.yml cannot be built here (no Docker engine),
so these tests check that every command and setting they name exists.
"""

import importlib
import re
import shlex
from pathlib import Path

import yaml
from django.core.management import get_commands

BASE_DIR = Path(__file__).resolve().parents[2]
DOCKERFILE = (BASE_DIR / "Dockerfile").read_text()
COMPOSE = yaml.safe_load((BASE_DIR / "docker-compose.yml").read_text())
ENV_EXAMPLE = (BASE_DIR / ".env.example").read_text()

# Read by other programs than Django: Python, pip, Hugging Face, Gunicorn, PostgreSQL's image.
NON_DJANGO_VARIABLES = {
    "PATH",
    "PYTHONUNBUFFERED",
    "PIP_NO_CACHE_DIR",
    "PIP_DISABLE_PIP_VERSION_CHECK",
    "HF_HUB_OFFLINE",
    "DJANGO_SETTINGS_MODULE",
    "WEB_CONCURRENCY",
    "POSTGRES_DB",
    "POSTGRES_USER",
    "POSTGRES_PASSWORD",
}


def documented_settings() -> set[str]:
    return set(re.findall(r"^#?\s*([A-Z0-9_]+)=", ENV_EXAMPLE, re.M))


def manage_commands(text: str) -> list[str]:
    return re.findall(r"manage\.py\s+([a-z_]+)", text)


def app_services() -> dict:
    return {name: service for name, service in COMPOSE["services"].items() if "build" in service}


def test_every_manage_command_named_exists():
    named = manage_commands(DOCKERFILE)
    for service in COMPOSE["services"].values():
        named += manage_commands(str(service.get("command", "")))

    assert {"prepare_models", "collectstatic", "migrate", "db_worker"} <= set(named)
    assert set(named) - set(get_commands()) == set()


def test_gunicorn_runs_the_asgi_application_with_uvicorn_workers():
    commands = [
        shlex.join(re.findall(r'"([^"]+)"', line)) for line in DOCKERFILE.splitlines() if line.startswith("CMD")
    ]
    commands.append(COMPOSE["services"]["web"]["command"])

    for command in commands:
        app_path = re.search(r"gunicorn\s+([\w.]+):(\w+)", command)
        worker_class = re.search(r"-k\s+([\w.]+)\.(\w+)", command)
        assert app_path and worker_class, command
        assert callable(getattr(importlib.import_module(app_path[1]), app_path[2]))
        assert getattr(importlib.import_module(worker_class[1]), worker_class[2])


def test_every_environment_variable_is_a_documented_setting():
    named = set(
        re.findall(
            r"\b([A-Z][A-Z0-9_]+)=",
            " ".join(line for line in DOCKERFILE.splitlines() if line.startswith(("ENV", "    ", "  "))),
        )
    )
    for service in app_services().values():
        named |= set(service.get("environment", {}))

    assert named - NON_DJANGO_VARIABLES - documented_settings() == set()


def test_the_image_is_slim_multi_stage_non_root_cpu_only_and_health_checked():
    assert len(re.findall(r"^FROM python:3\.11-slim", DOCKERFILE, re.M)) == 2
    assert re.search(r"^USER (?!root)\w+", DOCKERFILE, re.M)
    assert "download.pytorch.org/whl/cpu" in DOCKERFILE
    assert re.search(r"^HEALTHCHECK .*\n?.*/healthz", DOCKERFILE, re.M)
    assert "DJANGO_DEBUG=0" in DOCKERFILE


def test_compose_has_web_worker_postgres_and_redis():
    services = COMPOSE["services"]

    assert {"web", "worker", "postgres", "redis"} <= set(services)
    assert "db_worker" in services["worker"]["command"]
    for name in app_services():
        assert services[name]["environment"]["DATABASE_URL"].startswith("postgres://")
        assert services[name]["environment"]["REDIS_URL"].startswith("redis://")


def image_environment() -> dict[str, str]:
    """The runtime stage's ENV of the Dockerfile, as the container sees it."""
    runtime = DOCKERFILE[DOCKERFILE.rindex("FROM ") :]
    block = re.search(r"^ENV (.*?)(?<!\\)$", runtime, re.M | re.S)[1]
    return dict(item.split("=", 1) for item in shlex.split(block.replace("\\\n", " ")))


def test_the_image_and_compose_name_the_shared_cache_and_the_trusted_proxy_explicitly():
    image = image_environment()
    web = COMPOSE["services"]["web"]["environment"]

    assert "REDIS_URL" in image and "FORWARDED_ALLOW_IPS" in image
    assert web["REDIS_URL"].startswith("redis://") and "FORWARDED_ALLOW_IPS" in web
    assert "*" not in image["FORWARDED_ALLOW_IPS"] and "*" not in web["FORWARDED_ALLOW_IPS"]


def test_the_image_alone_runs_one_worker_and_compose_several_on_redis():
    from django.test import override_settings

    from chatbot.checks import check_web_workers_share_a_cache

    image = image_environment()
    local = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    redis = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": "redis://redis"}}
    compose_workers = int(re.search(r"\d+", COMPOSE["services"]["web"]["environment"]["WEB_CONCURRENCY"])[0])

    image_cache = redis if image["REDIS_URL"] else local
    with override_settings(WEB_CONCURRENCY=int(image["WEB_CONCURRENCY"]), CACHES=image_cache):
        assert check_web_workers_share_a_cache(None) == [], "the image's own defaults must start"
    with override_settings(WEB_CONCURRENCY=compose_workers, CACHES=redis, DATABASE_URL="postgres://x"):
        assert compose_workers > 1 and check_web_workers_share_a_cache(None) == []


def test_the_web_servers_use_the_worker_with_the_request_headers_deadline():
    from core.uvicorn_worker import UvicornWorker

    commands = [
        DOCKERFILE[DOCKERFILE.index("CMD") :],
        COMPOSE["services"]["web"]["command"],
        (BASE_DIR / "gunicorn.conf.py").read_text(),
    ]
    for command in commands:
        assert "core.uvicorn_worker.UvicornWorker" in command
        assert "uvicorn_worker.UvicornWorker" not in command.replace("core.uvicorn_worker.UvicornWorker", "")
    assert UvicornWorker.CONFIG_KWARGS["http"].__name__ == "HeadersDeadlineHttpToolsProtocol"
