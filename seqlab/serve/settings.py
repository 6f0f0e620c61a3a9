"""The server's settings: where it listens, who may call it, and the limits every request meets.

Every default is defined once, here. ``ServeSettings.check()`` lists every invalid value at once;
:func:`validated` raises them as one :class:`~seqlab.errors.ConfigError`.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import os
from dataclasses import dataclass

from seqlab.errors import ConfigError

TOKEN_ENV = "SEQLAB_TOKEN"
MIB = 1024 * 1024


@dataclass(frozen=True)
class ServeSettings:
    """How ``seqlab serve`` runs.

    host, port: where to listen (loopback unless told otherwise).
    token: the bearer token every endpoint but health needs (None: no token asked).
    max_input_tokens: tokens one input text may have (after the model's tokenizer).
    max_output_tokens: tokens a generation or translation may produce.
    max_beam_size: the largest beam (and n-best list) a request may ask for.
    max_batch_size: texts in one request, and texts in one batched model call.
    max_body_bytes: the largest request body; a larger one is refused before it is read.
    decode_timeout_s: seconds a request may wait for its result (queue + decoding) before 504.
    queue_size: requests waiting for the model at once; one more is refused with 429.
    batch_wait_ms: how long the batcher waits for more requests to join a batch.
    drain_timeout_s: on SIGTERM, how long in-flight requests may take to finish.
    read_timeout_s: seconds a client may take to send a whole request (headers and body) once it
        connects or its previous answer ended; a slower one is closed (slowloris).
    insecure: allow a non-loopback ``host`` without a token (anyone who can reach it may call it).
    """

    host: str = "127.0.0.1"
    port: int = 8000
    token: str | None = None
    max_input_tokens: int = 256
    max_output_tokens: int = 256
    max_beam_size: int = 10
    max_batch_size: int = 32
    max_body_bytes: int = MIB
    decode_timeout_s: float = 30.0
    queue_size: int = 256
    batch_wait_ms: float = 5.0
    drain_timeout_s: float = 60.0
    read_timeout_s: float = 20.0
    insecure: bool = False

    def check(self) -> list[str]:
        errors = []
        if not 0 <= self.port <= 65535:
            errors.append(f"port = {self.port}: must be in [0, 65535] (0 picks a free port)")
        for name in (
            "max_input_tokens",
            "max_output_tokens",
            "max_beam_size",
            "max_batch_size",
            "max_body_bytes",
            "queue_size",
        ):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                errors.append(f"{name} = {value!r}: must be an integer >= 1")
        for name in ("decode_timeout_s", "drain_timeout_s"):
            if not getattr(self, name) > 0:
                errors.append(f"{name} = {getattr(self, name)!r}: must be > 0 seconds")
        if not 0 < self.read_timeout_s <= 3600:
            errors.append(f"read_timeout_s = {self.read_timeout_s!r}: must be in (0, 3600] seconds")
        if not 0 <= self.batch_wait_ms <= 1000:
            errors.append(f"batch_wait_ms = {self.batch_wait_ms!r}: must be in [0, 1000]")
        if self.token is not None and len(self.token) < 8:
            errors.append("token: must have at least 8 characters (or give none)")
        if not is_loopback(self.host) and self.token is None and not self.insecure:
            errors.append(
                f"host = {self.host}: other machines could call this server; give a token "
                f"(--token or ${TOKEN_ENV}), or --insecure to serve without one"
            )
        return errors


def is_loopback(host: str) -> bool:
    """Whether ``host`` (a name or address, IPv6 possibly in brackets) is this machine only."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def validated(settings: ServeSettings) -> ServeSettings:
    """``settings`` unchanged, or a ConfigError listing every invalid value."""
    errors = settings.check()
    if len(errors) == 1:
        raise ConfigError(f"invalid server setting: {errors[0]}")
    if errors:
        raise ConfigError("invalid server settings:\n  " + "\n  ".join(errors))
    return settings


def with_env_token(settings: ServeSettings) -> ServeSettings:
    """Take the token from ``$SEQLAB_TOKEN`` when none was given (a command-line token is visible
    to every user of the machine in ``ps``; the environment is not)."""
    if settings.token is None and os.environ.get(TOKEN_ENV):
        return dataclasses.replace(settings, token=os.environ[TOKEN_ENV])
    return settings
