"""Image rules, one module per rule. `ALL_RULES` is the registry the engine runs, in order."""

from __future__ import annotations

from pysandbox.scanner.image.rules import (
    add_remote_url,
    base_image_tag,
    credentials_file,
    empty_password,
    env_secret,
    healthcheck,
    history_secret,
    label_secret,
    package_cache,
    private_key,
    removed_secret,
    root_user,
    secret_pattern,
    setuid,
    ssh_host_keys,
    ssh_port,
    sudoers_nopasswd,
    uid0_accounts,
    world_writable,
)
from pysandbox.scanner.image.rules.base import Rule

_MODULES = (
    root_user,
    env_secret,
    label_secret,
    history_secret,
    ssh_port,
    healthcheck,
    base_image_tag,
    add_remote_url,
    setuid,
    world_writable,
    private_key,
    credentials_file,
    secret_pattern,
    removed_secret,
    sudoers_nopasswd,
    uid0_accounts,
    empty_password,
    package_cache,
    ssh_host_keys,
)
ALL_RULES: tuple[Rule, ...] = tuple(sorted((m.RULE for m in _MODULES), key=lambda r: (r.order, r.id)))
