#!/usr/bin/env bash
# Bug: the "timeout" entry was dropped from DEFAULTS, so every reader of cfg["timeout"] raises KeyError.
set -euo pipefail
cd "$(dirname "$0")"
sed -i '/^    "timeout": 30,$/d' app/config.py
