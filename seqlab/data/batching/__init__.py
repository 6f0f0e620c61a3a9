"""Batching: ids -> tensors: BPTT windows over a stream (``bptt.py``), token-budget buckets and
padding (``buckets.py``), classifier and tagger batches (``labelled.py``), Seq2Seq batches
(``seq2seq.py``)."""
