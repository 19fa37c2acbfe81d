# Mirrors niklas2902/py4godot@4.7-alpha21: py4godot/utils/utils.pyx (`shouldCreateObject`, which
# script_extension/script_extension_helpers.pyx `instantiate_class` sets to False while it runs a
# script class's __init__, so the generated Object.__init__ does not build a second native object).

shouldCreateObject = True
