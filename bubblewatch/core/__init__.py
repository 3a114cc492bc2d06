"""The ground floor: errors, settings, the universe and terminal output.

It imports nothing of bubblewatch's own outside this package, so every other
package (``db``, ``ingest``, ``indicators``, ``alerts``, ``dashboard`` and the
application in :mod:`bubblewatch.app`) may import it.
"""
