"""Layered settings: built-in defaults, then a settings file, then environment variables."""
import json
import os

DEFAULTS = {
    "host": "127.0.0.1",
    "port": 8080,
    "timeout": 30,
    "retries": 3,
    "log_level": "info",
}

ENV_PREFIX = "APP_"


def _coerce(raw, like):
    if isinstance(like, bool):
        return raw.lower() in ("1", "true", "yes")
    if isinstance(like, int):
        return int(raw)
    return raw


def load_config(path=None, environ=None):
    settings = dict(DEFAULTS)
    if path is not None:
        with open(path, encoding="utf-8") as fh:
            settings.update(json.load(fh))
    environ = os.environ if environ is None else environ
    for key, default in DEFAULTS.items():
        raw = environ.get(ENV_PREFIX + key.upper())
        if raw is not None:
            settings[key] = _coerce(raw, default)
    return settings
