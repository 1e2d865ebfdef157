"""Pictures of the computation graph: `gradcli graph` (DOT, Mermaid, SVG, HTML).

model.py holds the neutral picture (boxes and edges with their texts);
build.py fills it from an expression or a YAML spec through adapter.py (the
one module that imports the engine); dot.py, mermaid.py and svg.py print it;
layout.py is gradcli's own layered layout for SVG without Graphviz.
Nothing here imports SymPy; numpy only when the graph has tensors.
"""
from __future__ import annotations

from gradcli.pictures.build import MAX_BOXES, MAX_BOXES_CEILING, from_expression, from_spec
from gradcli.pictures.model import Box, Edge, Picture

__all__ = ["MAX_BOXES", "MAX_BOXES_CEILING", "Box", "Edge", "Picture", "from_expression",
           "from_spec"]
