"""bubblewatch: is the AI build-out repeating the dot-com fiber build-out?

Two floors live in this package: :mod:`bubblewatch.core` (errors, settings,
universe; imported by everything) and :mod:`bubblewatch.app` (command line,
jobs, scheduler; imports everything). This module imports neither.
"""
