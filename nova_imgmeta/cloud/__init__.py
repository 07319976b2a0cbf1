"""The operator commands' clients: Keystone authentication, and the few
Glance image and Nova compute API calls they make.

No OpenStack client is imported at import time: the clients come with the
``cli`` extra and are imported inside the functions that need them.
"""
