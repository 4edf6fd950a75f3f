"""The command lines: absl flags -> a config -> one library call.

The top-level `download.py`, `trainer.py` and `evaler.py` (and the console
scripts `ssgan-download`, `ssgan-train`, `ssgan-eval`) call `main()` here.
"""
