from __future__ import annotations

from pathlib import Path

from .cfg_helpers import audit_fixture, audit_text, of


def test_config_file_mounted_writable() -> None:
    (f,) = of(audit_fixture("compose-risky.yml"), "PSB-A020")
    assert f.location.line == 34 and "./nginx.conf at /etc/nginx/nginx.conf read-write" in f.message


def test_data_dirs_sockets_and_read_only_mounts_pass(tmp_path: Path) -> None:
    audits = audit_text(
        tmp_path,
        """\
        services:
          a:
            image: x
            volumes:
              - ./data:/var/lib/app
              - ./app.yaml:/etc/app/app.yaml:ro
              - /run/app/app.sock:/etc/app/app.sock
        """,
    )
    assert of(audits, "PSB-A020") == []
    assert of(audit_fixture("compose-hardened.yml"), "PSB-A020") == []
