"""``seqlab compare``: LSTM language model vs Seq2Seq (no attention, Bahdanau, Luong) on one task.

- :mod:`~seqlab.compare.spec` / :mod:`~seqlab.compare.spec_file`: the spec, validated at load, and
  each contender's ordinary config;
- :mod:`~seqlab.compare.run`: train every contender (one process each), resume, gather results;
- :mod:`~seqlab.compare.worker`: one contender: train, decode, measure, ``result.json``;
- :mod:`~seqlab.compare.lm_sep`: the language-model contender over ``source <sep> target``;
- :mod:`~seqlab.compare.measure`: quality, speed, length buckets, repetition, attention examples;
- :mod:`~seqlab.compare.diversity`: distinct-1/2 and the top-10 output share, and their table;
- :mod:`~seqlab.compare.results`, :mod:`~seqlab.compare.verdict`, :mod:`~seqlab.compare.report`,
  :mod:`~seqlab.compare.figures`: ``results.json``, the verdict computed from it, the report.
"""
