"""`python -m generator` runs the dashgen CLI."""

from generator.cli import main

if __name__ == "__main__":
    main()
