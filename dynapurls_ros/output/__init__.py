"""What the node makes of window predictions for a robot (no ROS): per-person smoothed
labels with hysteresis and the action segments they form."""
