import json

from app.client import client_options
from app.config import load_config


def test_defaults():
    cfg = load_config(environ={})
    assert cfg["port"] == 8080
    assert cfg["log_level"] == "info"


def test_file_overrides_defaults(tmp_path):
    path = tmp_path / "settings.json"
    path.write_text(json.dumps({"port": 9000, "log_level": "debug"}))
    cfg = load_config(path, environ={})
    assert cfg["port"] == 9000
    assert cfg["host"] == "127.0.0.1"


def test_environment_wins(tmp_path):
    cfg = load_config(environ={"APP_PORT": "7000", "APP_RETRIES": "5"})
    assert cfg["port"] == 7000
    assert cfg["retries"] == 5


def test_client_options_from_defaults():
    opts = client_options(load_config(environ={}))
    assert opts == {
        "base_url": "http://127.0.0.1:8080",
        "timeout": 30,
        "max_retries": 3,
        "verbose": False,
    }


def test_client_options_from_env():
    opts = client_options(load_config(environ={"APP_TIMEOUT": "5", "APP_LOG_LEVEL": "debug"}))
    assert opts["timeout"] == 5
    assert opts["verbose"] is True
