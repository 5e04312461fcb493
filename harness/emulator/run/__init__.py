"""The ways to run the emulator: MiniStack as a local process (``process``, the default), the server that
process and the container run (``server``: MiniStack with the patches applied, on uvicorn), and MiniStack
as a container (``container``). Each offers the ``Emulator`` face of harness/emulator/__init__.py.
"""
