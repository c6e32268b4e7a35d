"""launch_testing of the installed recognize.launch.py, run by ``launch_test`` from
test_launch.py (not collected by pytest: launch_testing runs it, with its own runner).

The launch file is included as a user's launch file would include it, with launch
arguments; the active tests wait for what the node logs once it listens and once its
vocabulary is encoded, and the post-shutdown test checks that the node exited cleanly
when launch stopped it.
"""

import os
import unittest

import launch_testing
import launch_testing.actions
import launch_testing.asserts
from ament_index_python.packages import get_package_share_directory
from launch.actions import IncludeLaunchDescription
from launch.launch_description_sources import PythonLaunchDescriptionSource

from launch import LaunchDescription

LAUNCH_FILE = os.path.join(
    get_package_share_directory("dynapurls_ros"), "launch", "recognize.launch.py"
)
STARTUP_S = 120.0


def generate_test_description():
    include = IncludeLaunchDescription(
        PythonLaunchDescriptionSource(LAUNCH_FILE),
        launch_arguments={
            "namespace": "/launch_testing",
            "input_type": "pose_array",
            "input_topic": "/person_pose",
            "layout": "coco17",
        }.items(),
    )
    return LaunchDescription([include, launch_testing.actions.ReadyToTest()])


class TestRecognizerComesUp(unittest.TestCase):
    def test_node_listens_to_the_launch_arguments(self, proc_output):
        proc_output.assertWaitFor("listening to /person_pose (pose_array)", timeout=STARTUP_S)

    def test_vocabulary_becomes_active(self, proc_output):
        proc_output.assertWaitFor(
            "vocabulary active: wave, clap, point, bow, drink, sit down, fall down",
            timeout=STARTUP_S,
        )


@launch_testing.post_shutdown_test()
class TestRecognizerStops(unittest.TestCase):
    def test_node_exits_cleanly(self, proc_info):
        launch_testing.asserts.assertExitCodes(proc_info)
