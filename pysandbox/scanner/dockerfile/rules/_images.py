"""Base-image helpers shared by the FROM rules."""

from __future__ import annotations

import fnmatch
import re

from pysandbox.scanner.dockerfile.model import Dockerfile, Stage


def refers_to_earlier_stage(df: Dockerfile, stage: Stage) -> bool:
    """`FROM build` (or `FROM build-${VARIANT}`) where `build...` names earlier stages, not an image."""
    if stage.parent is not None and stage.parent.index < stage.index:
        return True
    if "$" not in stage.image:
        return False
    pattern = re.sub(r"\$\{[^}]*\}|\$[A-Za-z_][A-Za-z0-9_]*", "*", stage.image.lower())
    return any(s.name and fnmatch.fnmatchcase(s.name, pattern) for s in df.stages[: stage.index])


def unresolved_image_name(stage: Stage) -> bool:
    """The repository part is an undefined build arg (`FROM $BASE`): nothing can be said about it."""
    return "$" in stage.ref.repository
