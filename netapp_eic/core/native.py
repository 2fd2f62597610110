# Licensed under the Apache License, Version 2.0 (see LICENSE).
"""Long blocking work (hashing a whole image file) off eventlet's hub.

cinder-volume runs under eventlet unless it was started with native
threads: a ``threading.Thread`` is then a green thread, and a file read or
a hash update never yields. Hashing a 40 GiB image would stop the whole
service for about a minute: other creates, the service heartbeat, and the
RPC connection's heartbeat, which RabbitMQ drops after 60 s by default.
Under eventlet the work runs in one of eventlet's native worker threads
(``tpool``), where file reads and ``hashlib`` release the GIL, while the
calling green thread waits without blocking the others. Without eventlet
(native threading mode, the command line, tests) it runs in place.

Work that runs there and needs a thread of its own (the hashing's reader)
starts it with :func:`os_thread` and passes it data through
:func:`os_queue`: a green thread, lock or queue used from a native thread
would wait for a hub that does not run there, forever.
"""

import queue
import sys
import threading
from collections.abc import Callable
from typing import Any, TypeVar

_T = TypeVar('_T')


def green_threads() -> bool:
    """Whether eventlet has patched ``threading`` in this process.

    Not oslo.utils' ``eventletutils.is_monkey_patched``: that module
    imports eventlet (and its deprecation warning) into every process that
    imports it, the command line and the core's tests included; this only
    asks an eventlet that is already there.
    """
    patcher = sys.modules.get('eventlet.patcher')
    return bool(patcher is not None and patcher.is_monkey_patched('thread'))


def call(func: Callable[..., _T], *args: object) -> _T:
    """``func(*args)`` in a native thread when this process runs green
    threads, else here; its exception is raised here either way."""
    if not green_threads():
        return func(*args)
    from eventlet import tpool  # present: eventlet patched this process
    result: _T = tpool.execute(func, *args)
    return result


def _original(name: str, module: Any) -> Any:
    """The module ``name`` as it was before eventlet patched this process
    (``module`` when it did not)."""
    if not green_threads():
        return module
    from eventlet import patcher
    return patcher.original(name)


def os_thread(target: Callable[[], object], name: str) -> threading.Thread:
    """A daemon thread of the operating system running ``target``, not
    started, that native threads (see :func:`call`) can start and join:
    made from eventlet's saved ``threading`` when it patched this process,
    else from ``threading``."""
    thread: threading.Thread = _original('threading', threading).Thread(
        target=target, name=name, daemon=True)
    return thread


def os_queue() -> 'queue.SimpleQueue[Any]':
    """A queue between native threads (see :func:`call`): the C
    ``SimpleQueue``, which eventlet replaces with a green one. Its ``put``
    never blocks, so a green thread may put into it; only native threads
    may ``get``."""
    made: queue.SimpleQueue[Any] = _original('queue', queue).SimpleQueue()
    return made
