"""``digitnet export``: the model as an ONNX file, a static web page, or both."""

from __future__ import annotations

from pathlib import Path


def add_parser(commands) -> None:
    export = commands.add_parser(
        "export", help="the model as an ONNX file (--onnx) or a static page that needs no Python (--web)"
    )
    export.add_argument("model", metavar="MODEL", help="model file (.safetensors) to export")
    export.add_argument("--onnx", metavar="FILE", help="write the network as an ONNX graph (needs digitnet[onnx])")
    export.add_argument("--web", metavar="DIR", help="write a static site: page, script, weights (DIR: new or empty)")
    export.set_defaults(run=run_export, parser=export)


def run_export(args) -> int:
    from ..export import export_onnx, export_web
    from ..persistence import load_model

    if not (args.onnx or args.web):
        args.parser.error("say what to write: --onnx FILE, --web DIR, or both")
    model = load_model(args.model)
    if args.onnx:
        written = export_onnx(model, args.onnx)
        print(f"wrote {written} ({size(written)}): ONNX graph of {model.path.name}, input 'pixels' (N, 784) 0..255")
    if args.web:
        files = export_web(model, args.web)
        total = sum(path.stat().st_size for path in files)
        print(f"wrote {args.web}: a static page for {model.path.name}, {len(files)} files, {total:,} bytes")
        for path in files:
            print(f"  {path.name} ({size(path)})")
        print(f"serve it with any static host, for example: python -m http.server --directory {args.web}")
    return 0


def size(path: Path) -> str:
    return f"{path.stat().st_size:,} bytes"
