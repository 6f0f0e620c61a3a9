"""The long-dependency probe (``seqlab probe``): synthetic tasks whose answer depends on an input seen
``lag`` steps earlier, on which a plain RNN, a GRU and an LSTM are trained and compared by lag."""
