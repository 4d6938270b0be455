"""The image store under `paths.images_dir()`.

    blobs/sha256/<hex>        content-addressed blobs (manifests, configs, layer blobs as received)
    layers/<chain-hex>/       one unpacked layer: rootfs/ (an overlay lowerdir), meta.json, lock
    images/<config-hex>.json  one record per image: tags, layers, source (the image id = config digest)
    tmp/                      work in progress; anything here is garbage once the store lock is free
    lock                      flock held by every command that changes the store

Every blob is verified against its digest before it is used; layers are unpacked once into a
temporary directory and renamed into place, keyed by chain id (OCI: the layer plus everything
below it), and shared by every image having the same chain. An interrupted import or pull leaves
only `tmp/` entries, which the next command removes, and complete layers, which the next import
reuses (or `prune` removes). A sandbox using a layer holds a shared flock on its `lock` file
(`use_layers`), so `rm`/`prune` never delete a layer under a running sandbox.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import shutil
import stat
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, BinaryIO

from pysandbox.fsutil import atomic_write_bytes, lock_held
from pysandbox.images.archive import (
    OCI_CONFIG,
    OCI_MANIFEST,
    ArchiveImage,
    LayerBlob,
    NotAnImageError,
    _DirSource,
    _read_blob_json,
    image_from_manifest,
    open_image,
    parse_platform,
)
from pysandbox.images.progress import Progress
from pysandbox.images.records import ImageRecord, LayerRecord, Layout, _hex
from pysandbox.images.reference import parse_reference
from pysandbox.images.streams import (
    CHUNK,
    GZIP_MAGIC,
    STORE_ERRNOS,
    ZSTD_MAGIC,
    ArchiveError,
    HashingReader,
    Limits,
    StoreWriteError,
    short,
)
from pysandbox.images.unpack import LayerStats, unpack_layer
from pysandbox.types import UserError


def _chain(below: Sequence[str], diff_id: str) -> str:
    """OCI ChainID of a layer with diff_id on top of the chain `below` (chain ids, bottom first)."""
    return diff_id if not below else "sha256:" + hashlib.sha256(f"{below[-1]} {diff_id}".encode()).hexdigest()


def chain_ids(diff_ids: Sequence[str]) -> list[str]:
    out: list[str] = []
    for d in diff_ids:
        out.append(_chain(out, d))
    return out


def rmtree_force(path: Path) -> None:
    """rm -rf that also copes with read-only directories of a rootless unpack."""

    def onerror(func: Callable[..., Any], p: str, exc: Any) -> None:
        parent = os.path.dirname(p)
        with contextlib.suppress(OSError):
            os.chmod(parent, 0o700)
            st = os.lstat(p)
            if stat.S_ISDIR(st.st_mode):
                os.chmod(p, 0o700)
        try:
            func(p)
        except FileNotFoundError:
            pass
        except OSError:
            if stat.S_ISDIR(os.lstat(p).st_mode):
                shutil.rmtree(p, onerror=onerror)

    if path.is_symlink() or not path.exists():
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
        return
    shutil.rmtree(path, onerror=onerror)


class Txn:
    """What one import stages under tmp/ before it becomes visible."""

    def __init__(self, work: Path) -> None:
        self.work = work
        self.blobs: dict[str, Path] = {}  # digest -> staged file
        self.layers: dict[str, Path] = {}  # chain id -> staged layer dir (rootfs/, meta.json, lock)
        self.published: list[Path] = []  # what this import made visible in the store (see undo)

    def rootfs(self, store: Layout, chain: str) -> Path:
        staged = self.layers.get(chain)
        return staged / "rootfs" if staged else store.layer_rootfs(chain)

    def layer_meta(self, store: Layout, chain: str) -> dict[str, Any]:
        staged = self.layers.get(chain)
        if staged:
            data: dict[str, Any] = json.loads((staged / "meta.json").read_text())
            return data
        return store.layer_meta(chain)

    def commit(self, store: Store) -> None:
        for digest, path in self.blobs.items():
            if store.adopt_blob(path, digest):
                self.published.append(store.blob_path(digest))
        for chain, path in self.layers.items():
            if not store.has_layer(chain):
                os.rename(path, store.layer_dir(chain))
                self.published.append(store.layer_dir(chain))
        self.blobs.clear()
        self.layers.clear()

    def undo(self) -> None:
        """Take back what this import published: it failed before its image record was written, so
        nothing refers to them (renamed into the work dir, which is removed; a rename needs no space)."""
        for i, path in enumerate(reversed(self.published)):
            with contextlib.suppress(OSError):
                os.rename(path, self.work / f"undo-{i}")
        self.published.clear()


class Store(Layout):
    """The store, with everything that changes it (under its lock)."""

    def __init__(self, root: Path | None = None, skip_devices: bool = False) -> None:
        super().__init__(root)
        self.skip_devices = skip_devices
        self._lock_fd: int | None = None
        self._lock_depth = 0

    # --- layout and locking ------------------------------------------------------------------
    def ensure(self) -> None:
        try:
            self.root.mkdir(parents=True, exist_ok=True, mode=0o700)
            for d in (self.blobs, self.layers, self.images, self.tmp):
                d.mkdir(parents=True, exist_ok=True, mode=0o700)
        except OSError as exc:
            raise StoreWriteError(exc, self.root) from None

    @contextlib.contextmanager
    def writing(self) -> Iterator[None]:
        """Report a write the store refused (disk full, read-only, ...) as such, naming the store."""
        try:
            yield
        except StoreWriteError as exc:
            raise exc.at(self.root) from None
        except OSError as exc:
            if exc.errno not in STORE_ERRNOS:
                raise
            raise StoreWriteError(exc, self.root) from None

    @contextlib.contextmanager
    def locked(self, wait: bool = True) -> Iterator[bool]:
        """Exclusive store lock (re-entrant in this process). Yields False if `wait` is off and it is busy."""
        if self._lock_depth:
            self._lock_depth += 1
            try:
                yield True
            finally:
                self._lock_depth -= 1
            return
        self.ensure()
        with self.writing():
            fd = os.open(self.root / "lock", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
            except BlockingIOError:
                yield False
                return
            self._lock_fd, self._lock_depth = fd, 1
            self._recover()
            try:
                yield True
            finally:
                self._lock_fd, self._lock_depth = None, 0
        finally:
            os.close(fd)

    def recover(self) -> None:
        """Clean what an interrupted command left, if no other command is running."""
        if not self.root.exists():
            return
        with contextlib.suppress(StoreWriteError), self.locked(wait=False):
            pass  # a store that cannot be written (read-only, full) can still be listed

    def _recover(self) -> None:
        for entry in self.tmp.iterdir():
            rmtree_force(entry)
        for entry in self.layers.iterdir():
            if not (entry / "meta.json").exists():  # a layer dir is only renamed in complete
                rmtree_force(entry)

    @contextlib.contextmanager
    def workdir(self) -> Iterator[Path]:
        assert self._lock_depth, "store work happens under the store lock"
        path = Path(tempfile.mkdtemp(dir=self.tmp))
        try:
            yield path
        finally:
            rmtree_force(path)

    def put_blob(self, digest: str, data: bytes) -> bool:
        """Store a small blob; False when the store already had it."""
        got = f"{digest.split(':', 1)[0]}:{hashlib.new(digest.split(':', 1)[0], data).hexdigest()}"
        if got != digest:
            raise ArchiveError(f"blob {short(digest)}: digest mismatch (got {got}): refusing it")
        path = self.blob_path(digest)
        if path.exists():
            return False
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        atomic_write_bytes(path, data, 0o644, durable=True)
        return True

    def adopt_blob(self, tmpfile: Path, digest: str) -> bool:
        """Move a staged blob into place; False when the store already had it."""
        path = self.blob_path(digest)
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        if path.exists():
            tmpfile.unlink()
            return False
        os.chmod(tmpfile, 0o644)
        os.replace(tmpfile, path)
        return True

    def unpack(
        self, txn: Txn, layer: LayerBlob, below: Sequence[str], progress: Progress, label: str
    ) -> tuple[str, str, LayerStats | None]:
        """Stage `layer` on top of the chain `below` (chain ids, bottom first) unless it is there.

        Returns (diff_id, chain_id, stats or None when it was already unpacked). The blob is staged
        too (when the store does not have it); nothing is visible in the store before `txn.commit()`."""
        keep_blob = not self.has_blob(layer.digest) and layer.digest not in txn.blobs
        if layer.diff_id is not None:
            chain = _chain(below, layer.diff_id)
            if self.has_layer(chain) or chain in txn.layers:
                task = progress.task(label, layer.size)
                if keep_blob:
                    self._stage_blob_copy(txn, layer, lambda n: progress.advance(task, n))
                progress.finish(task, f"{label} (already present)")
                return layer.diff_id, chain, None
        lowers = [txn.rootfs(self, c) for c in reversed(below)]
        task = progress.task(label, layer.size)
        stage = Path(tempfile.mkdtemp(dir=txn.work, prefix="layer-"))
        rootfs = stage / "rootfs"
        rootfs.mkdir(mode=0o700)
        blob_tmp = stage / "blob"
        with open(blob_tmp, "wb") as bf:
            stats = unpack_layer(
                layer,
                rootfs,
                lowers,
                tee=bf.write if keep_blob else None,
                on_bytes=lambda n: progress.advance(task, n),
                skip_devices=self.skip_devices,
            )
        diff_id = stats.diff_id
        chain = _chain(below, diff_id)
        meta = {
            "chain_id": chain,
            "diff_id": diff_id,
            "digest": layer.digest,
            "media_type": layer.media_type,
            "size": layer.size,
            "unpacked_bytes": stats.bytes,
            "entries": stats.entries,
            "files": stats.files,
            "skipped_devices": stats.skipped,
            "compression": stats.compression,
        }
        (stage / "meta.json").write_text(json.dumps(meta, indent=1))
        (stage / "lock").touch(mode=0o600)
        if keep_blob:
            os.rename(blob_tmp, txn.work / f"blob-{_hex(layer.digest)}")
            txn.blobs[layer.digest] = txn.work / f"blob-{_hex(layer.digest)}"
        else:
            blob_tmp.unlink()
        if not self.has_layer(chain) and chain not in txn.layers:
            txn.layers[chain] = stage
        progress.finish(task, label)
        return diff_id, chain, stats

    def _stage_blob_copy(self, txn: Txn, layer: LayerBlob, on_bytes: Callable[[int], Any]) -> None:
        dest = txn.work / f"blob-{_hex(layer.digest)}"
        with open(dest, "wb") as out:

            def tee(data: bytes) -> None:
                out.write(data)
                on_bytes(len(data))

            reader = HashingReader(
                layer._opener(), layer.digest, layer.size, f"layer {short(layer.digest)}", tee
            )
            with reader:
                reader.drain()
        txn.blobs[layer.digest] = dest

    @contextlib.contextmanager
    def transaction(self) -> Iterator[Txn]:
        """Stage blobs and layers in tmp/; `commit()` renames them into place (nothing on failure)."""
        with self.locked(), self.writing(), self.workdir() as work:
            yield Txn(work)

    def save_record(self, rec: ImageRecord) -> None:
        atomic_write_bytes(
            self.images / f"{_hex(rec.id)}.json",
            json.dumps(rec.to_json(), indent=1).encode(),
            0o600,
            durable=True,
        )

    # --- import ------------------------------------------------------------------------------
    def import_image(
        self,
        img: ArchiveImage,
        tags: Sequence[str],
        progress: Progress,
        repo_digest: str | None = None,
        keep_tags: bool = True,
        txn: Txn | None = None,
    ) -> ImageRecord:
        """Store `img` (verified blob by blob), tag it, return its record. Runs under the store lock."""
        canon_tags = [parse_reference(t).name for t in tags]
        if keep_tags:
            for t in img.repo_tags:
                if img.kind == "oci" and ":" not in t and "/" not in t:
                    continue  # an OCI ref.name that is only a tag ("latest") names no repository
                with contextlib.suppress(UserError):
                    canon_tags.append(parse_reference(t).name)
        canon_tags = list(dict.fromkeys(canon_tags))
        with self.transaction() if txn is None else contextlib.nullcontext(txn) as tx:
            below: list[str] = []
            layer_recs: list[LayerRecord] = []
            total = 0
            for i, layer in enumerate(img.layers):
                label = f"layer {i + 1}/{len(img.layers)} {short(layer.digest)}"
                diff_id, chain, stats = self.unpack(tx, layer, below, progress, label)
                if layer.diff_id is not None and diff_id != layer.diff_id:
                    raise ArchiveError(
                        f"layer {short(layer.digest)}: diff_id mismatch: the archive is corrupt"
                    )
                below.append(chain)
                total += stats.bytes if stats else int(tx.layer_meta(self, chain).get("unpacked_bytes", 0))
                layer_recs.append(LayerRecord(layer.digest, diff_id, chain, layer.media_type, layer.size))
            try:
                tx.commit(self)
                rec = self._record(tx, img, canon_tags, layer_recs, total, repo_digest)
                self.save_record(rec)
            except BaseException:  # e.g. the disk filled up: leave the store as it was
                tx.undo()
                raise
            self._untag_others(rec.id, canon_tags)
            return rec

    def _record(
        self,
        tx: Txn,
        img: ArchiveImage,
        canon_tags: list[str],
        layer_recs: list[LayerRecord],
        total: int,
        repo_digest: str | None,
    ) -> ImageRecord:
        """Store the config and manifest blobs; the image's record (with the tags it had before)."""
        config_bytes = img.config_bytes or json.dumps(img.config).encode()
        if self.put_blob(img.config_digest, config_bytes):
            tx.published.append(self.blob_path(img.config_digest))
        manifest_bytes = _manifest_bytes(img, config_bytes, layer_recs)
        manifest_digest = "sha256:" + hashlib.sha256(manifest_bytes).hexdigest()
        if self.put_blob(manifest_digest, manifest_bytes):
            tx.published.append(self.blob_path(manifest_digest))
        old = self.record(img.config_digest)
        return ImageRecord(
            id=img.config_digest,
            repo_tags=list(dict.fromkeys([*(old.repo_tags if old else []), *canon_tags])),
            layers=layer_recs,
            manifest_digest=manifest_digest,
            repo_digests=list(
                dict.fromkeys([*(old.repo_digests if old else []), *([repo_digest] if repo_digest else [])])
            ),
            source=img.source,
            imported=time.time(),
            unpacked_size=total,
        )

    def _untag_others(self, image_id: str, tags: Sequence[str]) -> None:
        for other in self.records():
            if other.id != image_id and set(other.repo_tags) & set(tags):
                other.repo_tags = [t for t in other.repo_tags if t not in tags]
                self.save_record(other)

    def import_path(
        self, path: Path, tag: str | None, progress: Progress, platform: str | None = None
    ) -> ImageRecord:
        path = path.absolute()
        try:
            img = open_image(path, platform)
        except NotAnImageError:
            return self.import_rootfs_tarball(path, tag, progress, platform)
        return self.import_image(img, [tag] if tag else [], progress)

    def import_rootfs_tarball(
        self, path: Path, tag: str | None, progress: Progress, platform: str | None = None
    ) -> ImageRecord:
        """A plain root filesystem tarball (gzip, zstd or plain) becomes a one-layer image, of
        `platform` (default: this machine's)."""
        os_name, arch, variant = parse_platform(platform)
        h = hashlib.sha256()
        with open(path, "rb") as f:
            head = f.read(4)
            h.update(head)
            while chunk := f.read(CHUNK):
                h.update(chunk)
        size = path.stat().st_size
        kind = "gzip" if head.startswith(GZIP_MAGIC) else "zstd" if head == ZSTD_MAGIC else ""
        media_type = "application/vnd.oci.image.layer.v1.tar" + (f"+{kind}" if kind else "")
        blob = LayerBlob(
            "sha256:" + h.hexdigest(), None, media_type, size, lambda: _open_raw(path), Limits.from_env()
        )
        with self.transaction() as txn:
            diff_id, chain, _ = self.unpack(txn, blob, [], progress, f"rootfs {path.name}")
            staged_blob = txn.blobs.get(blob.digest) or self.blob_path(blob.digest)
            now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
            history: list[dict[str, Any]] = [
                {"created": now, "created_by": f"pysandbox image import {path.name}"}
            ]
            config: dict[str, Any] = {
                "architecture": arch,
                **({"variant": variant} if variant else {}),
                "os": os_name,
                "created": now,
                "config": {"Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"]},
                "rootfs": {"type": "layers", "diff_ids": [diff_id]},
                "history": history,
            }
            config_bytes = json.dumps(config, sort_keys=True).encode()
            config_digest = "sha256:" + hashlib.sha256(config_bytes).hexdigest()
            stored = LayerBlob(blob.digest, diff_id, media_type, size, lambda: _open_raw(staged_blob))
            img = ArchiveImage(
                str(path),
                config,
                config_digest,
                (stored,),
                tuple(history),
                (),
                config_bytes=config_bytes,
                kind="rootfs",
            )
            del chain
            return self.import_image(img, [tag] if tag else [], progress, txn=txn)

    # --- reading back --------------------------------------------------------------------------
    def open_stored(self, ref: str) -> ArchiveImage:
        """A stored image as an ArchiveImage (for the scanner): blobs read from the store, verified."""
        rec = self.resolve(ref)
        src = _DirSource(self.root)
        limits = Limits.from_env()
        manifest, _ = _read_blob_json(
            src,
            {"digest": rec.manifest_digest, "size": self.blob_path(rec.manifest_digest).stat().st_size},
            f"image {short(rec.id)} manifest",
            limits,
        )
        tags = tuple(rec.familiar_tags)
        img = image_from_manifest(
            manifest,
            rec.manifest_digest,
            f"store:{ref}",
            tags,
            lambda d, w: _read_blob_json(src, d, w, limits),
            lambda digest: lambda: src.open(f"blobs/sha256/{_hex(digest)}"),
            limits,
        )
        return ArchiveImage(
            img.source,
            img.config,
            img.config_digest,
            img.layers,
            img.history,
            img.repo_tags,
            config_bytes=img.config_bytes,
            manifest=img.manifest,
            manifest_digest=img.manifest_digest,
            kind="store",
        )

    # --- removal ---------------------------------------------------------------------------------
    def remove(self, ref: str, force: bool = False) -> tuple[list[str], list[str]]:
        """Untag `ref`; delete the image when no tag is left or when given by id.

        Returns (untagged names, deleted ids and layers)."""
        with self.locked():
            rec = self.resolve(ref)
            by_tag = False
            with contextlib.suppress(UserError):
                by_tag = parse_reference(ref).name in rec.repo_tags
            untagged: list[str] = []
            if by_tag and not ref.strip().removeprefix("sha256:").startswith(_hex(rec.id)[:4]):
                name = parse_reference(ref).name
                rec.repo_tags = [t for t in rec.repo_tags if t != name]
                untagged.append(parse_reference(name).familiar)
                if rec.repo_tags:
                    self.save_record(rec)
                    return untagged, []
            elif len(rec.repo_tags) > 1 and not force:
                raise UserError(
                    f"image {short(rec.id)} has several tags ({', '.join(rec.familiar_tags)}): "
                    "remove them by name or pass --force"
                )
            else:
                untagged.extend(rec.familiar_tags)
            (self.images / f"{_hex(rec.id)}.json").unlink()
            return untagged, [rec.id, *self._gc()]

    def prune(self) -> list[str]:
        """Delete untagged images, then every layer and blob no image refers to (and not in use)."""
        with self.locked():
            removed = []
            for rec in self.records():
                if not rec.repo_tags:
                    (self.images / f"{_hex(rec.id)}.json").unlink()
                    removed.append(rec.id)
            return removed + self._gc()

    def _gc(self) -> list[str]:
        keep_layers: set[str] = set()
        keep_blobs: set[str] = set()
        for rec in self.records():
            keep_blobs.update({_hex(rec.id), _hex(rec.manifest_digest)})
            for lay in rec.layers:
                keep_layers.add(_hex(lay.chain_id))
                keep_blobs.add(_hex(lay.digest))
        removed = []
        for d in self.layers.iterdir():
            if d.name in keep_layers or _layer_in_use(d):
                continue
            grave = Path(tempfile.mkdtemp(dir=self.tmp))
            os.rename(d, grave / "layer")
            rmtree_force(grave)
            removed.append(f"layer sha256:{d.name}")
        for b in self.blobs.iterdir():
            if b.name not in keep_blobs:
                b.unlink()
                removed.append(f"blob sha256:{b.name}")
        return removed


def _layer_in_use(d: Path) -> bool:
    try:
        return lock_held(d / "lock")
    except OSError:
        return False


def _open_raw(path: Path) -> BinaryIO:
    return open(path, "rb", buffering=0)


def _manifest_bytes(img: ArchiveImage, config_bytes: bytes, layers: Sequence[LayerRecord]) -> bytes:
    if img.manifest_bytes:
        return img.manifest_bytes
    manifest = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": {"mediaType": OCI_CONFIG, "digest": img.config_digest, "size": len(config_bytes)},
        "layers": [{"mediaType": lay.media_type, "digest": lay.digest, "size": lay.size} for lay in layers],
    }
    return json.dumps(manifest, separators=(",", ":")).encode()
