"""Child-process entry: ``python -m benchmarks._child MODULE FUNC KWARGS_JSON OUT_PATH``.

Runs ``benchmarks.MODULE.FUNC(**kwargs)`` in a fresh interpreter and writes its returned
dict as JSON to ``OUT_PATH``. Only the standard library is imported before the call, so
memory readings in the child start from a bare interpreter.
"""

import importlib
import json
import os
import sys


def main(argv: list[str]) -> None:
    module, func, kwargs, out = argv
    fn = getattr(importlib.import_module(f"benchmarks.{module}"), func)
    result = fn(**json.loads(kwargs))
    tmp = f"{out}.tmp"
    with open(tmp, "w") as fh:
        json.dump(result, fh)
    os.replace(tmp, out)


if __name__ == "__main__":
    main(sys.argv[1:])
