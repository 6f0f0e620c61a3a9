"""``seqlab serve`` (the HTTP server) and ``seqlab export`` (ONNX / TorchScript files)."""

from __future__ import annotations

import argparse

from seqlab.cli.common import add_no_verify_argument
from seqlab.errors import ConfigError


def serve_settings(args: argparse.Namespace):  # noqa: ANN202 - a ServeSettings
    import dataclasses

    from seqlab.serve.settings import ServeSettings, validated, with_env_token

    given = {
        f.name: getattr(args, f.name)
        for f in dataclasses.fields(ServeSettings)
        if getattr(args, f.name, None) is not None
    }
    return validated(with_env_token(ServeSettings(**given)))


def _cmd_serve(args: argparse.Namespace) -> int:
    settings = serve_settings(args)  # checked before the heavy imports

    try:
        from seqlab.serve import parse_model_specs, serve
    except ImportError as exc:
        message = f"seqlab serve needs the serve extra: pip install 'seqlab[serve]' ({exc})"
        raise ConfigError(message) from None
    if args.threads is not None:
        import torch

        torch.set_num_threads(args.threads)
    loader = serve_loader(args)
    return serve(parse_model_specs(args.run_dirs), settings, log_level=args.log_level, loader=loader)


def serve_loader(args: argparse.Namespace):  # noqa: ANN201 - a run directory -> predictor, or None
    """``seqlab.load`` with ``--no-verify`` and ``--int8`` / ``--no-int8`` applied; None: the default."""
    options: dict = {"verify": False} if args.no_verify else {}
    if args.int8 is not None:
        options["int8"] = args.int8
    if not options:
        return None
    from functools import partial

    from seqlab.api import load

    return partial(load, **options)


def _cmd_export(args: argparse.Namespace) -> int:
    from seqlab.export import export_run, summary

    result = export_run(
        args.run_dir, args.format, args.output, overwrite=args.overwrite, verify=not args.no_verify
    )
    print(f"exported {args.run_dir} as {args.format}:")
    for line in summary(result):
        print(f"  {line}")
    return 0


def _add_serve_parser(sub: argparse._SubParsersAction) -> None:
    from seqlab.serve.settings import TOKEN_ENV, ServeSettings

    d = ServeSettings()
    p = sub.add_parser(
        "serve",
        help="serve trained run directories over HTTP (JSON API, OpenAPI schema, web page at /)",
        description="Serve run directories by name (NAME=DIR to rename one). Binds 127.0.0.1 unless "
        "--host says otherwise (another host needs a token, or --insecure); SIGTERM drains requests "
        "in flight and exits 0.",
    )
    p.add_argument("run_dirs", nargs="+", metavar="DIR", help="a trained run directory, or NAME=DIR")
    p.add_argument("--host", help=f"address to listen on (default {d.host}: this machine only)")
    p.add_argument("--port", type=int, help=f"port (default {d.port})")
    p.add_argument(
        "--token",
        help=f"require 'Authorization: Bearer TOKEN' on every endpoint but health (default ${TOKEN_ENV}; "
        "the environment variable keeps it out of the process list)",
    )
    limits = (
        ("--max-input-tokens", int, d.max_input_tokens, "tokens in one input text"),
        ("--max-output-tokens", int, d.max_output_tokens, "tokens one generation or translation may produce"),
        ("--max-beam-size", int, d.max_beam_size, "beam size (and n-best) a request may ask for"),
        ("--max-batch-size", int, d.max_batch_size, "texts per request and per batched model call"),
        ("--max-body-bytes", int, d.max_body_bytes, "request body size; larger bodies get 413 unread"),
        ("--decode-timeout", float, d.decode_timeout_s, "seconds a request may take before 504"),
        ("--queue-size", int, d.queue_size, "requests waiting at once; more get 429"),
        ("--batch-wait-ms", float, d.batch_wait_ms, "how long a batch waits for more requests"),
        ("--drain-timeout", float, d.drain_timeout_s, "on SIGTERM, seconds in-flight requests may take"),
        ("--read-timeout", float, d.read_timeout_s, "seconds a client may take to send a whole request"),
    )
    for flag, kind, default, text in limits:
        dest = flag[2:].replace("-", "_") + ("_s" if flag.endswith("-timeout") else "")
        shown = f"{default:g}" if kind is float else str(default)
        p.add_argument(flag, type=kind, dest=dest, metavar="N", help=f"{text} (default {shown})")
    p.add_argument(
        "--insecure",
        action="store_true",
        help="allow a --host other than loopback without a token (anyone who reaches it may call it)",
    )
    p.add_argument("--threads", type=int, help="torch threads for the model (default: torch's choice)")
    p.add_argument(
        "--int8",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="Seq2Seq runs decode with int8 matrix products (CPU, LSTM); a run it does not apply to "
        "fails to load, saying why (default: each run's decoding.int8)",
    )
    p.add_argument(
        "--log-level", choices=("debug", "info", "warning", "error"), default="info", help="(default info)"
    )
    add_no_verify_argument(p)
    p.set_defaults(func=_cmd_serve)


def add_parsers(sub: argparse._SubParsersAction) -> None:
    """The ``serve`` and ``export`` verbs."""
    _add_serve_parser(sub)

    p = sub.add_parser(
        "export", help="export a trained model to ONNX or TorchScript, with its vocabularies as JSON"
    )
    p.add_argument("run_dir", help="a trained run directory")
    p.add_argument("--format", choices=("onnx", "torchscript"), required=True, help="the file format")
    p.add_argument(
        "-o",
        "--output",
        required=True,
        help="a new or empty folder for the model files and seqlab_export.json",
    )
    p.add_argument(
        "--overwrite",
        action="store_true",
        help="write into a folder that already holds files, replacing those of the same names",
    )
    add_no_verify_argument(p)
    p.set_defaults(func=_cmd_export)
