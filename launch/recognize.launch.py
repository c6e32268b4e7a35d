"""Start the action recognizer node.

    ros2 launch dynapurls_ros recognize.launch.py \
        input_type:=marker_array input_topic:=/body_tracking_data

Parameters come from ``params_file`` (the installed config/recognize.yaml by default).
``input_topic``, ``input_type``, ``layout`` and ``checkpoint`` override it when given; left
empty they keep the file's values, so a custom params file is never silently undone by
this file's defaults.
"""

import os

from ament_index_python.packages import get_package_share_directory
from launch.actions import DeclareLaunchArgument, OpaqueFunction
from launch.substitutions import LaunchConfiguration
from launch_ros.actions import Node

from launch import LaunchDescription

PACKAGE = "dynapurls_ros"

OVERRIDES = {
    "input_topic": "Skeleton topic of the body tracker (empty: from params_file).",
    "input_type": "skeleton_array, marker_array or pose_array (empty: from params_file).",
    "layout": "Joint layout of skeletons that name none (empty: from params_file).",
    "checkpoint": "Model checkpoint file (empty: from params_file).",
}


def _recognizer(context):
    """The node, with the launch arguments resolved (empty overrides left out)."""
    overrides = {name: LaunchConfiguration(name).perform(context) for name in OVERRIDES}
    parameters = [LaunchConfiguration("params_file").perform(context)]
    given = {name: value for name, value in overrides.items() if value}
    if given:
        parameters.append(given)
    return [
        Node(
            package=PACKAGE,
            executable="recognizer",
            name="action_recognizer",
            namespace=LaunchConfiguration("namespace").perform(context),
            parameters=parameters,
            output="screen",
        )
    ]


def generate_launch_description():
    default_params = os.path.join(get_package_share_directory(PACKAGE), "config", "recognize.yaml")
    return LaunchDescription(
        [
            DeclareLaunchArgument(
                "params_file",
                default_value=default_params,
                description="Parameter file of the node (keyed /** or by its full name).",
            ),
            DeclareLaunchArgument(
                "namespace", default_value="", description="Namespace of the node."
            ),
            *(
                DeclareLaunchArgument(name, default_value="", description=text)
                for name, text in OVERRIDES.items()
            ),
            OpaqueFunction(function=_recognizer),
        ]
    )
