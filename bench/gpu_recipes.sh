#!/usr/bin/env bash
# One prepared GPU run (a few minutes on one GPU): train the Multi30k recipe under a wall-clock budget
# and score test_2016_flickr with sacreBLEU (beam 5), then cuDNN training tokens/s with bf16 AMP off
# and on for the Multi30k recipe and the PTB medium LM. Data come from $SEQLAB_DATA (default
# ./.gpudata, a copy of ../shared/data/seq2seq/multi30k and lm/ptb made beside the checkout, because
# ../shared does not travel to a lent machine). Results (logs, metrics) go to $OUT.
#   bash bench/gpu_recipes.sh            # M30K_MINUTES=3.5 by default
set -u
OUT=${OUT:-/tmp/gpu_out}; mkdir -p "$OUT"
export PYTHONPATH=$PWD PYTHONUNBUFFERED=1 SEQLAB_DATA=${SEQLAB_DATA:-$PWD/.gpudata}
PY=${PYTHON:-python3}
{ nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv
  $PY -c "import torch; print('torch', torch.__version__, torch.cuda.get_device_name(), 'cudnn', torch.backends.cudnn.version())"
} 2>&1 | tee "$OUT/gpu.txt"
t0=$(date +%s)
$PY -m seqlab train configs/multi30k_en_de_gpu.yaml --run-dir /tmp/m30k \
  --set training.max_minutes="${M30K_MINUTES:-3.5}" 2>&1 | tee "$OUT/m30k_train.log"
echo "multi30k train wall $(( $(date +%s) - t0 )) s" | tee -a "$OUT/m30k_train.log"
cp /tmp/m30k/metrics.jsonl "$OUT/m30k_metrics.jsonl" 2>/dev/null
t1=$(date +%s)
$PY -m seqlab evaluate /tmp/m30k --data multi30k_en_de:test --beam-size 5 2>&1 | tee "$OUT/m30k_test.log"
echo "multi30k test decode (1,000 sentences, beam 5) wall $(( $(date +%s) - t1 )) s" | tee -a "$OUT/m30k_test.log"
for amp in none bf16; do
  $PY -m seqlab train configs/multi30k_en_de_gpu.yaml --run-dir "/tmp/m30k_$amp" --set training.amp=$amp \
    --set training.max_steps=200 --set training.log_every=50 --set training.metric=loss \
    --set training.metric_mode=min 2>&1 | grep -E "step|error|Error" | tail -4 | sed "s/^/m30k amp=$amp: /"
  $PY -m seqlab train configs/ptb_word_medium.yaml --run-dir "/tmp/ptb_$amp" --set training.amp=$amp \
    --set training.max_steps=300 --set training.log_every=50 2>&1 | grep -E "step|error|Error" | tail -4 \
    | sed "s/^/ptb_medium amp=$amp: /"
done 2>&1 | tee "$OUT/amp.log"
