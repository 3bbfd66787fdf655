"""What generated stubs import from grpcio's utilities."""


def first_version_is_lower(version: str, generated: str) -> bool:
    """Whether the installed grpc is older than the stubs need: never here.
    The channel calls stubs make (``unary_unary``…) are the same in every
    grpcio-tools release, and the host speaks the protocol itself."""
    return False
