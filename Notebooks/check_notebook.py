#!/usr/bin/env python3
"""Runs a notebook's code cells top to bottom, headless, and fails on the first error.

    python3 Notebooks/check_notebook.py [NOTEBOOK] [--exec] [--save EXECUTED.ipynb]

With nbclient, nbformat and ipykernel installed, the notebook is executed in a real Jupyter kernel
(as "Run all" would). Otherwise, or with --exec, the code cells are exec'd in order in one
namespace, with matplotlib's non-interactive Agg backend. Either way the working directory is the
current one, so run it from the repository root after `swift run clvs-trace --out demo-out`
(or set CLVS_TRACE_DIR). --save writes the executed notebook with its outputs (figures included;
nbclient only). Exit status 0: every cell ran; 1: a cell failed (its traceback is printed).
"""
import argparse
import json
import os
import sys
import time
import traceback
from pathlib import Path

DEFAULT = Path(__file__).resolve().parent / "read_trace.ipynb"


def run_with_nbclient(path: Path, save: Path | None) -> None:
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, timeout=300, kernel_name="python3",
                            resources={"metadata": {"path": os.getcwd()}})
    client.execute()  # raises CellExecutionError naming the cell and carrying its traceback
    if save is not None:
        tmp = save.with_name(f".{save.name}.partial-{os.getpid()}")
        nbformat.write(nb, tmp)
        os.replace(tmp, save)
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            if out.get("output_type") == "stream" and out.get("name") == "stdout":
                sys.stdout.write(out.get("text", ""))


def run_with_exec(path: Path, save: Path | None) -> None:
    import matplotlib

    matplotlib.use("Agg")  # before the notebook imports pyplot; plt.show() is then a no-op
    cells = json.loads(path.read_text())["cells"]
    namespace = {"__name__": "__main__"}
    for i, cell in enumerate(cells):
        if cell.get("cell_type") != "code":
            continue
        source = cell["source"] if isinstance(cell["source"], str) else "".join(cell["source"])
        code = compile(source, f"{path.name} [cell {i}]", "exec")
        exec(code, namespace)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebook", nargs="?", type=Path, default=DEFAULT)
    parser.add_argument("--exec", action="store_true", help="exec the code cells instead of using a Jupyter kernel")
    parser.add_argument("--save", type=Path, help="write the executed notebook here (nbclient only)")
    args = parser.parse_args()

    mode = "exec"
    if not args.exec:
        try:
            import ipykernel  # noqa: F401
            import nbclient  # noqa: F401
            import nbformat  # noqa: F401
            mode = "nbclient"
        except ImportError:
            pass
    if args.save is not None and mode != "nbclient":
        print("--save needs nbclient, nbformat and ipykernel", file=sys.stderr)
        return 2
    began = time.monotonic()
    try:
        (run_with_nbclient if mode == "nbclient" else run_with_exec)(args.notebook, args.save)
    except Exception:
        traceback.print_exc()
        print(f"FAILED: {args.notebook} ({mode})", file=sys.stderr)
        return 1
    print(f"OK: {args.notebook} ran top to bottom ({mode}, {time.monotonic() - began:.1f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
