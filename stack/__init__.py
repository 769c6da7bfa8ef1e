"""The local reference stack: real servers and exporters on loopback.

`python -m stack.run` starts it, `python -m stack.run stop` stops a running one;
tests/e2e drive it through `stack.run.Stack`.
"""
