"""Imports every models module so ``Base.metadata`` knows every table
(Alembic autogenerate and test set-up rely on it)."""

from __future__ import annotations

import importlib

from db import models  # noqa: F401

#: Optional domain model modules, imported when present.
_DOMAIN_MODULES = ("alerts.models",)

for _name in _DOMAIN_MODULES:
    try:
        importlib.import_module(_name)
    except ModuleNotFoundError as exc:  # pragma: no cover - module not written yet
        if exc.name != _name:
            raise
