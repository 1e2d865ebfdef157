"""Checking the user's own backward code (`gradcli check-code`, the Python API).

runner.py   parent side: compile the file, run its child, collect the result
child.py    the child process: limits, temporary cwd, captured prints, import, checks
discover.py what in a module is checkable (and why not)
value_battery.py  the micrograd-style Value-class battery
layers.py   layer and loss classes;  pairs.py: f/f_grad and NAME_forward/NAME_backward
arrays.py   central differences of a black-box objective (full, fast, localisation)
make.py     --make / --input / --max-memory, read without evaluating anything
results.py  result dataclasses (to_json, the child-to-parent wire form)
render.py   the Rich report;  command.py: the check-code command as a library call
"""
