"""Take a trained model where Python does not run: an ONNX graph, or a static web page.

``export_onnx`` (``onnx_graph.py``, needs the ``[onnx]`` extra, imported only when called) and
``export_web`` (``static_site.py``, no extra) both start from ``exportable_model``
(``exportable.py``), which checks once that the model fits what the export can represent and
reads what both carry along: architecture, dataset and class names, test accuracy, calibration.
"""

from .exportable import ExportableModel, exportable_model
from .onnx_graph import export_onnx
from .static_site import export_web

__all__ = ["ExportableModel", "exportable_model", "export_onnx", "export_web"]
