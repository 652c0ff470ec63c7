"""The built-in campaign plugins: the eight annexes of 南委发〔2020〕78号 plus the main plan.

Each subpackage is an ordinary plugin registered under ``[project.entry-points.qingdan]`` and loaded
through the same path as a third-party package; none imports another.
"""
