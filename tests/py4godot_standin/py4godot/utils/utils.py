# Mirrors py4godot/utils/utils.pyx at 4.7-alpha21: the module flag `shouldCreateObject`.
# script_extension/script_extension_helpers.pyx `instantiate_class` sets it to False while a
# script class's __init__ runs (so the generated Object.__init__ makes no second engine object)
# and back to True only when __init__ succeeded.

shouldCreateObject = True
