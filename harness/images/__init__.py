"""Container images: the Docker engine the harness may start (engine), ``docker build`` (build), the AWS
Lambda base image or its offline stand-in (base), the project's function images and pushing them by
digest (project), and image mode of a run (mode).

May import the foundation modules (console, paths, aws, processes, template) only.
"""
