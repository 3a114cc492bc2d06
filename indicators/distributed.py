"""Fan the per-symbol work of ``bubblewatch compute`` over a Dask cluster.

The driver (:func:`indicators.compute.run_compute`) cuts the symbols into
batches (:mod:`indicators.batch`) and hands them to :func:`run_batches`,
which runs :func:`indicators.batch.run_batch` on Dask ``distributed``
workers: a ``LocalCluster`` of processes (``dask.n_workers`` x
``dask.threads_per_worker``; one single-threaded process per core by default)
when no scheduler is configured, or the scheduler at ``dask.address``
(``BUBBLEWATCH_DASK__ADDRESS=tcp://host:8786``). Workers read and write the
database themselves (one transaction per batch), so every worker must reach
the database URL (PostgreSQL for a cluster of machines).

Inside a worker
---------------
* numba kernels run serially: the worker plugin (:class:`WorkerSetup`) sets
  numba's thread count to 1 (and each task sets it again for its thread:
  numba's setting is per thread), so PSY and LPPLS kernels take their serial
  paths. There is one parallel layer: the cluster.
* Each worker compiles into its own numba cache folder,
  ``<data_dir>/numba-cache/<host>-<worker name>`` (give external workers
  stable names, ``dask worker --name w1``, to keep it across restarts). The
  plugin seeds it from the installation's own cache where one exists (same
  source files, so the same compiled code) and warms the kernels once on a
  small series before the first task.
* Results do not depend on scheduling: every random draw is seeded from the
  parameters (and, in LPPLS, from the end date and window), never from a
  stream shared across symbols.

Failures
--------
An unreachable scheduler is a :class:`~bubblewatch.core.errors.ClusterError`
naming the address within ``dask.connect_timeout_s`` seconds. A worker that
dies mid-batch: Dask runs the batch again on another worker (up to
``distributed.scheduler.allowed-failures`` times); the dead worker's
transaction never committed, and a batch stored twice stores the same values
(upserts), so nothing is written twice. A symbol with bad data fails alone
inside its batch (:mod:`indicators.batch`).
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import shutil
import socket
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from distributed.diagnostics.plugin import WorkerPlugin

from bubblewatch.core.errors import ClusterError

log = logging.getLogger(__name__)

#: Environment of LocalCluster worker processes: one thread per numerical library.
WORKER_ENV = {"NUMBA_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
              "OPENBLAS_NUM_THREADS": "1"}
#: Kernel modules whose numba caches a worker seeds and warms.
KERNEL_MODULES = ("indicators._psy_kernels", "indicators._incremental_kernels",
                  "indicators._lppls_kernels")


class WorkerSetup(WorkerPlugin):
    """Dask worker plugin: per-worker numba cache, one numba thread, warm kernels.

    Parameters
    ----------
    cache_root
        ``<data_dir>/numba-cache``; each worker uses a folder inside it.
    psy_cache
        The PSY critical-value cache folder (``BUBBLEWATCH_CACHE_DIR``), so
        workers share the driver's cache.
    """

    name = "bubblewatch-setup"
    idempotent = True

    def __init__(self, cache_root: str, psy_cache: str | None) -> None:
        self.cache_root = cache_root
        self.psy_cache = psy_cache

    def setup(self, worker: Any) -> None:
        folder = Path(self.cache_root) / _slug(f"{socket.gethostname()}-{worker.name}")
        folder.mkdir(parents=True, exist_ok=True)
        os.environ["NUMBA_CACHE_DIR"] = str(folder)
        os.environ["NUMBA_NUM_THREADS"] = "1"
        if self.psy_cache:
            os.environ["BUBBLEWATCH_CACHE_DIR"] = self.psy_cache
        import numba

        numba.config.CACHE_DIR = str(folder)
        seed_numba_cache(folder)
        numba.set_num_threads(1)
        warm_kernels()

    def teardown(self, worker: Any) -> None:
        return None


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text).strip("_") or "worker"


def seed_numba_cache(folder: Path) -> int:
    """Copy the installation's numba cache files of :data:`KERNEL_MODULES`
    (``__pycache__`` beside the sources) into ``folder``, laid out as numba
    looks for them there; returns the files copied. Missing ones are compiled
    on first use, so an empty source cache is not an error."""
    import importlib.util

    from numba.core.caching import _CacheLocator

    copied = 0
    for mod in KERNEL_MODULES:
        spec = importlib.util.find_spec(mod)
        if spec is None or spec.origin is None:
            continue
        src = Path(spec.origin)
        stem = src.stem
        cache_in_tree = src.parent / "__pycache__"
        if not cache_in_tree.is_dir():
            continue
        dest = folder / _CacheLocator.get_suitable_cache_subpath(str(src))
        for f in cache_in_tree.glob(f"{stem}.*.nb[ic]"):
            target = dest / f.name
            if not target.exists():
                dest.mkdir(parents=True, exist_ok=True)
                shutil.copy2(f, target)
                copied += 1
    return copied


def warm_kernels() -> None:
    """Compile (or load from the cache) the kernels a batch uses, on a small series."""
    import numpy as np

    from indicators._incremental_kernels import end_points_lag0
    from indicators._psy_inputs import standardise
    from indicators.psy import radf

    y = np.cumsum(np.random.default_rng(0).standard_normal(120)) + 50.0
    res = radf(y)
    end_points_lag0(standardise(y.copy()), res.min_window, np.array([119]), np.empty(1),
                    np.empty(1))


def _task(spec: Any, universe: Any) -> Any:
    """One batch on a worker (numba's thread count is per thread: set it here)."""
    from indicators._numba import set_num_threads
    from indicators.batch import run_batch

    set_num_threads(1)
    report = run_batch(spec, universe)
    with contextlib.suppress(ValueError):
        from distributed import get_worker

        report.worker = str(get_worker().name)
    return report


@contextlib.contextmanager
def cluster_client(address: str | None, *, n_workers: int | None, threads_per_worker: int,
                   connect_timeout_s: float, data_dir: Path, psy_cache: str | None,
                   ) -> Iterator[Any]:
    """A ``distributed.Client``: to ``address``, or to a new ``LocalCluster``
    (closed on exit), with :class:`WorkerSetup` registered.

    Raises
    ------
    ClusterError
        The scheduler at ``address`` did not answer within ``connect_timeout_s``.
    """
    import dask
    from distributed import Client, LocalCluster

    cluster = None
    with dask.config.set({"distributed.comm.timeouts.connect": f"{connect_timeout_s}s"}):
        if address:
            try:
                client = Client(address, timeout=connect_timeout_s, set_as_default=False)
            except (OSError, TimeoutError) as exc:
                raise ClusterError(
                    f"cannot reach the Dask scheduler at {address} within {connect_timeout_s:g} "
                    f"s ({type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}); "
                    "start it (`dask scheduler`), fix BUBBLEWATCH_DASK__ADDRESS, or unset it "
                    "to compute on a local cluster") from None
        else:
            workers = n_workers or max(1, os.cpu_count() or 1)
            cluster = LocalCluster(n_workers=workers, threads_per_worker=threads_per_worker,
                                   processes=True, dashboard_address=None,
                                   env=dict(WORKER_ENV), silence_logs=logging.WARNING)
            client = Client(cluster, set_as_default=False)
    try:
        client.register_plugin(WorkerSetup(str(Path(data_dir).resolve() / "numba-cache"),
                                           psy_cache))
        yield client
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def run_batches(client: Any, specs: Sequence[Any], universe: Any) -> Iterator[Any]:
    """Submit every batch and yield their :class:`~indicators.batch.BatchReport`
    as they finish. ``universe`` travels inside each task rather than as
    scattered data: a scattered value lost with a worker killed mid-run
    cancels every task that needs it, while a task that carries its inputs is
    simply run again elsewhere. A batch whose task failed for good (its
    workers kept dying) yields a report with every item failed, naming the
    reason."""
    import uuid

    from distributed import as_completed

    from indicators.batch import BatchReport, ItemOutcome

    run = uuid.uuid4().hex[:8]
    futures = {client.submit(_task, spec, universe, key=f"bubblewatch-batch-{run}-{spec.batch_id}",
                             pure=False): spec for spec in specs}
    for fut in as_completed(list(futures), loop=client.loop):
        spec = futures[fut]
        try:
            yield fut.result()
        except Exception as exc:  # noqa: BLE001 - the batch is lost, its items say why
            msg = f"batch failed on the cluster: {type(exc).__name__}: {exc}".splitlines()[0]
            yield BatchReport(spec.batch_id, [
                ItemOutcome(f"{n}/{k}", "error", 0, msg)
                for n in spec.indicators for k in spec.keys.get(n, ())])
