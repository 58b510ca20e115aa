"""``invoke grade --submit DIR``: a uniquely named copy of the learner's scorecard in a shared folder.

The copy is the scorecard ``invoke grade`` wrote, plus ``learner`` and ``submitted_at``. Its name
(``scorecard-<learner>-<UTC time>-<random>.json``) never overwrites another learner's file or an
earlier submission; ``class.report`` keeps the newest per learner. It is written under a temporary
name and renamed, so the instructor never reads half a file.
"""

from __future__ import annotations

import getpass
import json
import os
import re
import secrets
import time
from pathlib import Path

from ..errors import WorkshopError
from ..namespace import NAMESPACE_ENV

LEARNER_ENV = "WORKSHOP_LEARNER"
_LEARNER = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


def learner_name(explicit: str | None = None) -> str:
    """``--learner``, else ``$WORKSHOP_LEARNER``, else ``$WORKSHOP_NAMESPACE``, else the login name."""
    candidates = [
        (explicit, "--learner"),
        (os.environ.get(LEARNER_ENV), f"${LEARNER_ENV}"),
        (os.environ.get(NAMESPACE_ENV), f"${NAMESPACE_ENV}"),
    ]
    for value, source in candidates:
        if value and value.strip():
            return check_learner(value.strip(), source)
    try:
        return check_learner(getpass.getuser(), "your login name")
    except (OSError, KeyError):
        raise WorkshopError("cannot tell who you are", hint="pass --learner YOUR_NAME") from None


def check_learner(name: str, source: str = "--learner") -> str:
    if not _LEARNER.match(name):
        raise WorkshopError(
            f"{source} {name!r} cannot name a learner",
            hint="use letters, digits, '.', '_' and '-' (at most 64), e.g. --learner ada-lovelace",
        )
    return name


def submit(scorecard_json: Path, folder: Path, learner: str) -> Path:
    """Copy ``scorecard_json`` into ``folder`` under a unique name; returns the new file."""
    folder = Path(folder).expanduser()
    if not folder.is_dir():
        raise WorkshopError(
            f"submit folder not found: {folder}",
            hint="the instructor gives you the shared folder's path; it must exist",
        )
    try:
        card = json.loads(Path(scorecard_json).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise WorkshopError(f"cannot read the scorecard {scorecard_json}: {exc}") from None
    card["learner"] = check_learner(learner)
    card["submitted_at"] = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    target = folder / f"scorecard-{learner}-{stamp}-{secrets.token_hex(3)}.json"
    temporary = folder / f".{target.name}.part"
    try:
        temporary.write_text(json.dumps(card, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        os.replace(temporary, target)
    except OSError as exc:
        temporary.unlink(missing_ok=True)
        raise WorkshopError(
            f"cannot write to the submit folder {folder}: {exc.strerror or exc}",
            hint="check that the folder is writable (a mounted share may be read-only)",
        ) from None
    return target
