"""The language-model verbs: ``seqlab generate``, ``predict-next`` and ``score``."""

from __future__ import annotations

import argparse

from seqlab.cli.common import add_no_verify_argument, load_for, read_text_lines
from seqlab.ranges import DIVERSITY_STRENGTH, REPETITION_PENALTY, TEMPERATURE, TOP_P


def _cmd_generate(args: argparse.Namespace) -> int:
    from seqlab.cli.seq2seq import check_ranged_flags

    check_ranged_flags(args)
    predictor = load_for("generate", args.run_dir, "language_model", verify=not args.no_verify)
    texts = predictor.generate(
        args.prompt,
        args.max_tokens,
        greedy=args.greedy,
        temperature=args.temperature,
        top_k=args.top_k,
        top_p=args.top_p,
        repetition_penalty=args.repetition_penalty,
        no_repeat_ngram=args.no_repeat_ngram,
        min_length=args.min_length,
        seed=args.seed,
        stop_at_eos=args.stop_at_eos,
        num_samples=args.num_samples,
        allow_unk=args.allow_unk,
        beam_size=args.beam,
        diverse_groups=args.diverse_groups,
        diversity_strength=args.diversity_strength,
    )
    for i, text in enumerate(texts):
        if len(texts) > 1:
            print(f"--- sample {i + 1}")
        print(text)
    return 0


def _cmd_predict_next(args: argparse.Namespace) -> int:
    predictor = load_for("predict-next", args.run_dir, "language_model", verify=not args.no_verify)
    for token, prob in predictor.predict_next(args.text, top_k=args.top_k):
        print(f"{prob:8.4f}  {token}")
    return 0


def _cmd_score(args: argparse.Namespace) -> int:
    predictor = load_for("score", args.run_dir, "language_model", verify=not args.no_verify)
    lines = read_text_lines(args.file)
    total_lp, total_tokens = 0.0, 0
    print("logprob\ttokens\tperplexity\tline")
    for item in predictor.score(lines):
        total_lp += item.logprob
        total_tokens += item.tokens
        print(f"{item.logprob:.4f}\t{item.tokens}\t{item.perplexity:.2f}\t{item.text}")
    if total_tokens:
        import math

        ppl = math.exp(-total_lp / total_tokens)
        print(f"# total: {len(lines)} lines, {total_tokens} tokens, perplexity {ppl:.2f}")
    return 0


def add_parsers(sub: argparse._SubParsersAction) -> None:
    """The ``generate``, ``predict-next`` and ``score`` verbs."""
    p = sub.add_parser("generate", help="generate text from a language model")
    p.add_argument("run_dir")
    p.add_argument("--prompt", default="", help="text to continue (default: start of a line)")
    p.add_argument("--max-tokens", type=int, default=100, help="tokens to generate (default 100)")
    p.add_argument("--greedy", action="store_true", help="argmax decoding instead of sampling")
    p.add_argument("--temperature", type=float, help=f"divide logits by T, {TEMPERATURE.text}; <1 sharper")
    p.add_argument("--top-k", type=int, help="sample among the K most likely tokens")
    p.add_argument(
        "--top-p", type=float, help=f"nucleus sampling: smallest set with probability >= P, {TOP_P.text}"
    )
    p.add_argument(
        "--repetition-penalty",
        type=float,
        help=f"penalise tokens already generated, {REPETITION_PENALTY.text}",
    )
    p.add_argument("--no-repeat-ngram", type=int, help="never repeat an n-gram of this size")
    p.add_argument("--min-length", type=int, help="no end-of-line before this many tokens")
    p.add_argument("--seed", type=int, help="random seed for reproducible sampling")
    p.add_argument("--num-samples", type=int, default=1, help="how many continuations (default 1)")
    p.add_argument("--stop-at-eos", action="store_true", help="stop each sample at its first line end")
    p.add_argument("--allow-unk", action="store_true", help="let the model produce <unk> (banned by default)")
    p.add_argument("--beam", type=int, default=1, help="beam search of this width (default 1: no beam)")
    p.add_argument(
        "--diverse-groups",
        type=int,
        default=1,
        help="with --beam: diverse beam search in G groups (G must divide the width; default 1: plain beam)",
    )
    p.add_argument(
        "--diversity-strength",
        type=float,
        default=0.0,
        help=f"with --diverse-groups: lower a token by this x the earlier groups that chose it at the "
        f"same step, {DIVERSITY_STRENGTH.text}",
    )
    add_no_verify_argument(p)
    p.set_defaults(func=_cmd_generate)

    p = sub.add_parser("predict-next", help="the most likely next tokens, with probabilities")
    p.add_argument("run_dir")
    p.add_argument("text", help='the context, e.g. "the cat sat on the"')
    p.add_argument("--top-k", type=int, default=5, help="how many tokens to list (default 5)")
    add_no_verify_argument(p)
    p.set_defaults(func=_cmd_predict_next)

    p = sub.add_parser("score", help="log-probability and perplexity of each line of a file")
    p.add_argument("run_dir")
    p.add_argument("file", help="UTF-8 text, one item per line")
    add_no_verify_argument(p)
    p.set_defaults(func=_cmd_score)
