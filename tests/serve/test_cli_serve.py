"""``seqlab serve`` arguments: safe defaults, every limit configurable, and models only from local
run directories named at start (checked before the server binds)."""

from __future__ import annotations

import pytest

from seqlab.cli import build_parser, main
from seqlab.cli.serve import serve_settings
from seqlab.errors import ConfigError
from seqlab.serve.registry import parse_model_specs


def settings_of(*argv: str):
    return serve_settings(build_parser().parse_args(["serve", "some/run", *argv]))


def test_defaults_bind_loopback_with_a_1_mib_body_limit(monkeypatch):
    monkeypatch.delenv("SEQLAB_TOKEN", raising=False)
    settings = settings_of()
    assert settings.host == "127.0.0.1" and settings.port == 8000
    assert settings.max_body_bytes == 1024 * 1024
    assert settings.token is None


def test_every_limit_is_configurable(monkeypatch):
    monkeypatch.setenv("SEQLAB_TOKEN", "from-the-environment")
    settings = settings_of(
        "--host", "0.0.0.0", "--port", "9000", "--max-input-tokens", "7", "--max-output-tokens", "8",
        "--max-beam-size", "2", "--max-batch-size", "3", "--max-body-bytes", "4096",
        "--decode-timeout", "2.5", "--queue-size", "5", "--batch-wait-ms", "1", "--drain-timeout", "9",
        "--read-timeout", "4",
    )  # fmt: skip
    assert (settings.host, settings.port) == ("0.0.0.0", 9000)
    assert (settings.max_input_tokens, settings.max_output_tokens) == (7, 8)
    assert (settings.max_beam_size, settings.max_batch_size, settings.max_body_bytes) == (2, 3, 4096)
    assert (settings.decode_timeout_s, settings.queue_size, settings.batch_wait_ms) == (2.5, 5, 1.0)
    assert (settings.drain_timeout_s, settings.read_timeout_s) == (9.0, 4.0)
    assert settings.token == "from-the-environment"
    assert settings_of("--token", "given-on-the-line").token == "given-on-the-line"


def test_invalid_limits_are_refused_with_every_problem(capsys):
    assert main(["serve", "run", "--max-batch-size", "0", "--decode-timeout", "-1"]) == 2
    err = capsys.readouterr().err
    assert "max_batch_size = 0" in err and "decode_timeout_s = -1" in err


def test_models_come_only_from_local_run_directories(tmp_path, runs, capsys):
    assert main(["serve", "https://example.com/model"]) == 2
    assert "not URLs" in capsys.readouterr().err
    assert main(["serve", str(tmp_path)]) == 2
    assert "not a seqlab run directory" in capsys.readouterr().err
    with pytest.raises(ConfigError, match="two models are named"):
        parse_model_specs([str(runs["lm"]), f"lm={runs['classifier']}"])
    with pytest.raises(ConfigError, match="model name"):
        parse_model_specs([f"../x={runs['lm']}"])
    (spec,) = parse_model_specs([f"my-lm={runs['lm']}"])
    assert spec.name == "my-lm" and spec.path == runs["lm"].resolve()


def test_a_request_cannot_name_a_path(server):
    import httpx

    for name in ("..%2F..%2Fetc", "%2Ftmp%2Frun", "lm%2F..%2Fclassifier"):
        response = httpx.post(f"{server.url}/models/{name}/classify", json={"text": "a"})
        assert response.status_code == 404, (name, response.text)


def test_a_public_host_without_a_token_is_refused_unless_insecure(monkeypatch, runs, capsys):
    monkeypatch.delenv("SEQLAB_TOKEN", raising=False)
    for host in ("0.0.0.0", "192.168.1.5", "::", "example.org"):
        assert main(["serve", str(runs["lm"]), "--host", host]) == 2
        err = capsys.readouterr().err
        assert len(err.strip().splitlines()) == 1, err
        assert host in err and "--token" in err and "--insecure" in err
    assert settings_of("--host", "0.0.0.0", "--insecure").insecure is True
    assert settings_of("--host", "0.0.0.0", "--token", "a-long-token").host == "0.0.0.0"
    monkeypatch.setenv("SEQLAB_TOKEN", "from-the-environment")
    assert settings_of("--host", "0.0.0.0").token == "from-the-environment"
    monkeypatch.delenv("SEQLAB_TOKEN")
    for host in ("127.0.0.1", "localhost", "::1", "127.0.0.2"):
        assert settings_of("--host", host).host == host


def test_int8_and_no_verify_reach_the_loader_and_nothing_means_the_default():
    from seqlab.cli.serve import serve_loader

    def loader_of(*argv: str):
        return serve_loader(build_parser().parse_args(["serve", "some/run", *argv]))

    assert loader_of() is None
    assert loader_of("--int8").keywords == {"int8": True}
    assert loader_of("--no-int8", "--no-verify").keywords == {"verify": False, "int8": False}
