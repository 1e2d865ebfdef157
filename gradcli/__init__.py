"""gradcli: a command-line gradient checker and backprop calculator.

The Python API (`gradcli.gradcheck`, `check_layer`, `check_value_class`,
`check_file`) is loaded on first use, so `import gradcli` stays light (no
SymPy, no numpy).
"""

__version__ = "0.1.0"

_API = ("gradcheck", "check_layer", "check_value_class", "check_file")


def __getattr__(name: str):
    if name in _API:
        from gradcli import api

        return getattr(api, name)
    raise AttributeError("module 'gradcli' has no attribute {!r}".format(name))


def __dir__():
    return sorted(list(globals()) + list(_API))
