"""A pytest plugin of the harness (bench/docker-py-suite.ts), not of docker-py's suite.

docker-py's conftest pulls the suite's base image (alpine:3.10) once per session, but some tests
remove every unused image (prune_images with dangling=False) or the image itself, and the tests
after them then fail with "No such image" for a reason that has nothing to do with the engine — on
whichever engine happened to honour the prune. Pulling the image back before each test that finds
it gone keeps every test measuring what it was written to measure, on both engines alike.
"""
import os

import docker
import pytest
from docker.utils import kwargs_from_env

TEST_IMG = 'alpine:3.10'


@pytest.fixture(autouse=True)
def _keep_test_image():
    client = docker.APIClient(version=os.environ.get('DOCKER_TEST_API_VERSION'), **kwargs_from_env())
    try:
        try:
            client.inspect_image(TEST_IMG)
        except docker.errors.NotFound:
            client.pull(TEST_IMG)
    finally:
        client.close()
    yield
