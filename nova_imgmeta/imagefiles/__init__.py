"""Image files on disk: Nova's image cache on a compute node, the qcow2
header that names an instance disk's base file, and Glance's checksums of
a file.
"""
