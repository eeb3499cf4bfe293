"""The GPU device kit behind ``scripts/device_sweep.py`` (``docs/gpu.md``): a lent machine gets a
copy of the working tree plus a few carried folders, runs the benchmark under a wall-clock guard,
and sends back one small archive.

Modules, in the order a session uses them: :mod:`~dtml.device.travel` (here, before: what a call
sends, the export cut into parts that fit), :mod:`~dtml.device.machine` (there: what outlives a
call on a warm machine, wheels, the parts joined, the machine and the commit),
:mod:`~dtml.device.runner` (which runs start, the guarded sweep, each run's progress),
:mod:`~dtml.device.figures` (Figures 2-3 when their runs are done), :mod:`~dtml.device.pack`
(the archive that comes back, and unpacking it here), :mod:`~dtml.device.session` (the two calls,
``prepare`` and ``run``) and :mod:`~dtml.device.log` (the lines printed and logged).
Nothing is imported here: the device lacks packages that other parts of ``dtml`` import.
"""
