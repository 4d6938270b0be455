from .helpers import by_rule, scan
from .imagebuild import F

TEXT = "\n".join(
    [
        "# service configuration",
        "aws_access_key_id = AKIAQWERTYUIOPASDFGH",
        "gcp_key = AIzaSyA1b2C3d4E5f6G7h8I9j0KlMnOpQrStUvW",
        "github = ghp_0123456789abcdefghijABCDEFGHIJ012345",
        "slack = xoxb-123456789012-abcdefghijklmnopQRST",
        "stripe = sk_live_4eC39HqLyjWDarjtT1zdp7dc",
        "session = eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0."
        "dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
        "db_password = 'q7Rv#2mXk9!Lp4Zt'",
        "",
    ]
).encode()
GCP = b'{\n  "type": "service_account",\n  "project_id": "demo"\n}\n'


def test_patterns_found_with_line_numbers(build):
    image = build({"etc/app/settings.ini": F(TEXT), "srv/gcp.json": F(GCP)})
    found = by_rule(scan(image.path, {"secret"}), "PSB-I014")
    lines = {(f.location.path, f.location.line, f.extra["secret_type"]) for f in found}
    assert lines == {
        ("/etc/app/settings.ini", 2, "aws-access-key-id"),
        ("/etc/app/settings.ini", 3, "gcp-api-key"),
        ("/etc/app/settings.ini", 4, "github-pat"),
        ("/etc/app/settings.ini", 5, "slack-access-token"),
        ("/etc/app/settings.ini", 6, "stripe-secret-token"),
        ("/etc/app/settings.ini", 7, "jwt-token"),
        ("/etc/app/settings.ini", 8, "generic-secret-assignment"),
        ("/srv/gcp.json", 2, "gcp-service-account"),
    }
    assert all(f.location.layer == image.digests[1] for f in found)
    assert not any("0123456789abcdefghij" in f.message for f in found)  # redacted


def test_low_entropy_placeholders_and_binaries_pass(build):
    text = b"password = changeme_changeme\ntoken: ${TOKEN}\napi_key = aaaaaaaaaaaaaaaa\n"
    binary = b"\x00\x01ghp_0123456789abcdefghijABCDEFGHIJ012345"
    image = build(
        {
            "etc/app.conf": F(text),
            "usr/local/bin/tool": F(binary),
            "usr/share/doc/x/README": F(b"ghp_0123456789abcdefghijABCDEFGHIJ012345"),
        }
    )
    assert not by_rule(scan(image.path, {"secret"}), "PSB-I014")
