"""`python -m admin`."""

from admin.main import main

main()
