import sys

from .cpu import restart_with_shim


def run() -> None:
    """``python -m tenc`` and the ``tenc`` script: on an AMD CPU, first restart with MKL's fast path (`tenc.cpu`)."""
    restart_with_shim(sys.argv[1:])
    from .cli import main

    sys.exit(main())


if __name__ == "__main__":
    run()
