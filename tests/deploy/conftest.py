"""tests/deploy: the image, compose and Kubernetes checked without a container engine."""


def pytest_configure(config):
    config.addinivalue_line(
        "markers",
        "slow: builds and installs the image's wheel (about a minute or two); "
        "run by default, `-m 'not slow'` leaves it out",
    )
