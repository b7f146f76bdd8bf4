"""The browser demo behind ``digitnet serve``: draw a digit, watch the network read it.

A leaf of the package: it imports the library and nothing in the library imports it.
``api.py`` holds every rule about what a client may send and what it gets back (no HTTP);
``server.py`` puts that behind the standard library's HTTP server; ``static/`` is the page.
"""
