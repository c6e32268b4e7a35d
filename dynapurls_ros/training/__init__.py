"""Training and zero-shot evaluation on skeleton datasets (no ROS)."""
