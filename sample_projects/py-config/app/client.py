"""Builds the HTTP client options from the loaded settings."""
from .config import load_config


def base_url(cfg):
    return f"http://{cfg['host']}:{cfg['port']}"


def client_options(cfg=None):
    cfg = cfg if cfg is not None else load_config()
    return {
        "base_url": base_url(cfg),
        "timeout": cfg["timeout"],
        "max_retries": cfg["retries"],
        "verbose": cfg["log_level"] == "debug",
    }
