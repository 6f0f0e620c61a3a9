#!/usr/bin/env bash
# GPU check (issue 6): cuDNN training tokens/s of the PTB medium LM and the Multi30k recipe with bf16
# autocast on and off (300 steps each), Multi30k beam-5 and greedy throughput, peak GPU memory.
# Prints a table; writes $OUT/gpu_check.json when OUT is set. Needs nothing from the network.
#
#   bash bench/gpu_check.sh --prepare   # here, once: copies the PTB and Multi30k files into
#                                       # bench/gpu_payload/data (git-ignored) for carrying
#   bash bench/gpu_check.sh             # on the GPU machine (about 3-6 minutes on one H100)
#
# On the lent device machine (see docs/benchmarks.md): run `bash bench/gpu_check.sh` with
# carry ["bench/gpu_payload"]. The device has python3 with a CUDA torch but not this project's
# venv: seqlab is used from the checkout through PYTHONPATH; its other needs (pyyaml, numpy,
# safetensors, sentencepiece, tqdm, matplotlib, sacrebleu) are in that image. PYTHON=... picks
# another interpreter; STEPS=... another step count.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
payload="$repo/bench/gpu_payload"
files=(lm/ptb/ptb.train.txt lm/ptb/ptb.valid.txt
       seq2seq/multi30k/train.en.gz seq2seq/multi30k/train.de.gz
       seq2seq/multi30k/val.en.gz seq2seq/multi30k/val.de.gz
       seq2seq/multi30k/test_2016_flickr.en.gz seq2seq/multi30k/test_2016_flickr.de.gz)

if [[ "${1:-}" == "--prepare" ]]; then
    src="${SEQLAB_DATA:-$repo/../shared/data}"
    for f in "${files[@]}"; do
        mkdir -p "$payload/data/$(dirname "$f")"
        cp "$src/$f" "$payload/data/$f"
    done
    du -sh "$payload"
    echo "carry bench/gpu_payload with the run; then: bash bench/gpu_check.sh"
    exit 0
fi

if [[ -z "${SEQLAB_DATA:-}" ]]; then
    if [[ -f "$payload/data/lm/ptb/ptb.train.txt" ]]; then
        export SEQLAB_DATA="$payload/data"
    elif [[ -f "$repo/.gpudata/lm/ptb/ptb.train.txt" ]]; then  # bench/gpu_recipes.sh's copy
        export SEQLAB_DATA="$repo/.gpudata"
    else
        export SEQLAB_DATA="$repo/../shared/data"
    fi
fi
for f in "${files[@]}"; do
    [[ -f "$SEQLAB_DATA/$f" ]] || { echo "gpu_check: $SEQLAB_DATA/$f missing (run --prepare here and carry bench/gpu_payload)" >&2; exit 2; }
done

py="${PYTHON:-}"
if [[ -z "$py" ]]; then
    if [[ -x "$repo/.venv/bin/python" ]] && "$repo/.venv/bin/python" -c 'import torch,sys; sys.exit(not torch.cuda.is_available())' 2>/dev/null; then
        py="$repo/.venv/bin/python"
    else
        py=python3
    fi
fi
export PYTHONPATH="$repo${PYTHONPATH:+:$PYTHONPATH}"
export PYTHONUNBUFFERED=1
"$py" - <<'PY'
import torch, sys
if not torch.cuda.is_available():
    sys.exit("gpu_check: this python's torch sees no CUDA device")
print(f"torch {torch.__version__}, GPU {torch.cuda.get_device_name(0)}, cuDNN {torch.backends.cudnn.version()}")
import seqlab, yaml, safetensors, sentencepiece, sacrebleu  # noqa: F401  (fail early, before timing)
PY
exec "$py" "$repo/bench/gpu_check.py" --steps "${STEPS:-300}" "$@"
