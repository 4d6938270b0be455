"""Which sinks the audit events go to: `audit.sinks` in $PYSANDBOX_HOME/config.yaml and/or
`PYSANDBOX_AUDIT_SINKS` (comma-separated URIs, or a JSON list of the same items as the YAML).

Items are URIs or mappings:
  jsonl:/var/log/pysandbox.jsonl                  {jsonl: /var/log/pysandbox.jsonl}
  syslog+udp://127.0.0.1:514?facility=local0      {syslog: udp://127.0.0.1:514, facility: local0,
                                                   app_name: pysandbox}
  syslog+tcp://logs.example:6514                  {syslog: tcp://logs.example:6514}
  syslog+unix:///dev/log                          {syslog: unix:///dev/log}
  http://collector:8080/events?batch=100          {http: http://collector:8080/events, batch: 100, timeout: 5,
                                                   give_up: 600, headers: {Authorization: Bearer ...}}
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import SplitResult, parse_qsl, urlsplit

from pysandbox import paths
from pysandbox.types import UserError
from pysandbox.userfiles import parse_yaml, read_text

ENV = paths.SINKS_ENV
FACILITIES = {
    "kern": 0,
    "user": 1,
    "mail": 2,
    "daemon": 3,
    "auth": 4,
    "syslog": 5,
    "lpr": 6,
    "news": 7,
    "uucp": 8,
    "cron": 9,
    "authpriv": 10,
    "ftp": 11,
    "ntp": 12,
    "audit": 13,
    "alert": 14,
    "clock": 15,
    **{f"local{i}": 16 + i for i in range(8)},
}
_OPTION_KINDS: dict[str, dict[str, type]] = {
    "jsonl": {},
    "syslog": {"facility": str, "app_name": str, "timeout": float, "give_up": float, "batch": int},
    "http": {"batch": int, "timeout": float, "give_up": float, "headers": dict},
}
# every key config.yaml may hold (only audit reads it): a misspelt key must not turn forwarding off
_TOP_KEYS = ("audit",)
_AUDIT_KEYS = ("sinks",)
_FIX = "see `audit.sinks` in the pysandbox documentation (jsonl:PATH, syslog+udp://HOST:PORT, http://URL)"


@dataclass(frozen=True)
class SinkSpec:
    kind: str  # jsonl | syslog | http
    target: str  # jsonl: absolute path; syslog: udp://h:p, tcp://h:p or unix:///path; http: the URL
    options: tuple[tuple[str, Any], ...] = ()

    @property
    def key(self) -> str:
        """Stable name of the sink: its delivery cursor in the store is kept under it."""
        return f"{self.kind}:{self.target}"

    def option(self, name: str, default: Any) -> Any:
        return dict(self.options).get(name, default)


def configured_sinks() -> list[SinkSpec]:
    specs = _from_config_file(paths.home() / paths.CONFIG)
    text = os.environ.get(ENV, "").strip()
    if text:
        specs += parse_items(_env_items(text), ENV)
    unique: dict[str, SinkSpec] = {}
    for spec in specs:
        unique.setdefault(spec.key, spec)
    return list(unique.values())


def _env_items(text: str) -> list[Any]:
    if text.startswith("["):
        try:
            items = json.loads(text)
        except ValueError:
            raise UserError(
                f"{ENV} starts with '[' but is not JSON: give a JSON list or comma-separated URIs"
            ) from None
        if not isinstance(items, list):
            raise UserError(f"{ENV} must be a JSON list: {_FIX}")
        return items
    return [part.strip() for part in text.split(",") if part.strip()]


def _from_config_file(path: Path) -> list[SinkSpec]:
    if not path.exists():
        return []
    text = read_text(path, "config", "make it a UTF-8 YAML file this user can read")
    data = parse_yaml(text, "config", path, fast=True)
    audit = _section(data, str(path), _TOP_KEYS)["audit"]
    sinks = _section(audit, f"{path}: audit", _AUDIT_KEYS)["sinks"]
    if sinks is None:
        return []
    if not isinstance(sinks, list):
        raise UserError(f"{path}: audit.sinks must be a list: {_FIX}")
    return parse_items(sinks, f"{path}: audit.sinks")


def _section(data: Any, origin: str, accepted: tuple[str, ...]) -> dict[str, Any]:
    """The mapping `data` (None: empty) with every accepted key present, refusing any other key."""
    names = ", ".join(accepted)
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise UserError(
            f"{origin}: must be a mapping (accepted keys: {names}), not a {type(data).__name__}: {_FIX}"
        )
    for key in data:
        if key not in accepted:
            raise UserError(f"{origin}: unknown key {key!r}: accepted keys: {names}")
    return {k: data.get(k) for k in accepted}


def parse_items(items: list[Any], origin: str) -> list[SinkSpec]:
    return [_parse_item(item, f"{origin}[{i}]") for i, item in enumerate(items)]


def _parse_item(item: Any, origin: str) -> SinkSpec:
    if isinstance(item, str):
        return _parse_uri(item, origin)
    if not isinstance(item, dict):
        raise UserError(f"{origin}: a sink is a URI or a mapping: {_FIX}")
    kinds = [k for k in ("jsonl", "syslog", "http") if k in item]
    if len(kinds) != 1 or not isinstance(item[kinds[0]], str):
        raise UserError(f"{origin}: name exactly one of jsonl, syslog, http with its target: {_FIX}")
    kind = kinds[0]
    options = {k: v for k, v in item.items() if k != kind}
    if kind == "syslog":
        return _build("syslog", _syslog_target(item[kind], origin), options, origin)
    if kind == "http":
        return _build("http", _http_target(item[kind], origin), options, origin)
    return _build("jsonl", _jsonl_target(item[kind], origin), options, origin)


def _parse_uri(uri: str, origin: str) -> SinkSpec:
    scheme, _, rest = uri.partition(":")
    scheme = scheme.lower()
    if scheme == "jsonl":
        return _build("jsonl", _jsonl_target(rest.removeprefix("//"), origin), {}, origin)
    if scheme in ("http", "https"):
        parts = _split(uri, origin, "http://HOST:PORT/PATH")
        options = dict(parse_qsl(parts.query))
        opts = {k: options.pop(k) for k in list(options) if k in _OPTION_KINDS["http"]}
        url = parts._replace(query="&".join(f"{k}={v}" for k, v in options.items())).geturl()
        return _build("http", _http_target(url, origin), opts, origin)
    if scheme in ("syslog", "syslog+udp", "syslog+tcp", "syslog+unix"):
        transport = scheme.partition("+")[2] or "udp"
        parts = _split(f"{transport}:{rest}", origin, f"{scheme}://HOST:PORT")
        target = f"{transport}:{parts.path}" if transport == "unix" else f"{transport}://{parts.netloc}"
        return _build("syslog", _syslog_target(target, origin), dict(parse_qsl(parts.query)), origin)
    raise UserError(f"{origin}: unknown sink {uri!r}: {_FIX}")


def _jsonl_target(path: str, origin: str) -> str:
    if not path.startswith("/"):
        raise UserError(
            f"{origin}: the jsonl sink needs an absolute path, got {path!r}: write /full/path.jsonl"
        )
    if not Path(path).parent.is_dir():
        raise UserError(f"{origin}: directory of {path} does not exist: create it first")
    return path


def _http_target(url: str, origin: str) -> str:
    parts = _split(url, origin, "http://HOST:PORT/PATH")
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UserError(f"{origin}: {url!r} is not an http(s) URL: write http://HOST:PORT/PATH")
    _port(parts, url, origin, "http://HOST:PORT/PATH")
    return url


def _syslog_target(address: str, origin: str) -> str:
    transport, _, rest = address.partition(":")
    if transport == "unix":
        path = rest.removeprefix("//")
        if not path.startswith("/"):
            raise UserError(f"{origin}: syslog unix socket needs an absolute path: write unix:///dev/log")
        return f"unix:{path}"
    if transport not in ("udp", "tcp"):
        raise UserError(f"{origin}: syslog transport {transport!r} unknown: use udp://, tcp:// or unix://")
    parts = _split(address, origin, f"{transport}://HOST:PORT")
    port = _port(parts, address, origin, f"{transport}://HOST:PORT") or 514
    if not parts.hostname:
        raise UserError(f"{origin}: no host in {address!r}: write {transport}://HOST:PORT")
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    return f"{transport}://{host}:{port}"


def _split(url: str, origin: str, example: str) -> SplitResult:
    """urlsplit, with its ValueError (unbalanced or bad [IPv6] host) as a UserError."""
    try:
        parts = urlsplit(url)
        if "[" in parts.netloc:  # Python < 3.11.4 does not check the bracketed host itself
            import ipaddress

            ipaddress.IPv6Address(parts.hostname or "")
    except ValueError:
        raise UserError(
            f"{origin}: bad host in {url!r}: write {example}, an IPv6 address in brackets ([::1])"
        ) from None
    return parts


def _port(parts: SplitResult, url: str, origin: str, example: str) -> int | None:
    """The explicit port (None when absent, so the default applies), 1-65535."""
    try:
        port = parts.port
    except ValueError:
        port = 0
    if port is not None and not 1 <= port <= 65535:
        raise UserError(f"{origin}: bad port in {url!r}: write {example} with a port from 1 to 65535")
    return port


def _build(kind: str, target: str, options: dict[str, Any], origin: str) -> SinkSpec:
    known = _OPTION_KINDS[kind]
    checked: dict[str, Any] = {}
    for name, value in options.items():
        if name not in known:
            raise UserError(
                f"{origin}: {kind} sink has no option {name!r}: use one of {', '.join(known) or 'none'}"
            )
        checked[name] = _coerce(name, value, known[name], origin)
    if kind == "syslog" and checked.get("facility", "local0") not in FACILITIES:
        raise UserError(
            f"{origin}: unknown syslog facility {checked['facility']!r}: use one of {', '.join(FACILITIES)}"
        )
    return SinkSpec(kind, target, tuple(sorted(checked.items(), key=lambda kv: kv[0])))


def _coerce(name: str, value: Any, kind: type, origin: str) -> Any:
    try:
        if kind is dict:
            if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
                raise ValueError
            return tuple(sorted((str(k), v) for k, v in value.items()))
        result = kind(value)
        if kind in (int, float) and not 0 < result < math.inf:  # also refuses nan
            raise ValueError
        return result
    except (TypeError, ValueError, OverflowError):
        raise UserError(
            f"{origin}: option {name}={value!r} is not a valid {kind.__name__}: "
            f"give a positive {kind.__name__}"
            if kind is not dict
            else f"{origin}: option {name} must map header names to strings"
        ) from None
