"""Pull images over the OCI distribution API v2 (Docker registry HTTP API v2).

Anonymous access, Basic credentials (from ~/.docker/config.json `auths`, or PYSANDBOX_REGISTRY_USER
and PYSANDBOX_REGISTRY_PASSWORD) and bearer tokens (the `WWW-Authenticate: Bearer realm=...`
challenge; the token endpoint is asked with Basic credentials when there are some). Manifest lists /
OCI indexes pick this machine's platform. Every manifest, config and blob is checked against its
digest before it is used. HTTPS by default; `insecure=True` (plain HTTP) only for loopback
registries. Authorization headers are never sent along a redirect (blob storage redirects).
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import ssl
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from pysandbox.images.archive import (
    DOCKER_LIST,
    DOCKER_MANIFEST,
    INDEX_TYPES,
    OCI_INDEX,
    OCI_MANIFEST,
    ArchiveImage,
    LayerBlob,
    check_platform,
    image_from_manifest,
    parse_platform,
    select_manifest,
)
from pysandbox.images.progress import Progress
from pysandbox.images.records import ImageRecord
from pysandbox.images.reference import Reference, parse_reference
from pysandbox.images.store import Store, Txn
from pysandbox.images.streams import CHUNK, ArchiveError, HashingReader, Limits, check_digest, short
from pysandbox.types import UserError

MANIFEST_ACCEPT = ", ".join([OCI_INDEX, DOCKER_LIST, OCI_MANIFEST, DOCKER_MANIFEST])
TIMEOUT = 60
USER_AGENT = "pysandbox"


class RegistryError(UserError):
    pass


@dataclass
class _Auth:
    header: str | None = None


def _parse_challenge(header: str) -> tuple[str, dict[str, str]]:
    scheme, _, rest = header.strip().partition(" ")
    params = dict(re.findall(r'(\w+)="([^"]*)"', rest))
    return scheme.lower(), params


def _docker_config_auth(registry: str) -> tuple[str, str] | None:
    user = os.environ.get("PYSANDBOX_REGISTRY_USER")
    password = os.environ.get("PYSANDBOX_REGISTRY_PASSWORD")
    if user and password is not None:
        return user, password
    cfg = Path(os.environ.get("DOCKER_CONFIG", Path.home() / ".docker")) / "config.json"
    try:
        auths = json.loads(cfg.read_text()).get("auths", {})
    except (OSError, ValueError, AttributeError):
        return None
    keys = [registry, f"https://{registry}", f"http://{registry}"]
    if registry == "docker.io":
        keys.append("https://index.docker.io/v1/")
    for k in keys:
        entry = auths.get(k) if isinstance(auths, dict) else None
        if isinstance(entry, dict) and isinstance(entry.get("auth"), str):
            try:
                u, _, p = base64.b64decode(entry["auth"]).decode().partition(":")
                return u, p
            except (ValueError, UnicodeDecodeError):
                return None
    return None


class Registry:
    def __init__(self, ref: Reference, insecure: bool = False) -> None:
        if insecure and not ref.is_loopback:
            raise RegistryError(
                f"--insecure (plain HTTP) is only allowed for loopback registries, not "
                f"{ref.registry}: use HTTPS"
            )
        self.ref = ref
        self.base = f"{'http' if insecure else 'https'}://{ref.api_registry}/v2/{ref.repository}"
        self.auth = _Auth()
        self.creds = _docker_config_auth(ref.registry)
        handlers: list[urllib.request.BaseHandler] = [
            urllib.request.HTTPSHandler(context=ssl.create_default_context())
        ]
        if ref.is_loopback:  # never through a proxy
            handlers.append(urllib.request.ProxyHandler({}))
        # Authorization is added with add_unredirected_header: it never follows a redirect.
        self._opener = urllib.request.build_opener(*handlers)

    # --- HTTP --------------------------------------------------------------------------------
    def _request(self, url: str, accept: str | None = None, retry_auth: bool = True) -> Any:
        req = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
        if accept:
            req.add_header("Accept", accept)
        if self.auth.header:
            req.add_unredirected_header("Authorization", self.auth.header)
        try:
            return self._opener.open(req, timeout=TIMEOUT)
        except urllib.error.HTTPError as exc:
            if exc.code == 401 and retry_auth:
                challenge = exc.headers.get("WWW-Authenticate", "")
                exc.close()
                self._authenticate(challenge)
                return self._request(url, accept, retry_auth=False)
            detail = _error_detail(exc)
            exc.close()
            if exc.code == 404:
                raise RegistryError(
                    f"{self.ref.familiar}: not found on {self.ref.registry} ({detail}): "
                    "check the name and tag"
                ) from None
            if exc.code in (401, 403):
                raise RegistryError(
                    f"{self.ref.familiar}: access denied by {self.ref.registry} ({detail}): "
                    "log in or check the repository name"
                ) from None
            raise RegistryError(f"{self.ref.registry}: HTTP {exc.code} ({detail}): try again later") from None
        except urllib.error.URLError as exc:
            raise RegistryError(
                f"cannot reach {self.ref.registry}: {exc.reason}: check the registry address"
                + ("" if url.startswith("http:") else " (or --insecure for a local HTTP registry)")
            ) from None
        except (OSError, ValueError) as exc:
            raise RegistryError(
                f"cannot reach {self.ref.registry}: {exc}: check the registry address"
            ) from None

    def _authenticate(self, challenge: str) -> None:
        scheme, params = _parse_challenge(challenge)
        if scheme == "basic":
            if not self.creds:
                raise RegistryError(
                    f"{self.ref.registry} requires credentials: set PYSANDBOX_REGISTRY_USER "
                    "and PYSANDBOX_REGISTRY_PASSWORD"
                )
            self.auth.header = "Basic " + base64.b64encode(":".join(self.creds).encode()).decode()
            return
        if scheme != "bearer" or "realm" not in params:
            raise RegistryError(f"{self.ref.registry}: unsupported authentication challenge {challenge!r}")
        realm = params["realm"]
        if not realm.startswith("https://") and not (
            realm.startswith("http://") and self.base.startswith("http:")
        ):
            raise RegistryError(
                f"{self.ref.registry}: token realm {realm!r} is not HTTPS: refusing to send credentials"
            )
        query = {"scope": params.get("scope") or f"repository:{self.ref.repository}:pull"}
        if "service" in params:
            query["service"] = params["service"]
        req = urllib.request.Request(
            f"{realm}?{urllib.parse.urlencode(query)}", headers={"User-Agent": USER_AGENT}
        )
        if self.creds:
            req.add_unredirected_header(
                "Authorization", "Basic " + base64.b64encode(":".join(self.creds).encode()).decode()
            )
        try:
            with self._opener.open(req, timeout=TIMEOUT) as resp:
                body = json.loads(resp.read(1 << 20))
        except urllib.error.HTTPError as exc:
            exc.close()
            raise RegistryError(
                f"{self.ref.registry}: the token service refused ({exc.code}): "
                "check credentials and repository name"
            ) from None
        except (OSError, ValueError) as exc:
            raise RegistryError(f"{self.ref.registry}: cannot get a token from {realm}: {exc}") from None
        token = body.get("token") or body.get("access_token") if isinstance(body, dict) else None
        if not isinstance(token, str) or not token:
            raise RegistryError(
                f"{self.ref.registry}: the token service returned no token: check the registry"
            )
        self.auth.header = f"Bearer {token}"

    # --- documents -----------------------------------------------------------------------------
    def manifest(self, reference: str, limits: Limits) -> tuple[dict[str, Any], bytes, str]:
        """(document, raw bytes, digest) of a manifest or index, verified."""
        with self._request(f"{self.base}/manifests/{reference}", accept=MANIFEST_ACCEPT) as resp:
            data = resp.read(limits.max_json_bytes + 1)
            header_digest = resp.headers.get("Docker-Content-Digest")
        if len(data) > limits.max_json_bytes:
            raise ArchiveError(
                f"{self.ref.familiar}: manifest above {limits.max_json_bytes} bytes: refusing it"
            )
        digest = "sha256:" + hashlib.sha256(data).hexdigest()
        expected = reference if reference.startswith("sha256:") else header_digest
        if expected and expected.startswith("sha256:") and expected != digest:
            raise ArchiveError(
                f"{self.ref.familiar}: manifest digest mismatch (expected {expected}, got {digest}): "
                "the registry or the connection is tampering"
            )
        try:
            doc = json.loads(data)
        except (ValueError, RecursionError):
            raise ArchiveError(f"{self.ref.familiar}: manifest is not JSON: the registry is broken") from None
        if not isinstance(doc, dict):
            raise ArchiveError(f"{self.ref.familiar}: manifest is not an object: the registry is broken")
        return doc, data, digest

    def blob_json(self, desc: dict[str, Any], what: str, limits: Limits) -> tuple[Any, bytes]:
        digest = check_digest(desc.get("digest"), what)
        size = desc.get("size")
        if not isinstance(size, int) or size < 0 or size > limits.max_json_bytes:
            raise ArchiveError(
                f"{what}: descriptor size {size!r} is invalid or above the JSON cap: refusing it"
            )
        reader = HashingReader(self.open_blob(digest), digest, size, f"{what} {short(digest)}")
        with reader:
            chunks = []
            while chunk := reader.read(CHUNK):
                chunks.append(chunk)
            reader.drain()
        data = b"".join(chunks)
        try:
            return json.loads(data), data
        except (ValueError, RecursionError):
            raise ArchiveError(f"{what}: not JSON: the registry is broken") from None

    def open_blob(self, digest: str) -> BinaryIO:
        resp: BinaryIO = self._request(f"{self.base}/blobs/{digest}")
        return resp

    def download(self, digest: str, size: int, dest: Path, on_bytes: Callable[[int], Any]) -> None:
        with open(dest, "wb") as out:

            def tee(data: bytes) -> None:
                out.write(data)
                on_bytes(len(data))

            with HashingReader(self.open_blob(digest), digest, size, f"layer {short(digest)}", tee) as reader:
                reader.drain()


def _error_detail(exc: urllib.error.HTTPError) -> str:
    try:
        body = json.loads(exc.read(1 << 16))
        errors = body.get("errors") if isinstance(body, dict) else None
        if isinstance(errors, list) and errors and isinstance(errors[0], dict):
            return str(errors[0].get("code") or errors[0].get("message") or exc.reason)
    except (OSError, ValueError):
        pass
    return str(exc.reason)


def pull(
    store: Store,
    text: str,
    progress: Progress,
    insecure: bool = False,
    platform: str | None = None,
    jobs: int = 3,
) -> ImageRecord:
    """Pull `text` into the store (under its lock; layers already present are not downloaded)."""
    ref = parse_reference(text)
    reg = Registry(ref, insecure)
    limits = Limits.from_env()
    want = parse_platform(platform)
    doc, raw, digest = reg.manifest(ref.digest or ref.tag or "latest", limits)
    if doc.get("mediaType") in INDEX_TYPES or ("manifests" in doc and "layers" not in doc):
        manifests = doc.get("manifests")
        if not isinstance(manifests, list):
            raise ArchiveError(f"{ref.familiar}: index without manifests: the registry is broken")

        def fetch_index(desc: dict[str, Any]) -> list[dict[str, Any]]:
            sub, _, _ = reg.manifest(check_digest(desc.get("digest"), "index"), limits)
            return [d for d in sub.get("manifests") or [] if isinstance(d, dict)]

        chosen = select_manifest(manifests, want, ref.familiar, fetch_index)
        doc, raw, digest = reg.manifest(check_digest(chosen.get("digest"), "manifest"), limits)
        if doc.get("mediaType") in INDEX_TYPES:
            raise ArchiveError(f"{ref.familiar}: index points to another index: the registry is broken")
    repo_digest = f"{ref.registry}/{ref.repository}@{digest}"
    with store.transaction() as txn:
        img = image_from_manifest(
            doc,
            digest,
            ref.familiar,
            (ref.familiar,),
            lambda d, w: reg.blob_json(d, w, limits),
            lambda d: lambda: store.blob_path(d).open("rb"),
            limits,
            raw,
        )
        if platform is not None:
            check_platform(img.config, want, ref.familiar)
        _fetch_layers(txn, store, reg, img, progress, jobs)
        stored = tuple(
            LayerBlob(
                lay.digest, lay.diff_id, lay.media_type, lay.size, _opener(txn, store, lay.digest), limits
            )
            for lay in img.layers
        )
        final = ArchiveImage(
            img.source,
            img.config,
            img.config_digest,
            stored,
            img.history,
            (),
            config_bytes=img.config_bytes,
            manifest=img.manifest,
            manifest_digest=digest,
            manifest_bytes=raw,
            kind="registry",
        )
        tags = [ref.name] if ref.tag else []
        return store.import_image(final, tags, progress, repo_digest=repo_digest, txn=txn)


def _opener(txn: Txn, store: Store, digest: str) -> Callable[[], BinaryIO]:
    return lambda: open(txn.blobs.get(digest) or store.blob_path(digest), "rb", buffering=0)


def _fetch_layers(
    txn: Txn, store: Store, reg: Registry, img: ArchiveImage, progress: Progress, jobs: int
) -> None:
    """Download the blobs the store lacks into the transaction (verified), a few at a time."""
    todo = [lay for lay in img.layers if not store.has_blob(lay.digest)]
    if not todo:
        return
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:

        def fetch(lay: LayerBlob) -> None:
            task = progress.task(f"download {short(lay.digest)}", lay.size)
            dest = txn.work / f"download-{lay.digest[7:]}"
            reg.download(lay.digest, lay.size, dest, lambda n: progress.advance(task, n))
            txn.blobs[lay.digest] = dest
            progress.finish(task)

        for future in [pool.submit(fetch, lay) for lay in todo]:
            future.result()
