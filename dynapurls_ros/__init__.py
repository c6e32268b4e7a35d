"""DynaPURLS for ROS 2: zero-shot skeleton-based action recognition.

Layers, each usable without the next: ``skeleton`` / ``datasets`` (data) ->
``model`` / ``text`` (networks) -> ``recognizer`` (inference, no ROS) -> ``ros`` (node).
"""

# The generated ROS 2 messages (``dynapurls_ros.msg``) are installed by the message
# build into another ``dynapurls_ros`` directory (an ament prefix's site-packages).
# Extending ``__path__`` lets the source tree and that directory form one package, so
# ``import dynapurls_ros`` and ``from dynapurls_ros.msg import ActionLabel`` both work.
from pkgutil import extend_path

__path__ = extend_path(__path__, __name__)

__version__ = "0.1.0"
