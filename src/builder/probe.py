# probe.py: prints "inbuilt-probe X.Y.Z" in Python 2 and 3 alike
# (src/builder/target.c runs it with python -E -s -c TEXT).
import sys; sys.stdout.write('inbuilt-probe %d.%d.%d\n' % tuple(sys.version_info[:3]))
