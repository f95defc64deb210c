"""Old import paths that still work, with a warning that names the new path and the release
that removes the old one, as Airflow's own providers announce theirs."""

from __future__ import annotations

import importlib
import warnings
from collections.abc import Callable, Mapping
from types import ModuleType
from typing import Any

from airflow.exceptions import AirflowProviderDeprecationWarning

__all__ = ["REMOVED_IN", "moved_module", "moved_names"]

#: The release that removes every path this module keeps alive.
REMOVED_IN = "0.7"


def _warn(old: str, new: str) -> None:
    warnings.warn(
        f"{old} is deprecated and will be removed in airflow-provider-fansly {REMOVED_IN}: "
        f"import it from {new}",
        AirflowProviderDeprecationWarning,
        stacklevel=3,  # the line that imported or used the old name
    )


def moved_names(module: str, names: Mapping[str, str]) -> Callable[[str], Any]:
    """A module ``__getattr__`` handing out ``names`` (old name -> the new dotted path of the
    object, imported when first asked for), each with a warning."""

    def __getattr__(name: str) -> Any:
        if name not in names:
            raise AttributeError(f"module {module!r} has no attribute {name!r}")
        new_module, _, new_name = names[name].rpartition(".")
        _warn(f"{module}.{name}", new_module)
        return getattr(importlib.import_module(new_module), new_name)

    return __getattr__


def moved_module(module: str, target: ModuleType) -> Callable[[str], Any]:
    """A module ``__getattr__`` for a whole module that moved to ``target``."""
    names = {name: f"{target.__name__}.{name}" for name in target.__all__}
    return moved_names(module, names)
