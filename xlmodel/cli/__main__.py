"""``python -m xlmodel.cli``: the same as the ``xlmodel`` command."""

from .app import main

if __name__ == "__main__":  # pragma: no cover
    main()
