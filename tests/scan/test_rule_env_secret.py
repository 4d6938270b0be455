from .helpers import CLEAN_CONFIG, by_rule, scan


def test_secret_env_values_are_found(build):
    env = ["PATH=/bin", "DB_PASSWORD=Xk9#mQ2vL7pR", "GH=ghp_0123456789abcdefghijABCDEFGHIJ012345"]
    findings = by_rule(scan(build(config={**CLEAN_CONFIG, "Env": env}).path, {"config"}), "PSB-I002")
    paths = {f.location.path: f for f in findings}
    assert set(paths) == {"image-config/Env/DB_PASSWORD", "image-config/Env/GH"}
    assert paths["image-config/Env/GH"].severity.label == "critical"
    assert "github-pat" in paths["image-config/Env/GH"].aliases
    assert "Xk9#mQ2vL7pR" not in paths["image-config/Env/DB_PASSWORD"].message  # redacted


def test_harmless_env_passes(build):
    env = [
        "PATH=/bin",
        "PASSWORD_FILE=/run/secrets/db",
        "TOKEN_URL=https://auth.example/token",
        "DEBUG=false",
    ]
    assert not by_rule(scan(build(config={**CLEAN_CONFIG, "Env": env}).path, {"config"}), "PSB-I002")
