"""Start an IPython kernel that dies with the build worker that started it.

Run as a script (``python .../kernel_launcher.py -f CONNECTION_FILE``) by the
kernel specification the build writes into its cache (see
:func:`helpers.publish.build.worker.kernel_spec`); it does what
``python -m ipykernel_launcher`` does, after :func:`lifeline.die_with_parent`.
The ``helpers`` package is not imported here: which ``helpers`` modules a
report imports is part of its cache key.
"""
import importlib.util
import os
import sys

if __name__ == "__main__":
    here = os.path.dirname(os.path.abspath(__file__))
    if sys.path and os.path.abspath(sys.path[0] or ".") == here:
        del sys.path[0]  # this folder holds modules (site.py, ...) that must not shadow the standard library
    spec = importlib.util.spec_from_file_location("_helpers_build_lifeline", os.path.join(here, "lifeline.py"))
    lifeline = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(lifeline)
    parent = os.environ.get("HELPERS_BUILD_WORKER_PID")
    lifeline.die_with_parent(int(parent) if parent and parent.isdigit() else None)
    del importlib, spec, lifeline, parent, here

    from ipykernel import kernelapp as app

    app.launch_new_instance()
