"""Who is acting, for audit records: the registry's promotions and the endpoint's change history name the same one."""

from __future__ import annotations

import getpass
import os


def resolve_actor(actor: str | None = None) -> str:
    """Who is acting: explicit, MLOPS_ACTOR, GITHUB_ACTOR (CI), else the OS user."""
    for candidate in (actor, os.environ.get("MLOPS_ACTOR"), os.environ.get("GITHUB_ACTOR")):
        if candidate:
            return candidate
    try:
        return getpass.getuser()
    except Exception:  # noqa: BLE001 - containers may run as a uid without a passwd entry
        return "unknown"
