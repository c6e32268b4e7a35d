"""The thin ROS 2 adapter: input adapters, per-person buffers, parameters, the node and a
stand-in tracker (replay).

``inputs``, ``buffers``, ``params`` and ``diagnostics`` hold the logic and import no
rclpy node machinery, so they are unit-tested directly; ``node`` and ``replay`` wire them
to rclpy; ``process`` ends a node run as a child process (tests, benchmarks).
"""
