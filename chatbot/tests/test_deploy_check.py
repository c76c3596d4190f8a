import os
import subprocess
import sys
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parents[2]


def production_environment(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE", "REDIS"))}
    for line in (BASE_DIR / "deploy" / "production.env").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, _, value = line.partition("=")
            env[name] = value
    env.update({"DJANGO_SETTINGS_MODULE": "chatbot.settings", "DATA_DIR": str(tmp_path), "DOTENV": "0"})
    return env


def test_check_deploy_is_clean_under_the_documented_production_settings(tmp_path):
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=BASE_DIR,
        env=production_environment(tmp_path),
        capture_output=True,
        text=True,
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_check_deploy_flags_a_debug_production(tmp_path):
    env = production_environment(tmp_path)
    env["DJANGO_DEBUG"] = "1"
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
    )

    assert result.returncode != 0
    assert "security.W018" in result.stdout + result.stderr


def test_check_deploy_refuses_several_web_workers_without_redis_but_other_commands_run(tmp_path):
    env = production_environment(tmp_path)
    env.update(WEB_CONCURRENCY="2", REDIS_URL="")
    deploy = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy"], cwd=BASE_DIR, env=env, capture_output=True, text=True
    )
    plain = subprocess.run(
        [sys.executable, "manage.py", "check"], cwd=BASE_DIR, env=env, capture_output=True, text=True
    )

    assert deploy.returncode != 0 and "chatbot.E002" in deploy.stdout + deploy.stderr
    assert plain.returncode == 0, "manage.py commands on a laptop with WEB_CONCURRENCY set still run"
