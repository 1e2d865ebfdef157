"""Dense feed-forward networks (the layer form).

- `table`: every activation and loss described once (graph template, stable
  form, the in-place numpy form the finite differences use, the ledger's
  shortcut and derivative text), consistent with the op table;
- `fdcheck`: incremental finite differences of a dense network (full mode);
- `fastcheck`: fast mode for big nets (random directions, sampled entries,
  bisection to the worst entries);
- `numeric`: the layer form's numeric gradients for `check` (a NumericResult);
- `ledger`: the per-layer ledger (delta_k, dW_k, db_k) and the gradient flow.
"""
