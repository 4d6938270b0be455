"""What the `image` and `volume` CLI commands print (the CLI only parses and calls these)."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

from pysandbox.images.progress import make_progress
from pysandbox.images.records import ImageRecord, short
from pysandbox.images.runtime import image_config
from pysandbox.images.store import Store
from pysandbox.images.volumes import create_volume, inspect_volume, list_volumes, remove_volume
from pysandbox.textfmt import ago as _ago
from pysandbox.textfmt import check_format as _check_format
from pysandbox.textfmt import table as _table
from pysandbox.types import UserError


def _size(n: int | None) -> str:
    if n is None:
        return "-"
    value = float(n)
    for unit in ("B", "kB", "MB", "GB"):
        if value < 1000 or unit == "GB":
            return f"{value:.0f}{unit}" if unit == "B" else f"{value:.1f}{unit}"
        value /= 1000
    return f"{n}B"


def import_image(
    path: Path, tag: str | None, quiet: bool, platform: str | None, skip_devices: bool = False
) -> str:
    store = Store(skip_devices=skip_devices)
    with make_progress(quiet) as progress:
        rec = store.import_path(path, tag, progress, platform)
    _audit_import(rec, str(path))
    _warn_if_unrunnable(store, rec)
    return _done_line(rec)


def pull_image(
    ref: str, quiet: bool, insecure: bool, platform: str | None, skip_devices: bool = False
) -> str:
    from pysandbox.images.registry import pull

    store = Store(skip_devices=skip_devices)
    with make_progress(quiet) as progress:
        rec = pull(store, ref, progress, insecure=insecure, platform=platform)
    _audit_import(rec, ref)
    _warn_if_unrunnable(store, rec)
    return _done_line(rec)


def _warn_if_unrunnable(store: Store, rec: ImageRecord) -> None:
    """A config that run refuses (fields of the wrong type) is kept, as `docker load` keeps it:
    scan must be able to examine a hostile image. The importer is told now, not at run."""
    try:
        image_config(store.config_of(rec))
    except UserError as exc:
        print(f"pysandbox: warning: {exc} (imported for scan; run will refuse it)", file=sys.stderr)


def _audit_import(rec: ImageRecord, source: str) -> None:
    from pysandbox.audit.recorder import record

    name = rec.familiar_tags[0] if rec.familiar_tags else rec.id
    try:
        record("image_import", image=name, digest=rec.id, source=source)
    except UserError as exc:  # the image is stored; a log that cannot be written only warns
        print(f"pysandbox: warning: audit log not written: {exc}", file=sys.stderr)


def _done_line(rec: ImageRecord) -> str:
    tags = ", ".join(rec.familiar_tags) or "(untagged)"
    return f"{rec.id} {tags}"


def list_images(fmt: str, quiet: bool) -> str:
    _check_format(fmt)
    store = Store()
    store.recover()
    recs = sorted(store.records(), key=lambda r: -r.imported)
    if quiet:
        return "\n".join(short(r.id) for r in recs)
    if fmt == "json":
        return json.dumps([_summary(r) for r in recs], indent=2)
    rows = [["REPOSITORY", "TAG", "IMAGE ID", "IMPORTED", "SIZE"]]
    for r in recs:
        for name in r.familiar_tags or ["<none>:<none>"]:
            repo, _, tag = name.rpartition(":")
            rows.append([repo, tag, short(r.id), _ago(r.imported), _size(r.unpacked_size)])
    return _table(rows)


def _summary(r: ImageRecord) -> dict[str, Any]:
    return {"id": r.id, "repo_tags": r.familiar_tags, "repo_digests": r.repo_digests,
            "imported": r.imported, "size": r.unpacked_size, "layers": len(r.layers)}  # fmt: skip


def inspect_image(ref: str, fmt: str) -> str:
    _check_format(fmt)
    store = Store()
    rec = store.resolve(ref)
    config = store.config_of(rec)
    cfg = image_config(config)
    history = [h for h in config.get("history") or [] if isinstance(h, dict)]
    layers = []
    for lay in rec.layers:
        meta = store.layer_meta(lay.chain_id) if store.has_layer(lay.chain_id) else {}
        layers.append({"digest": lay.digest, "diff_id": lay.diff_id, "chain_id": lay.chain_id,
                       "media_type": lay.media_type, "size": lay.size,
                       "unpacked_size": meta.get("unpacked_bytes"), "files": meta.get("files"),
                       "skipped_devices": meta.get("skipped_devices", [])})  # fmt: skip
    doc = {
        "id": rec.id,
        "repo_tags": rec.familiar_tags,
        "repo_digests": rec.repo_digests,
        "manifest_digest": rec.manifest_digest,
        "created": config.get("created"),
        "architecture": config.get("architecture"),
        "os": config.get("os"),
        "source": rec.source,
        "size": rec.unpacked_size,
        "config": {
            "Entrypoint": list(cfg.entrypoint) or None,
            "Cmd": list(cfg.cmd) or None,
            "Env": list(cfg.env),
            "WorkingDir": cfg.workdir or "",
            "User": cfg.user or "",
            "ExposedPorts": list(cfg.exposed_ports),
            "Labels": cfg.labels,
        },
        "layers": layers,
        "history": history,
    }
    if fmt == "json":
        return json.dumps(doc, indent=2)
    return _inspect_table(doc)


def _inspect_table(doc: dict[str, Any]) -> str:
    c = doc["config"]
    lines = [
        f"ID:           {doc['id']}",
        f"Tags:         {', '.join(doc['repo_tags']) or '<none>'}",
        f"Digests:      {', '.join(doc['repo_digests']) or '-'}",
        f"Created:      {doc['created'] or '-'}",
        f"Platform:     {doc['os']}/{doc['architecture']}",
        f"Size:         {_size(doc['size'])}",
        "Config:",
        f"  Entrypoint: {json.dumps(c['Entrypoint'])}",
        f"  Cmd:        {json.dumps(c['Cmd'])}",
        f"  WorkingDir: {c['WorkingDir'] or '-'}",
        f"  User:       {c['User'] or '-'}",
        f"  Ports:      {', '.join(c['ExposedPorts']) or '-'}",
        "  Env:",
        *[f"    {e}" for e in c["Env"]],
        "  Labels:",
        *[f"    {k}={v}" for k, v in sorted(c["Labels"].items())],
        "Layers:",
    ]
    rows = [["#", "DIGEST", "DIFF ID", "SIZE", "UNPACKED"]]
    for i, lay in enumerate(doc["layers"]):
        rows.append([str(i), short(lay["digest"]), short(lay["diff_id"]), _size(lay["size"]),
                     _size(lay["unpacked_size"])])  # fmt: skip
    lines += ["  " + line for line in _table(rows).splitlines()]
    lines.append("History:")
    hrows = [["CREATED", "CREATED BY", "EMPTY"]]
    for h in doc["history"]:
        by = str(h.get("created_by", "")).replace("\n", " ")
        hrows.append([str(h.get("created", "-")), by[:80], "yes" if h.get("empty_layer") else ""])
    lines += ["  " + line for line in _table(hrows).splitlines()]
    return "\n".join(lines)


def remove_images(refs: list[str], force: bool) -> str:
    store = Store()
    out = []
    for ref in refs:
        untagged, deleted = store.remove(ref, force)
        out += [f"Untagged: {t}" for t in untagged] + [f"Deleted: {d}" for d in deleted]
    return "\n".join(out)


def prune_images() -> str:
    removed = Store().prune()
    return "\n".join(f"Deleted: {d}" for d in removed) or "Nothing to prune"


def volume_create(name: str) -> str:
    create_volume(name)
    return name


def volume_list(fmt: str, quiet: bool) -> str:
    _check_format(fmt)
    vols = list_volumes()
    if quiet:
        return "\n".join(v.name for v in vols)
    if fmt == "json":
        return json.dumps([v.to_json() for v in vols], indent=2)
    rows = [["NAME", "CREATED", "IN USE"]] + [
        [v.name, _ago(v.created), "yes" if v.in_use else ""] for v in vols
    ]
    return _table(rows)


def volume_inspect(names: list[str], fmt: str) -> str:
    _check_format(fmt)
    infos = [inspect_volume(n, with_size=True) for n in names]
    if fmt == "json":
        return json.dumps([v.to_json() for v in infos], indent=2)
    return "\n\n".join(
        f"Name:       {v.name}\nMountpoint: {v.path}\nCreated:    {time.ctime(v.created)}\n"
        f"In use:     {'yes' if v.in_use else 'no'}\nSize:       {_size(v.size)}"
        for v in infos
    )


def volume_remove(names: list[str]) -> str:
    for n in names:
        remove_volume(n)
    return "\n".join(names)
