# An operator's own nova-imgmeta policy, packaged on its own: installing this
# distribution next to nova-imgmeta is all it takes (no fork). See
# doc/source/plugins.rst. nova-imgmeta's unit tests install it (tox.ini)
# and load it through its real entry point.
import setuptools

setuptools.setup(
    name='nova-imgmeta-example',
    version='1.0.0',
    description='Example operator policy for nova-imgmeta',
    packages=['nova_imgmeta_example'],
    install_requires=[],  # nova-imgmeta itself is already installed
    entry_points={
        'nova_imgmeta.snapshot_policies': [
            'stamp-project = nova_imgmeta_example.stamp:StampProjectPolicy',
        ],
    },
)
