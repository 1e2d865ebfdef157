"""`gradcli train`: gradient descent over many steps, one run per learning rate.

Modules: `source` (the one adapter to the engine: loss and gradient from an
expression or a YAML spec), `optimizers` (sgd, momentum, adam as PyTorch
defines them), `clipping` (global-norm clipping), `loop` (one run and its
result), `command` (options, runs, exit code), `show` (tables), `plot` (the
text chart), `save` (`--save OUT.yaml`).  Nothing here is imported by
`gradcli --help`.
"""
