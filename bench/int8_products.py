"""int8 against float32 for single products and for the encoder's LSTM, at the decoder's shapes.

Rows ``[R, K] x [K, N]``: R rows (greedy: the batch, 64; beam 5: 5 x 64 = 320), K inputs, N outputs,
the shapes of the decoder's step product (``[step input; h] -> 4H``), its attentional layer and its
output layer, for the G2P contenders (H 192) and the peers benchmark's model (H 512, input feeding,
2,000 words). Columns: float32 ``torch.addmm``; seqlab's int8 product (fixed input scale,
``seqlab.models.int8_products``); PyTorch's dynamic int8 product (``quantized::linear_dynamic``, the
input's scale from the whole batch); each as microseconds per call and the float32 / int8 ratio,
the median over ``--repeats`` rounds of ``--calls`` calls.

Then PyTorch's int8 LSTM (``quantize_dynamic`` on ``nn.LSTM``) against ``nn.LSTM`` on a packed,
bidirectional batch: what int8 would give the encoder. ``--onnxruntime`` adds ONNX Runtime's
float32 ``MatMul`` and its dynamically quantized one (``onnxruntime.quantization.quantize_dynamic``,
per-channel int8 weights) for the same products, one session call each (the ``export`` extra).

    .venv/bin/python bench/int8_products.py                      # 1 thread, ~1 min
    .venv/bin/python bench/int8_products.py --threads 2 --out bench/results/int8_products_2threads.json
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
import warnings
from collections.abc import Callable
from functools import partial
from pathlib import Path

import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence

from seqlab.models.int8_products import int8_linear, pack_weight

PRODUCTS = [
    # (what, rows, K, N)
    ("G2P step, greedy", 64, 192, 768),
    ("G2P step, beam 5", 320, 192, 768),
    ("G2P combine, beam 5", 320, 448, 192),
    ("G2P output, beam 5", 320, 192, 45),
    ("peers step, greedy", 64, 1024, 2048),
    ("peers step, beam 5", 320, 1024, 2048),
    ("peers combine, beam 5", 320, 1024, 512),
    ("peers output, beam 5", 320, 512, 2000),
]
ENCODERS = [
    # (what, embedding, hidden per direction, batch, source length)
    ("G2P encoder", 48, 128, 64, 9),
    ("peers encoder layer", 256, 256, 64, 14),
]


def median_us(fn: Callable[[], object], calls: int, repeats: int) -> float:
    fn()
    rounds = []
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(calls):
            fn()
        rounds.append((time.perf_counter() - start) / calls)
    return statistics.median(rounds) * 1e6


def products(calls: int, repeats: int) -> list[dict]:
    rows = []
    for what, r, k, n in PRODUCTS:
        x = torch.rand(r, k) * 2 - 1
        weight, bias = torch.randn(n, k) * 0.05, torch.randn(n)
        weight_t = weight.t().contiguous()
        packed = pack_weight(weight, bias)
        fp32 = median_us(partial(torch.addmm, bias, x, weight_t), calls, repeats)
        fixed = median_us(partial(int8_linear, x, packed), calls, repeats)
        dynamic = median_us(partial(torch.ops.quantized.linear_dynamic, x, packed, True), calls, repeats)
        rows.append(
            {"what": what, "shape": [r, k, n], "float32_us": fp32, "int8_us": fixed, "dynamic_us": dynamic}
        )
        print(
            f"{what:<22} [{r:3d},{k:4d}]x[{k:4d},{n:4d}] {fp32:9.0f} {fixed:9.0f} {fp32 / fixed:6.2f}x "
            f"{dynamic:9.0f} {fp32 / dynamic:6.2f}x",
            flush=True,
        )
    return rows


def onnxruntime_products(calls: int, repeats: int, threads: int, folder: Path) -> list[dict]:
    """ONNX Runtime's float32 and dynamically quantized int8 MatMul at the same shapes."""
    import numpy as np
    import onnx
    import onnxruntime as ort
    from onnx import TensorProto, helper, numpy_helper
    from onnxruntime.quantization import QuantType, quantize_dynamic

    options = ort.SessionOptions()
    options.intra_op_num_threads = options.inter_op_num_threads = threads
    rows = []
    for what, r, k, n in PRODUCTS:
        weight = numpy_helper.from_array((np.random.randn(k, n) * 0.05).astype(np.float32), "w")
        x = (np.random.rand(r, k) * 2 - 1).astype(np.float32)
        inputs = [helper.make_tensor_value_info("x", TensorProto.FLOAT, [None, k])]
        outputs = [helper.make_tensor_value_info("y", TensorProto.FLOAT, [None, n])]
        graph = helper.make_graph(
            [helper.make_node("MatMul", ["x", "w"], ["y"])], "g", inputs, outputs, [weight]
        )
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
        model.ir_version = 8
        plain, int8 = folder / f"{what}.onnx", folder / f"{what}.int8.onnx"
        onnx.save(model, str(plain))
        quantize_dynamic(str(plain), str(int8), weight_type=QuantType.QInt8, per_channel=True)
        times = []
        for path in (plain, int8):
            session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
            times.append(median_us(partial(session.run, None, {"x": x}), calls, repeats))
        rows.append({"what": what, "shape": [r, k, n], "ort_float32_us": times[0], "ort_int8_us": times[1]})
        print(
            f"{what:<22} ONNX Runtime {times[0]:9.0f} {times[1]:9.0f} {times[0] / times[1]:6.2f}x", flush=True
        )
    return rows


def encoders(calls: int, repeats: int) -> list[dict]:
    rows = []
    for what, e, h, b, s in ENCODERS:
        lstm = nn.LSTM(e, h, batch_first=True, bidirectional=True).eval()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # torch.ao quantization is deprecated
            int8 = torch.ao.quantization.quantize_dynamic(nn.Sequential(lstm), {nn.LSTM}, dtype=torch.qint8)[
                0
            ]
        lengths = torch.randint(s // 2, s + 1, (b,), generator=torch.Generator().manual_seed(0))
        lengths[0] = s
        packed = pack_padded_sequence(torch.randn(b, s, e), lengths, batch_first=True, enforce_sorted=False)
        with torch.no_grad():
            fp32 = median_us(partial(lstm, packed), calls, repeats)
            q = median_us(partial(int8, packed), calls, repeats)
        rows.append({"what": what, "shape": [e, h, b, s], "float32_us": fp32, "int8_us": q})
        print(f"{what:<22} E {e} H {h}x2 B {b} S {s}: {fp32:9.0f} {q:9.0f} {fp32 / q:6.2f}x", flush=True)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--calls", type=int, default=30)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--out", help="JSON file (default: none)")
    parser.add_argument(
        "--onnxruntime", action="store_true", help="also ONNX Runtime's MatMul, float32 and int8"
    )
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    print(
        f"torch {torch.__version__} ({torch.backends.quantized.engine}), {args.threads} thread(s), "
        f"load average {load}"
    )
    print(
        f"{'product':<22} {'shape':<21} {'fp32 us':>9} {'int8 us':>9} {'ratio':>7} {'dyn us':>9} {'ratio':>7}"
    )
    found = {"products": products(args.calls, args.repeats)}
    print(f"\n{'encoder (packed, bidirectional)':<40} {'fp32 us':>9} {'int8 us':>9} {'ratio':>7}")
    found["encoders"] = encoders(max(1, args.calls // 3), args.repeats)
    if args.onnxruntime:
        import tempfile

        print(f"\n{'product':<22} {'':<12} {'fp32 us':>9} {'int8 us':>9} {'ratio':>7}")
        with tempfile.TemporaryDirectory() as folder:
            found["onnxruntime"] = onnxruntime_products(args.calls, args.repeats, args.threads, Path(folder))
    if args.out:
        payload = {"threads": args.threads, "torch": torch.__version__, "load_average": load, **found}
        Path(args.out).write_text(json.dumps(payload, indent=1) + "\n", encoding="utf-8")
        print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
