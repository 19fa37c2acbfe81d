# Test stand-in for py4godot, rebuilt from niklas2902/py4godot at tag 4.7-alpha21 (commit
# d8e17428deeb0428587349b663f6da26cd71ef3a, its master). Each module names the py4godot file
# (and function) it mirrors; _engine.py models the Godot engine behaviour py4godot relies on.
# The stand-in is never more forgiving than py4godot: where py4godot would crash or corrupt
# memory it raises _engine.StandinCrash and records the crash. Facts and how they were checked:
# tests/py4godot_standin/FACTS.md. tests/support/addon_env.py puts this package on sys.path.
