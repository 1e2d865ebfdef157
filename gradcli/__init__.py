"""gradcli: a command-line gradient checker and backprop calculator."""

__version__ = "0.1.0"
